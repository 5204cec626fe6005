"""A hostile learner in a real lab: their kernel tries the host's services, other learners' MLflow runs,
the exchange and the lab's files; the instructors' formgraders are checked from the host.

Runs on the session's shared lab (tests/conftest.py). Every connection targets loopback only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from practicum.contracts.tracking import MLFLOW_ADMIN_USERNAME
from practicum.graders.autograde import AutogradeError
from practicum.graders.mlflow_records import grading_experiment, record_evaluation
from practicum.hub_client import HubClient
from practicum.lab.autograding import autograde_in_lab
from practicum.lab.layout import StateLayout
from practicum.lab.secrets import load_or_create_secrets
from practicum.lab.settings import Ports
from practicum.sandbox.identity import FIRST_UID

pytestmark = pytest.mark.lab

COURSE, ASSIGNMENT = "intro_medical_ai", "welcome"
HOST_SERVICES = {"PostgreSQL": 5432, "Redis": 6379, "RabbitMQ": 5672, "MariaDB": 3306, "Mosquitto": 1883, "NATS": 4222}


@pytest.fixture(scope="module")
def hub(shared_lab):
    with HubClient(shared_lab.state.hub_api_url, shared_lab.state.public_url, shared_lab.token) as client:
        for learner in ("eve", "ann"):
            client.ensure_user(learner)
            client.add_to_group(f"nbgrader-{COURSE}", [learner])
        yield client


@pytest.fixture(scope="module")
def eve(hub):
    """Eve's server, started once for the attacks that run in her kernel."""
    hub.start_server("eve")
    yield lambda code: _json_of(hub.run_code("eve", code, timeout=180))
    hub.stop_server("eve")


def _json_of(result) -> dict:
    assert result.ok, result.error + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _ports(lab) -> Ports:
    return Ports.from_base(lab.base_port)


def test_a_kernel_reaches_the_hub_api_and_the_mlflow_gateway_and_nothing_else(shared_lab, eve):
    ports = _ports(shared_lab)
    lab_ports = {"hub (public)": ports.public, "proxy API": ports.proxy_api, "LMS": ports.lms, "MLflow itself": ports.mlflow,
                 "formgrader": ports.formgrader_base, "hub API": ports.hub_api, "MLflow gateway": ports.mlflow_gateway}
    seen = eve(PORT_PROBE % {"ports": {**HOST_SERVICES, **lab_ports}})
    reachable = {name for name, answer in seen["ports"].items() if answer == "open"}
    assert reachable == {"hub API", "MLflow gateway"}, seen["ports"]
    assert seen["interfaces"] == ["lo"]


PORT_PROBE = """
import json, socket
ports = %(ports)r
answers = {}
for name, port in ports.items():
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        answers[name] = "open"
    except OSError as error:
        answers[name] = str(error)
print(json.dumps({"ports": answers, "interfaces": sorted(name for _, name in socket.if_nameindex())}))
"""


def test_the_servers_token_cannot_administer_the_hub(shared_lab, eve):
    seen = eve(TOKEN_PROBE % {"hub": f"http://127.0.0.1:{_ports(shared_lab).hub_api}/hub/api"})
    assert seen["users"] == 403 and seen["token_for_ann"] in (403, 404) and seen["groups"] == 403
    assert seen["me"] == 200


TOKEN_PROBE = """
import json, os, urllib.request, urllib.error
def status(method, path, body=None):
    request = urllib.request.Request(%(hub)r + path, method=method, data=body,
                                     headers={"Authorization": "token " + os.environ["JUPYTERHUB_API_TOKEN"]})
    try:
        return urllib.request.urlopen(request, timeout=10).status
    except urllib.error.HTTPError as error:
        return error.code
print(json.dumps({"me": status("GET", "/user"), "users": status("GET", "/users"), "groups": status("GET", "/groups"),
                  "token_for_ann": status("POST", "/users/ann/tokens", b"{}")}))
"""


def test_a_kernel_sees_no_lab_state_no_other_home_and_no_secret_system_file(shared_lab, eve):
    state = shared_lab.state_dir
    seen = eve(FILES_PROBE % {"paths": [str(state / "secrets.json"), str(state / "hub" / "jupyterhub.sqlite"),
                                        str(state / "courses" / COURSE / "gradebook.db"), str(state / "homes" / "ann"),
                                        str(Path(__file__).resolve().parents[2] / ".git"), str(Path(__file__).resolve().parents[2] / ".lab")]})
    assert not any(seen["exists"].values()), seen["exists"]
    assert seen["shadow"] == "" and seen["uid"] == 1000 and seen["capabilities"] == "0000000000000000"
    assert seen["remount"] != 0 and seen["unshare"] != 0


FILES_PROBE = """
import json, os, subprocess
paths = %(paths)r
status = open("/proc/self/status").read()
print(json.dumps({
    "exists": {p: os.path.exists(p) for p in paths},
    "shadow": "".join(open(p).read() for p in ("/etc/shadow", "/etc/shadow-", "/etc/gshadow") if os.path.exists(p)),
    "uid": os.getuid(),
    "capabilities": status.split("CapEff:")[1].split()[0],
    "remount": subprocess.run(["mount", "-o", "remount,rw", "/usr"], capture_output=True).returncode,
    "unshare": subprocess.run(["unshare", "-U", "true"], capture_output=True).returncode,
}))
"""


