"""The grading service as the hub runs it (a real process, its local worker pool, the fake hub for
identities, an LMS stand-in): a learner submits with their server token, reads their own feedback and
nobody else's; only admins see the queue, regrade, redeliver and change limits; the result reaches the LMS, or waits
in the instructor's queue when the LMS refuses it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from types import SimpleNamespace

import httpx
import pytest
from fake_hub import running_fake_hub
from grading_fixtures import REPO, running_lms_stand_in, tar_of

SERVICE, SERVICE_TOKEN = "grading", "grading-service-token"
PREFIX = f"/services/{SERVICE}/"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def service(tmp_path_factory, small_build):
    state = tmp_path_factory.mktemp("grading-service")
    with running_fake_hub(SERVICE, SERVICE_TOKEN) as hub, running_lms_stand_in() as lms:
        tokens = SimpleNamespace(
            ada=hub.add_user("ada", "token-of-ada"),
            bo=hub.add_user("bo", "token-of-bo"),
            cy=hub.add_user("cy", "token-of-cy"),
            lab=hub.add_user("practicum-lab", "token-of-the-lab", kind="service"),
            other_service=hub.add_user("lms", "token-of-the-lms", kind="service"),
        )
        port = free_port()
        env = {
            **os.environ,
            "JUPYTERHUB_SERVICE_NAME": SERVICE, "JUPYTERHUB_API_TOKEN": SERVICE_TOKEN, "JUPYTERHUB_API_URL": hub.api_url,
            "JUPYTERHUB_BASE_URL": "/", "JUPYTERHUB_CLIENT_ID": hub.client_id, "JUPYTERHUB_SERVICE_PREFIX": PREFIX,
            "JUPYTERHUB_SERVICE_URL": f"http://127.0.0.1:{port}", "JUPYTERHUB_OAUTH_CALLBACK_URL": hub.callback_url,
            "JUPYTERHUB_OAUTH_ACCESS_SCOPES": json.dumps(hub.access_scopes),
            "PRACTICUM_GRADING_STATE_DIR": str(state), "PRACTICUM_GRADING_DATASETS": str(small_build),
            "PRACTICUM_GRADING_PROJECTS": str(REPO / "projects"), "PRACTICUM_GRADING_WORKERS": "1",
            "PRACTICUM_GRADING_TRACKING_URI": f"sqlite:///{state / 'mlflow.sqlite'}",
            "PRACTICUM_GRADING_LMS_URL": lms.url, "PRACTICUM_GRADING_LMS_TOKEN": "lms-results-token",
            "PRACTICUM_GRADING_DELIVERY_SECONDS": "0.5", "PRACTICUM_GRADING_PUBLIC_URL": f"http://127.0.0.1:{port}{PREFIX}",
        }
        log = open(state / "service.log", "wb")
        process = subprocess.Popen([sys.executable, "-m", "practicum.grading", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}{PREFIX}"
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(base + "health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            else:
                raise AssertionError((state / "service.log").read_text()[-3000:])
            yield SimpleNamespace(base=base, tokens=tokens, lms=lms, state=state)
        finally:
            process.terminate()
            process.wait(30)
            log.close()


def call(service, method: str, path: str, token: str | None, **kwargs) -> httpx.Response:
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = f"token {token}"
    return httpx.request(method, service.base + path, headers=headers, timeout=60, **kwargs)


def wait_done(service, grading_id: str, token: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        view = call(service, "GET", f"gradings/{grading_id}", token, headers={"Accept": "application/json"}).json()
        if view["state"] in ("done", "failed"):
            return view
        time.sleep(0.5)
    raise AssertionError(f"grading {grading_id} not done: {view}")


def test_a_learner_submits_and_reads_the_feedback_and_the_lms_gets_one_result(service, model_archive):
    answer = call(service, "POST", "submissions?item=ehr_complication_risk", service.tokens.ada, content=model_archive)
    assert answer.status_code == 201, answer.text
    receipt = answer.json()
    assert receipt["attempts_left"]["today"] == 2 and len(receipt["sha256"]) == 64
    view = wait_done(service, receipt["grading_id"], service.tokens.ada)
    assert view["state"] == "done" and view["feedback"]["targets"][0]["metric"] == "auroc"
    page = call(service, "GET", f"gradings/{receipt['grading_id']}", service.tokens.ada)
    assert page.headers["content-type"].startswith("text/html") and "Targets on the hidden test split" in page.text
    deadline = time.monotonic() + 30
    while receipt["grading_id"] not in service.lms.stored and time.monotonic() < deadline:
        time.sleep(0.2)
    delivered = service.lms.stored[receipt["grading_id"]]
    assert delivered["learner"] == "ada" and delivered["feedback_url"].endswith(f"gradings/{receipt['grading_id']}")
    listed = call(service, "GET", "submissions", service.tokens.ada).json()["submissions"]
    assert [s["grading_id"] for s in listed] == [receipt["grading_id"]] and "figures" not in listed[0]["feedback"]
    # Another learner sees nothing of it, not even that it exists.
    other = call(service, "GET", f"gradings/{receipt['grading_id']}", service.tokens.bo)
    missing = call(service, "GET", "gradings/ehr_complication_risk.0000", service.tokens.bo)
    assert other.status_code == missing.status_code == 404 and other.json()["error"]["message"] != ""
    assert call(service, "GET", "submissions", service.tokens.bo).json() == {"submissions": []}


def test_refusals_say_why(service):
    bad = tar_of({"model/conda.yaml": b"x"})
    assert call(service, "POST", "submissions?item=ehr_complication_risk", None, content=bad).status_code == 401
    assert call(service, "POST", "submissions?item=ehr_complication_risk", "forged-token", content=bad).status_code == 401
    refused = call(service, "POST", "submissions?item=ehr_complication_risk", service.tokens.bo, content=bad)
    assert refused.status_code == 400 and "no model/MLmodel" in refused.json()["error"]["message"]
    unknown = call(service, "POST", "submissions?item=nope", service.tokens.bo, content=bad)
    assert unknown.status_code == 404 and "glucose_cgm_forecasting" in unknown.json()["error"]["message"]
    as_service = call(service, "POST", "submissions?item=ehr_complication_risk", service.tokens.lab, content=bad)
    assert as_service.status_code == 403


def test_only_admins_see_the_queue_regrade_and_change_limits(service, model_archive):
    for method, path, body in (("GET", "queue", None), ("POST", "regrade", {"item_id": "ehr_complication_risk"}),
                               ("PUT", "limits/ehr_complication_risk", {"total": 100, "per_day": 100})):
        for token in (service.tokens.ada, service.tokens.other_service):
            assert call(service, method, path, token, json=body).status_code == 403
    changed = call(service, "PUT", "limits/ehr_complication_risk", service.tokens.lab, json={"total": None, "per_day": 1})
    assert changed.status_code == 200
    assert call(service, "PUT", "limits/ehr_complication_risk", service.tokens.lab, json={"per_day": -1}).status_code == 400
    first = call(service, "POST", "submissions?item=ehr_complication_risk", service.tokens.bo, content=model_archive)
    assert first.status_code == 201 and first.json()["attempts_left"] == {**first.json()["attempts_left"], "today": 0, "total": None}
    second = call(service, "POST", "submissions?item=ehr_complication_risk", service.tokens.bo, content=model_archive)
    assert second.status_code == 429 and second.json()["error"]["attempts_left"]["today"] == 0
    assert call(service, "GET", "attempts/ehr_complication_risk", service.tokens.bo).json()["attempts_left"]["today"] == 0
    regraded = call(service, "POST", "regrade", service.tokens.lab, json={"submission_id": first.json()["submission_id"]})
    assert regraded.status_code == 202
    (grading_id,) = regraded.json()["queued"]
    # A grading takes seconds: right after the regrade it is still queued or running, so in the queue.
    queue = call(service, "GET", "queue", service.tokens.lab).json()
    listed = {g["grading_id"]: g for g in queue["gradings"]}
    assert listed[grading_id]["state"] in ("queued", "running") and listed[grading_id]["learner"] == "bo"
    assert wait_done(service, grading_id, service.tokens.bo)["reason"] == "regrade"


def test_a_result_the_lms_refuses_waits_in_the_queue_until_an_admin_redelivers_it(service, model_archive):
    service.lms.refusal = 422
    try:
        receipt = call(service, "POST", "submissions?item=ehr_complication_risk", service.tokens.cy, content=model_archive).json()
        assert wait_done(service, receipt["grading_id"], service.tokens.cy)["state"] == "done"
        deadline = time.monotonic() + 30
        held: list = []
        while not held and time.monotonic() < deadline:
            held = [d for d in call(service, "GET", "queue", service.tokens.lab).json()["refused_deliveries"]
                    if d["grading_id"] == receipt["grading_id"]]
            time.sleep(0.3)
        assert held and "HTTP 422" in held[0]["error"] and held[0]["learner"] == "cy"
        posts = len(service.lms.posts)
        time.sleep(2)  # several delivery rounds: a refused result is not sent again
        assert len(service.lms.posts) == posts
    finally:
        service.lms.refusal = None
    for token in (service.tokens.cy, service.tokens.other_service):
        assert call(service, "POST", "redeliver", token, json={}).status_code == 403
    assert call(service, "POST", "redeliver", service.tokens.lab, json={"grading_ids": "all"}).status_code == 400
    assert call(service, "POST", "redeliver", service.tokens.lab, json={"grading_ids": ["nope"]}).status_code == 404
    answer = call(service, "POST", "redeliver", service.tokens.lab, json={"grading_ids": [receipt["grading_id"]]})
    assert answer.status_code == 202 and answer.json() == {"redelivering": [receipt["grading_id"]]}
    deadline = time.monotonic() + 30
    while receipt["grading_id"] not in service.lms.stored and time.monotonic() < deadline:
        time.sleep(0.2)
    assert service.lms.stored[receipt["grading_id"]]["learner"] == "cy"
    still_held = call(service, "GET", "queue", service.tokens.lab).json()["refused_deliveries"]
    assert receipt["grading_id"] not in [d["grading_id"] for d in still_held]  # others refused meanwhile may wait
