"""The MLflow gateway end to end: a real `mlflow server --app-name basic-auth` (the lab's command), the
gateway process, and a stand-in hub that knows three learners' tokens. Learners act with only their hub
token, as a sandbox would; MLflow's own permissions decide, the gateway decides who is asking."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from tracking_fake_hub import CALLBACK_URL, gateway_environment, running_fake_hub
from tracking_servers import TEST_MAX_BODY, free_port, memory_kib, running_gateway, running_mlflow

from practicum.contracts.grade_result import Direction, TargetOutcome
from practicum.contracts.tracking import MLFLOW_ADMIN_USERNAME, learner_experiment
from practicum.graders.mlflow_records import GradingRecordError, grading_experiment, record_evaluation
from practicum.hub_config import services

ANA, BO = "ana", "bo"
API = "/api/2.0/mlflow"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    state = tmp_path_factory.mktemp("tracking-lab")
    with running_fake_hub() as hub, running_mlflow(state) as mlflow:
        port = free_port()
        tokens = SimpleNamespace(
            ana=hub.add_user(ANA, "token-of-ana"),
            bo=hub.add_user(BO, "token-of-bo"),
            # A token of a real user without the scope to use the MLflow service.
            unscoped=hub.add_user("cy", "token-of-cy-without-access", scopes=["read:users:name!user=cy"]),
            service=hub.add_user("lms", "token-of-the-lms-service", kind="service"),
        )
        with running_gateway(state, mlflow, gateway_environment(hub, port), port) as gateway:
            print(f"MLflow (basic-auth) healthy after {mlflow.started_seconds:.1f} s")
            yield SimpleNamespace(hub=hub, mlflow=mlflow, gateway=gateway, tokens=tokens)


def client(lab, token: str | None = None, **headers: str) -> httpx.Client:
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.Client(base_url=lab.gateway.url, headers=headers, timeout=60, follow_redirects=False)


LEARNER_KERNEL = r"""
import json, mlflow
with mlflow.start_run() as run:
    mlflow.log_metric("val_auroc", 0.91)
    mlflow.log_param("epochs", 3)
    mlflow.log_text("my own notes", "notes/hello.txt")
experiment = mlflow.get_experiment(run.info.experiment_id)
print(json.dumps({"run_id": run.info.run_id, "experiment_id": run.info.experiment_id, "experiment": experiment.name}))
"""


def sandbox_env(lab, learner: str, token: str) -> dict[str, str]:
    """A learner kernel's environment: services.mlflow_sandbox_environment resolved for their spawn."""
    spawner = SimpleNamespace(api_token=token, user=SimpleNamespace(name=learner))
    mlflow_env = services.mlflow_sandbox_environment(lab.gateway.url)
    resolved = {k: v(spawner) if callable(v) else v for k, v in mlflow_env.items()}
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "JUPYTERHUB_"))}
    return {**keep, **resolved}