def test_the_profile_memory_limit_holds_for_the_whole_server(hub):
    """The CPU profile allows 4 GiB for the whole server: a process of it touching 5 GiB is killed, the server lives on."""
    hub.start_server("ann")
    try:
        seen = _json_of(hub.run_code("ann", MEMORY_BOMB, timeout=180))
        survivor = hub.run_code("ann", "print(sum(range(10)))", timeout=120)
    finally:
        hub.stop_server("ann")
    assert seen["returncode"] == -9 and "the limit did not hold" not in seen["stdout"], seen
    assert survivor.ok and survivor.stdout.strip() == "45"


MEMORY_BOMB = """
import json, subprocess, sys
bomb = (
    "chunks = []\\n"
    "for _ in range(20):\\n"  # 20 x 256 MiB = 5 GiB, more than the profile's 4 GiB
    "    block = bytearray(256 * 1024 * 1024)\\n"
    "    block[::4096] = b'x' * len(block[::4096])\\n"
    "    chunks.append(block)\\n"
    "print('allocated 5 GiB: the limit did not hold')\\n"
)
done = subprocess.run([sys.executable, "-c", bomb], capture_output=True, text=True, timeout=120)
print(json.dumps({"returncode": done.returncode, "stdout": done.stdout}))
"""


def test_mlflow_identities_hold_between_learners(shared_lab, hub, eve):
    gateway = f"http://127.0.0.1:{_ports(shared_lab).mlflow_gateway}/services/mlflow"
    hub.start_server("ann")
    try:
        ann = _json_of(hub.run_code("ann", ANN_LOGS, timeout=180))
    finally:
        hub.stop_server("ann")
    admin = load_or_create_secrets(shared_lab.state_dir / "secrets.json").mlflow_admin_password
    os.environ["MLFLOW_TRACKING_USERNAME"], os.environ["MLFLOW_TRACKING_PASSWORD"] = MLFLOW_ADMIN_USERNAME, admin
    try:
        graded = record_evaluation(
            tracking_uri=shared_lab.state.mlflow_url, experiment=grading_experiment("probe_project", "eve"), learner="eve",
            run_name="graded", metrics={"auroc": 0.51}, targets=(), params={}, tags={"practicum.passed": "False"},
            evaluation=None, details={},
        )
    finally:
        del os.environ["MLFLOW_TRACKING_USERNAME"], os.environ["MLFLOW_TRACKING_PASSWORD"]
    seen = eve(EVE_ATTACKS % {"gateway": gateway, "ann_run": ann["run_id"], "ann_experiment": ann["experiment_id"], "graded": graded})
    assert seen["read_ann_run"] in (403, 404), seen
    assert seen["tag_ann_run"] in (403, 404), seen
    assert seen["write_into_ann_experiment"] in (403, 404), seen
    assert seen["read_own_graded_run"] in (403, 404), seen  # full-precision metrics across attempts: a label oracle
    assert seen["forge_own_pass"] in (403, 404), seen
    assert seen["delete_own_graded_run"] in (403, 404), seen
    assert seen["create_grading_experiment"] in (400, 403), seen
    assert seen["own_run"] == 200, seen
    auth = (MLFLOW_ADMIN_USERNAME, admin)
    run = httpx.get(f"{shared_lab.state.mlflow_url}/api/2.0/mlflow/runs/get", params={"run_id": graded}, auth=auth).json()["run"]
    assert {t["key"]: t["value"] for t in run["data"]["tags"]}["practicum.passed"] == "False"
    assert run["info"]["lifecycle_stage"] == "active"


ANN_LOGS = """
import json, mlflow
with mlflow.start_run(run_name="ann's work") as run:
    mlflow.log_metric("auroc", 0.7)
print(json.dumps({"run_id": run.info.run_id, "experiment_id": run.info.experiment_id}))
"""

EVE_ATTACKS = """
import json, os, urllib.request, urllib.error
gateway = %(gateway)r
def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(gateway + path, method=method, data=data, headers={
        "Authorization": "Bearer " + os.environ["MLFLOW_TRACKING_TOKEN"], "Content-Type": "application/json"})
    try:
        return urllib.request.urlopen(request, timeout=30).status
    except urllib.error.HTTPError as error:
        return error.code
import mlflow
with mlflow.start_run() as run:
    mlflow.log_metric("x", 1.0)
print(json.dumps({
    "own_run": call("GET", "/api/2.0/mlflow/runs/get?run_id=" + run.info.run_id),
    "read_ann_run": call("GET", "/api/2.0/mlflow/runs/get?run_id=%(ann_run)s"),
    "tag_ann_run": call("POST", "/api/2.0/mlflow/runs/set-tag", {"run_id": "%(ann_run)s", "key": "practicum.passed", "value": "True"}),
    "write_into_ann_experiment": call("POST", "/api/2.0/mlflow/runs/create", {"experiment_id": "%(ann_experiment)s"}),
    "read_own_graded_run": call("GET", "/api/2.0/mlflow/runs/get?run_id=%(graded)s"),
    "forge_own_pass": call("POST", "/api/2.0/mlflow/runs/set-tag", {"run_id": "%(graded)s", "key": "practicum.passed", "value": "True"}),
    "delete_own_graded_run": call("POST", "/api/2.0/mlflow/runs/delete", {"run_id": "%(graded)s"}),
    "create_grading_experiment": call("POST", "/api/2.0/mlflow/experiments/create", {"name": "grading/probe_project/eve2"}),
}))
"""


def test_the_exchange_cannot_be_abused(shared_lab, hub, eve):
    """Eve cannot see, change or delete Ann's submission, cannot submit as a third learner, cannot plant a file
    in a released assignment; the grader collects only what each learner's own inbound says of its owner."""
    hub.start_server("ann")
    try:
        _json_of(hub.run_code("ann", SUBMIT % {"course": COURSE, "assignment": ASSIGNMENT}, timeout=180))
    finally:
        hub.stop_server("ann")
    seen = eve(EXCHANGE_ATTACKS % {"course": COURSE, "assignment": ASSIGNMENT})
    assert not any("ann" in name for name in seen["inbound"]), seen["inbound"]
    assert seen["plant"] == "refused" and seen["delete_release"] == "refused"
    assert seen["forged"] is True  # it lands in eve's own inbound ...
    layout = StateLayout(shared_lab.state_dir)
    with pytest.raises(AutogradeError, match="mallory has no submission"):  # ... where the grader does not believe it
        autograde_in_lab(layout, COURSE, ASSIGNMENT, "mallory")
    graded = autograde_in_lab(layout, COURSE, ASSIGNMENT, "ann")
    assert graded.max_score == 2  # ann's own submission, intact
    released = layout.exchange / COURSE / "outbound" / ASSIGNMENT
    assert sorted(p.name for p in released.iterdir()) == [f"{ASSIGNMENT}.ipynb"]


SUBMIT = """
import json, subprocess
for verb in ("fetch_assignment", "submit"):
    done = subprocess.run(["nbgrader", verb, %(assignment)r, "--course", %(course)r], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
print(json.dumps({"submitted": True}))
"""

EXCHANGE_ATTACKS = """
import json, os, shutil, subprocess
exchange = "/srv/nbgrader/exchange/%(course)s"
def attempt(action):
    try:
        action()
        return "done"
    except OSError:
        return "refused"
subprocess.run(["nbgrader", "fetch_assignment", %(assignment)r, "--course", %(course)r], capture_output=True)
forged = exchange + "/inbound/mallory+%(assignment)s+2026-01-01 00:00:00.000000 UTC+forged"
shutil.copytree(os.path.expanduser("~/%(course)s/%(assignment)s"), forged)
print(json.dumps({
    "inbound": sorted(os.listdir(exchange + "/inbound")),
    "plant": attempt(lambda: open(exchange + "/outbound/%(assignment)s/planted.py", "w").write("import os")),
    "delete_release": attempt(lambda: os.remove(exchange + "/outbound/%(assignment)s/%(assignment)s.ipynb")),
    "forged": os.path.isdir(forged),
}))
"""


def test_formgraders_and_learner_servers_run_as_unprivileged_uids_that_see_their_own_files(shared_lab, eve):
    state = shared_lab.state_dir
    found = _sandboxed_processes(shared_lab.state.lab_id)
    formgraders = [p for p in found if p["service"] == f"formgrader-{COURSE}"]
    servers = [p for p in found if p["user"] == "eve"]
    assert formgraders and servers
    for process in formgraders + servers:
        assert process["uid"] >= FIRST_UID, process
    course_root = state / "courses" / COURSE
    formgrader = formgraders[0]["pid"]
    assert os.path.exists(f"/proc/{formgrader}/root{course_root}/gradebook.db")
    assert not os.path.exists(f"/proc/{formgrader}/root{state}/secrets.json")
    assert not os.path.exists(f"/proc/{formgrader}/root{state}/hub/jupyterhub.sqlite")
    assert not os.path.exists(f"/proc/{formgrader}/root{state}/courses/clinical_ai_projects")


def _sandboxed_processes(lab_id: str) -> list[dict]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            raw = (proc / "environ").read_bytes().decode(errors="replace").split("\0")
            environ = dict(item.split("=", 1) for item in raw if "=" in item)
            uid = int(next(line for line in (proc / "status").read_text().splitlines() if line.startswith("Uid:")).split()[1])
            command = (proc / "cmdline").read_text(errors="replace")
        except (OSError, StopIteration, ValueError):
            continue
        if environ.get("PRACTICUM_LAB_ID") == lab_id and environ.get("PRACTICUM_IN_SANDBOX") and "jupyterhub-singleuser" in command:
            found.append({"pid": int(proc.name), "uid": uid, "service": environ.get("JUPYTERHUB_SERVICE_NAME", ""),
                          "user": environ.get("JUPYTERHUB_USER", "")})
    return found