@pytest.fixture(scope="module")
def ana_run(lab):
    """Ana logs a run from a kernel with a plain mlflow.start_run(), holding only her hub token."""
    done = subprocess.run(
        [sys.executable, "-c", LEARNER_KERNEL], env=sandbox_env(lab, ANA, lab.tokens.ana),
        capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def graded_run(lab):
    """The grader (MLflow's admin, on loopback) records Ana's evaluation."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in lab.mlflow.admin_env().items():
            mp.setenv(key, value)
        run_id = record_evaluation(
            tracking_uri=lab.mlflow.url,
            experiment=grading_experiment("probe_project", ANA),
            run_name="ana attempt 1",
            metrics={"auroc": 0.61},
            targets=(TargetOutcome(metric="auroc", threshold=0.8, direction=Direction.AT_LEAST, value=0.61, met=False, margin=-0.19),),
            params={"project": "probe_project"},
            tags={"practicum.learner": ANA, "practicum.passed": "False"},
            evaluation=None,
            details={"metrics": {"auroc": 0.61}},
            learner=ANA,
        )
    with lab.mlflow.admin() as admin:
        run = admin.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]
    return SimpleNamespace(run_id=run_id, experiment_id=run["info"]["experiment_id"])


def tags_of(lab, run_id: str) -> dict[str, str]:
    with lab.mlflow.admin() as admin:
        run = admin.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]
    return {t["key"]: t["value"] for t in run["data"].get("tags", [])}


# --- a learner's own work -------------------------------------------------------------------------


def test_a_learner_kernel_logs_a_run_into_their_own_experiment_with_only_the_hub_token(lab, ana_run):
    assert ana_run["experiment"] == learner_experiment(ANA) == "learners/ana"
    with lab.mlflow.admin() as admin:
        run = admin.get(f"{API}/runs/get", params={"run_id": ana_run["run_id"]}).json()["run"]
        artifact = admin.get(f"/api/2.0/mlflow-artifacts/artifacts/{ana_run['experiment_id']}/{ana_run['run_id']}/artifacts/notes/hello.txt")
    assert {m["key"]: m["value"] for m in run["data"]["metrics"]} == {"val_auroc": 0.91}
    assert artifact.status_code == 200 and artifact.text == "my own notes"
    # The learner is her experiment's owner in MLflow, nobody else is.
    with client(lab, lab.tokens.bo) as bo:
        assert bo.get(f"{API}/users/current").json()["user"]["username"] == BO  # Bo has an MLflow user too
    with lab.mlflow.admin() as admin:
        held = admin.get("/api/3.0/mlflow/users/permissions/get",
                         params={"username": ANA, "resource_type": "experiment", "resource_id": ana_run["experiment_id"]})
        theirs = admin.get("/api/3.0/mlflow/users/permissions/get",
                           params={"username": BO, "resource_type": "experiment", "resource_id": ana_run["experiment_id"]})
    assert held.json()["permission"] == "MANAGE" and theirs.json()["permission"] == "NO_PERMISSIONS"


def test_mlflow_creates_a_missing_experiment_of_the_learner_on_first_use(lab):
    env = {**sandbox_env(lab, BO, lab.tokens.bo), "MLFLOW_EXPERIMENT_NAME": "learners/bo/augmentation-study"}
    done = subprocess.run([sys.executable, "-c", LEARNER_KERNEL], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])["experiment"] == "learners/bo/augmentation-study"


def test_the_gateway_keeps_each_learners_mlflow_password_to_itself(lab, ana_run):
    users_file = lab.gateway.users_file
    assert users_file.stat().st_mode & 0o777 == 0o600
    assert users_file.parent.stat().st_mode & 0o777 == 0o700
    passwords = json.loads(users_file.read_text())["users"]
    assert {ANA, BO} <= set(passwords) and all(len(p) >= 32 for p in passwords.values())
    # MLflow accepts it (the gateway signs Ana in with it) and MLflow's admin is not in the file.
    with httpx.Client(base_url=lab.mlflow.url, auth=(ANA, passwords[ANA])) as as_ana:
        me = as_ana.get(f"{API}/users/current").json()["user"]
    assert me["username"] == ANA and me["is_admin"] is False
    assert MLFLOW_ADMIN_USERNAME not in passwords


# --- another learner ------------------------------------------------------------------------------------


def test_another_learner_cannot_read_the_experiment_its_runs_or_artifacts(lab, ana_run):
    experiment_id, run_id = ana_run["experiment_id"], ana_run["run_id"]
    with client(lab, lab.tokens.bo) as bo:
        assert bo.get(f"{API}/experiments/get", params={"experiment_id": experiment_id}).status_code == 403
        assert bo.get(f"{API}/experiments/get-by-name", params={"experiment_name": "learners/ana"}).status_code == 403
        assert bo.get(f"{API}/runs/get", params={"run_id": run_id}).status_code == 403
        assert bo.get(f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "val_auroc"}).status_code == 403
        searched = bo.post(f"{API}/runs/search", json={"experiment_ids": [experiment_id]})
        assert searched.status_code in (200, 403) and run_id not in searched.text
        listed = bo.get(f"{API}/experiments/search", params={"max_results": 100})
        assert listed.status_code == 200 and "learners/ana" not in listed.text
        artifact = f"{experiment_id}/{run_id}/artifacts/notes/hello.txt"
        assert bo.get(f"/api/2.0/mlflow-artifacts/artifacts/{artifact}").status_code == 403
        assert bo.get("/api/2.0/mlflow-artifacts/artifacts", params={"path": f"{experiment_id}/{run_id}/artifacts"}).status_code == 403
        assert bo.get("/get-artifact", params={"path": "notes/hello.txt", "run_uuid": run_id}).status_code == 403
        query = {"query": 'query { mlflowGetRun(input: {runId: "' + run_id + '"}) { run { info { runId } } } }'}
        assert run_id not in bo.post("/graphql", json=query).text
    with client(lab, lab.tokens.ana) as ana:  # the same requests work for the owner
        assert run_id in ana.post("/graphql", json=query).text
        assert ana.get(f"{API}/runs/get", params={"run_id": run_id}).status_code == 200
        assert ana.get("/get-artifact", params={"path": "notes/hello.txt", "run_uuid": run_id}).text == "my own notes"


def test_another_learner_cannot_forge_a_passed_tag_or_write_into_the_experiment(lab, ana_run):
    experiment_id, run_id = ana_run["experiment_id"], ana_run["run_id"]
    with client(lab, lab.tokens.bo) as bo:
        assert bo.post(f"{API}/runs/set-tag", json={"run_id": run_id, "key": "practicum.passed", "value": "True"}).status_code == 403
        assert bo.post(f"{API}/runs/log-metric", json={"run_id": run_id, "key": "val_auroc", "value": 0.99, "timestamp": 1}).status_code == 403
        assert bo.post(f"{API}/runs/log-batch", json={"run_id": run_id, "tags": [{"key": "practicum.passed", "value": "True"}]}).status_code == 403
        assert bo.post(f"{API}/runs/create", json={"experiment_id": experiment_id}).status_code == 403
        assert bo.post(f"{API}/runs/delete", json={"run_id": run_id}).status_code == 403
        assert bo.post(f"{API}/experiments/set-experiment-tag", json={"experiment_id": experiment_id, "key": "k", "value": "v"}).status_code == 403
        upload = bo.put(f"/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run_id}/artifacts/notes/hello.txt", content=b"overwritten")
        assert upload.status_code in (403, 502) and upload.status_code != 200
    assert "practicum.passed" not in tags_of(lab, run_id)
    with lab.mlflow.admin() as admin:
        kept = admin.get(f"/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run_id}/artifacts/notes/hello.txt").text
        run = admin.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]
    assert kept == "my own notes"
    assert {m["key"]: m["value"] for m in run["data"]["metrics"]} == {"val_auroc": 0.91}
    assert run["info"]["lifecycle_stage"] == "active"


def test_a_learner_cannot_share_their_experiment_or_reach_mlflow_administration(lab, ana_run):
    grant = {"username": BO, "resource_type": "experiment", "resource_id": ana_run["experiment_id"], "permission": "READ"}
    with client(lab, lab.tokens.ana) as ana:
        assert ana.post("/api/3.0/mlflow/users/permissions/grant", json=grant).status_code == 403
        assert ana.post("/ajax-api/3.0/mlflow/users/permissions/grant", json=grant).status_code == 403
        assert ana.post("/api/3.0/mlflow/users%2Fpermissions/grant", json=grant).status_code == 403
        assert ana.get(f"{API}/users/list").status_code == 403
        assert ana.post(f"{API}/users/create", json={"username": "mallory", "password": "x" * 20}).status_code == 403
        assert ana.patch(f"{API}/users/update-admin", json={"username": ANA, "is_admin": True}).status_code == 403
        assert ana.get("/api/3.0/mlflow/roles/list").status_code == 403
        assert ana.get(f"{API}/registered-models/search").status_code == 403
        assert ana.post(f"{API}/webhooks", json={"name": "w", "url": "http://169.254.169.254/"}).status_code == 403
        assert ana.get("/api/3.0/mlflow/gateway/endpoints/list").status_code == 403
        assert ana.get(f"{API}/runs/%2e%2e/users/list").status_code == 400
        assert ana.get(f"{API}/users/current").json()["user"]["username"] == ANA
    with client(lab, lab.tokens.bo) as bo:
        assert bo.get(f"{API}/experiments/get", params={"experiment_id": ana_run["experiment_id"]}).status_code == 403


def test_experiment_names_of_other_learners_and_of_the_grader_are_reserved(lab, ana_run):
    with client(lab, lab.tokens.ana) as ana:
        for name in ("grading/probe_project/ana", "grading/probe_project/bo", " Grading/x", "learners/bo", "learners/bo/x", "learners"):
            refused = ana.post(f"{API}/experiments/create", json={"name": name})
            assert refused.status_code == 403, name
        assert ana.post("/ajax-api/2.0/mlflow/experiments/create", json={"name": "grading/x/ana"}).status_code == 403
        renamed = ana.post(f"{API}/experiments/update", json={"experiment_id": ana_run["experiment_id"], "newName": "grading/probe_project/ana"})
        assert renamed.status_code == 403
        located = ana.post(f"{API}/experiments/create", json={"name": "learners/ana/elsewhere", "artifact_location": "file:///etc"})
        assert located.status_code == 403
        assert ana.post(f"{API}/experiments/create", content=b"{not json").status_code == 403
        assert ana.post(f"{API}/experiments/create", json={"name": "learners/ana/ablation"}).status_code == 200
        assert ana.post(f"{API}/experiments/create", json={"name": "ana-scratch"}).status_code == 200
    with lab.mlflow.admin() as admin:
        assert admin.get(f"{API}/experiments/get-by-name", params={"experiment_name": "learners/bo/x"}).status_code == 404


# --- graded runs -------------------------------------------------------------------------------------


def permission_of(lab, username: str, experiment_id: str) -> str:
    with lab.mlflow.admin() as admin:
        held = admin.get("/api/3.0/mlflow/users/permissions/get",
                         params={"username": username, "resource_type": "experiment", "resource_id": experiment_id})
    return held.json()["permission"] if held.status_code == 200 else "NO_PERMISSIONS"


def test_a_learner_can_neither_read_nor_change_their_graded_run(lab, graded_run):
    """Full-precision metrics and evaluation.json, read after each attempt, are an oracle of the hidden labels."""
    run_id, experiment_id = graded_run.run_id, graded_run.experiment_id
    for token in (lab.tokens.ana, lab.tokens.bo):
        with client(lab, token) as learner:
            assert learner.get(f"{API}/runs/get", params={"run_id": run_id}).status_code == 403
            assert learner.get(f"{API}/experiments/get", params={"experiment_id": experiment_id}).status_code == 403
            searched = learner.post(f"{API}/runs/search", json={"experiment_ids": [experiment_id]})
            assert searched.status_code == 403 or not searched.json().get("runs")
            artifact = learner.get("/get-artifact", params={"path": "evaluation.json", "run_uuid": run_id})
            assert artifact.status_code != 200 and "0.61" not in artifact.text
            listed = learner.get(f"/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run_id}/artifacts/evaluation.json")
            assert listed.status_code != 200 and "0.61" not in listed.text
            assert learner.post(f"{API}/runs/set-tag", json={"run_id": run_id, "key": "practicum.passed", "value": "True"}).status_code == 403
            assert learner.post(f"{API}/runs/log-metric", json={"run_id": run_id, "key": "auroc", "value": 0.99, "timestamp": 2}).status_code == 403
            assert learner.post(f"{API}/runs/update", json={"run_id": run_id, "status": "FAILED"}).status_code == 403
            assert learner.post(f"{API}/runs/delete", json={"run_id": run_id}).status_code == 403
            assert learner.post(f"{API}/runs/create", json={"experiment_id": experiment_id}).status_code == 403
            assert learner.post(f"{API}/experiments/delete", json={"experiment_id": experiment_id}).status_code == 403
            assert learner.post(f"{API}/experiments/set-experiment-tag",
                                json={"experiment_id": experiment_id, "key": "practicum.grading.seal", "value": "x"}).status_code == 403
            assert learner.put(f"/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run_id}/artifacts/evaluation.json", content=b"{}").status_code != 200
    assert tags_of(lab, run_id)["practicum.passed"] == "False"
    assert permission_of(lab, ANA, experiment_id) == "NO_PERMISSIONS"


def test_the_grader_takes_back_a_grant_made_by_hand_on_the_next_attempt(lab, graded_run):
    with client(lab, lab.tokens.ana) as ana:  # Ana's MLflow user exists once she has used the gateway
        assert ana.get(f"{API}/experiments/search", params={"max_results": 1}).status_code == 200
    with lab.mlflow.admin() as admin:
        granted = admin.post("/api/3.0/mlflow/users/permissions/grant",
                             json={"username": ANA, "resource_type": "experiment", "resource_id": graded_run.experiment_id, "permission": "READ"})
        assert granted.status_code == 200, granted.text
    assert permission_of(lab, ANA, graded_run.experiment_id) == "READ"
    with pytest.MonkeyPatch.context() as mp:
        for key, value in lab.mlflow.admin_env().items():
            mp.setenv(key, value)
        record_evaluation(
            tracking_uri=lab.mlflow.url, experiment=grading_experiment("probe_project", ANA), run_name="ana attempt 2",
            metrics={"auroc": 0.7}, targets=(), params={}, tags={}, evaluation=None, details={}, learner=ANA,
        )
    assert permission_of(lab, ANA, graded_run.experiment_id) == "NO_PERMISSIONS"
    with client(lab, lab.tokens.ana) as ana:
        assert ana.get(f"{API}/runs/get", params={"run_id": graded_run.run_id}).status_code == 403


def test_the_grader_refuses_a_grading_experiment_it_did_not_create(lab):
    with lab.mlflow.admin() as admin:  # a squatter's experiment (the gateway would not let a learner make it)
        assert admin.post(f"{API}/experiments/create", json={"name": grading_experiment("probe_project", "dee")}).status_code == 200
    with pytest.MonkeyPatch.context() as mp:
        for key, value in lab.mlflow.admin_env().items():
            mp.setenv(key, value)
        with pytest.raises(GradingRecordError, match="not created by the grader"):
            record_evaluation(
                tracking_uri=lab.mlflow.url, experiment=grading_experiment("probe_project", "dee"), run_name="dee",
                metrics={}, targets=(), params={}, tags={}, evaluation=None, details={}, learner="dee",
            )
        mp.setenv("MLFLOW_TRACKING_PASSWORD", "not-the-admin-password")
        with pytest.raises(GradingRecordError, match="credentials"):
            record_evaluation(
                tracking_uri=lab.mlflow.url, experiment=grading_experiment("probe_project", ANA), run_name="x",
                metrics={}, targets=(), params={}, tags={}, evaluation=None, details={}, learner=ANA,
            )


# --- who is asking ----------------------------------------------------------------------------------


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def test_requests_without_a_hub_identity_are_refused(lab):
    admin_basic = basic(MLFLOW_ADMIN_USERNAME, lab.mlflow.admin_password)
    path = f"{API}/experiments/search"
    with client(lab) as nobody:
        assert nobody.get(path).status_code == 401
        assert nobody.get(path, headers={"Authorization": "Bearer not-a-hub-token"}).status_code == 401
        # Even MLflow's real admin credentials mean nothing to the gateway.
        assert nobody.get(path, headers={"Authorization": admin_basic}).status_code == 401
        assert nobody.get(path, params={"token": lab.tokens.ana}).status_code == 401  # no tokens in URLs
        assert nobody.get(path, headers={"Authorization": f"Bearer {lab.tokens.unscoped}"}).status_code == 403
        assert nobody.get(path, headers={"Authorization": f"Bearer {lab.tokens.service}"}).status_code == 403
        assert nobody.get("/health").status_code == 200  # the one open route: gateway and MLflow answer
    assert lab.tokens.ana not in lab.gateway.log.read_text()  # a token sent in a URL is not logged either


@contextmanager
def oauth_login(lab, token: str) -> Iterator[httpx.Client]:
    """A browser's hub login: the gateway redirects to the hub, the hub redirects back with a code."""
    with client(lab) as browser:
        yield _logged_in(lab, browser, token)


def _logged_in(lab, browser: httpx.Client, token: str) -> httpx.Client:
    first = browser.get("/", headers={"Sec-Fetch-Mode": "navigate"})
    assert first.status_code == 302
    location = urlsplit(first.headers["location"])
    assert location.path == "/hub/api/oauth2/authorize"
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["redirect_uri"] == CALLBACK_URL
    lab.hub.codes["code-" + token] = (query["code_challenge"], token)
    back = browser.get("/oauth_callback", params={"code": "code-" + token, "state": query["state"]})
    assert back.status_code == 302, back.text
    return browser


def test_the_ui_loads_through_the_gateway_after_a_hub_login(lab, ana_run):
    with oauth_login(lab, lab.tokens.ana) as browser:
        page = browser.get("/", headers={"Sec-Fetch-Mode": "navigate"})
        assert page.status_code == 200 and "<title>MLflow</title>" in page.text
        script = re.search(r'src="(static-files/[^"]+\.js)"', page.text).group(1)
        assert browser.get("/" + script).status_code == 200
        same_origin = {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"}
        runs = browser.post("/ajax-api/2.0/mlflow/runs/search", json={"experiment_ids": [ana_run["experiment_id"]]}, headers=same_origin)
        assert runs.status_code == 200 and ana_run["run_id"] in runs.text
        # A cross-site page cannot ride on the cookie.
        cross = browser.post("/ajax-api/2.0/mlflow/runs/search", json={"experiment_ids": [ana_run["experiment_id"]]},
                             headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors"})
        assert cross.status_code == 401


def test_a_forged_authorization_header_is_replaced_by_the_callers_own(lab):
    admin_basic = basic(MLFLOW_ADMIN_USERNAME, lab.mlflow.admin_password)
    with oauth_login(lab, lab.tokens.bo) as browser:
        who = browser.get(f"{API}/users/current", headers={"Authorization": admin_basic, "Sec-Fetch-Site": "same-origin"})
        assert who.status_code == 200
        assert who.json()["user"]["username"] == BO and who.json()["user"]["is_admin"] is False
        assert browser.get(f"{API}/users/list", headers={"Authorization": admin_basic}).status_code == 403


def test_the_gateway_heals_when_mlflow_forgets_a_learners_password(lab, ana_run):
    with lab.mlflow.admin() as admin:
        assert admin.patch(f"{API}/users/update-password", json={"username": ANA, "password": "reset-by-an-operator-123"}).status_code == 200
    with client(lab, lab.tokens.ana) as ana:
        first = ana.get(f"{API}/runs/get", params={"run_id": ana_run["run_id"]})
        assert first.status_code == 503
        assert ana.get(f"{API}/runs/get", params={"run_id": ana_run["run_id"]}).status_code == 200


# --- big artifacts ---------------------------------------------------------------------------------------


def test_a_big_artifact_streams_through_without_the_gateway_holding_it(lab, ana_run):
    size = 30 * 1024 * 1024
    blob = os.urandom(1024 * 1024) * 30
    path = f"/api/2.0/mlflow-artifacts/artifacts/{ana_run['experiment_id']}/{ana_run['run_id']}/artifacts/model/weights.bin"
    with client(lab, lab.tokens.ana) as ana:
        ana.get(f"{API}/users/current")  # warm
        before = memory_kib(lab.gateway.pid)
        assert ana.put(path, content=blob).status_code == 200
        digest = hashlib.sha256()
        with ana.stream("GET", path) as download:
            assert download.status_code == 200
            received = 0
            for chunk in download.iter_raw():
                digest.update(chunk)
                received += len(chunk)
        after = memory_kib(lab.gateway.pid)
    with client(lab, lab.tokens.bo) as bo:  # MLflow refuses Bo's big upload; nobody waits forever
        try:
            status = bo.put(path, content=blob[: 20 * 1024 * 1024]).status_code
        except httpx.TransportError:
            status = None  # the gateway closed the connection after MLflow's answer
    assert status != 200
    assert received == size and digest.hexdigest() == hashlib.sha256(blob).hexdigest()
    with lab.mlflow.admin() as admin:
        assert admin.head(path).headers["content-length"] == str(size)
    grown_mib = (after["VmHWM"] - before["VmHWM"]) / 1024
    print(f"gateway peak RSS {before['VmHWM'] / 1024:.0f} -> {after['VmHWM'] / 1024:.0f} MiB for a {size >> 20} MiB round trip")
    assert grown_mib < 8, f"the gateway's peak memory grew by {grown_mib:.1f} MiB while moving {size >> 20} MiB"
    assert declared_too_big(lab, path.replace("weights", "too-big"), TEST_MAX_BODY + 1).startswith("HTTP/1.1 413")


def declared_too_big(lab, path: str, length: int) -> str:
    """Announce a body over the limit and send none of it: the gateway answers before reading."""
    parts = urlsplit(lab.gateway.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(
            f"PUT {parts.path}{path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {lab.tokens.ana}\r\n"
            f"Content-Length: {length}\r\n\r\n".encode()
        )
        return sock.recv(4096).decode(errors="replace")
