"""The real lab: JupyterHub, the proxy, a bubblewrap sandbox, a kernel, MLflow, the LMS, nbgrader."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx
import pytest

from practicum.contracts.tracking import MLFLOW_ADMIN_USERNAME
from practicum.hub_client import HubClient
from practicum.lab.background import BackgroundLab
from practicum.lab.courses import load_catalog
from practicum.lab.layout import REPO_ROOT
from practicum.lab.secrets import load_or_create_secrets

pytestmark = pytest.mark.lab

COURSE = "intro_medical_ai"


@pytest.fixture(scope="module")
def lab(shared_lab) -> BackgroundLab:
    return shared_lab


@pytest.fixture(scope="module")
def hub(lab) -> HubClient:
    with HubClient(lab.state.hub_api_url, lab.state.public_url, lab.token) as client:
        yield client


def login(lab: BackgroundLab, username: str, password: str) -> httpx.Client:
    browser = httpx.Client(base_url=lab.state.public_url, follow_redirects=True, timeout=60)
    page = browser.get("/hub/login")
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    browser.post("/hub/login", data={"username": username, "password": password, "_xsrf": xsrf})
    return browser


def lab_password(lab: BackgroundLab) -> str:
    return load_or_create_secrets(lab.state_dir / "secrets.json").user_password


def test_status_reports_every_service_healthy(lab):
    result = lab.cli("status", "--json")
    report = json.loads(result.stdout)
    assert result.returncode == 0 and report["healthy"] is True
    courses = {course.course_id for course in load_catalog(REPO_ROOT / "courses")}
    assert COURSE in courses
    assert {s["name"] for s in report["services"]} == {
        "jupyterhub", "mlflow", "mlflow-gateway", "lms", "grading", "idle-culler", *(f"formgrader-{course}" for course in courses)
    }


def test_wrong_password_is_refused(lab):
    browser = login(lab, "mallory", "not-the-password")
    assert "/hub/login" in str(browser.get("/hub/home").url)


def test_learner_logs_in_and_their_sandbox_spawns_and_stops(lab, hub):
    browser = login(lab, "ada", lab_password(lab))
    home = browser.get("/hub/spawn")  # the browser's spawn: no form, one profile
    assert home.status_code == 200
    for _ in range(600):
        server = hub.user("ada")["servers"].get("", {})
        if server.get("ready"):
            break
        time.sleep(0.1)
    assert server["ready"]
    page = browser.get("/user/ada/lab")  # OAuth hop to the single-user server
    assert page.status_code == 200 and "JupyterLab" in page.text

    hub.stop_server("ada")
    assert "" not in hub.user("ada")["servers"]
    assert not [p for p in _processes_with_env("JUPYTERHUB_USER=ada")]


def test_kernel_reads_the_mounted_datasets_and_logs_to_mlflow(lab, hub, tmp_path):
    hub.ensure_user("grace")
    hub.add_to_group(f"nbgrader-{COURSE}", ["grace"])
    hub.start_server("grace")
    try:
        result = hub.run_code("grace", KERNEL_PROBE % {"state": str(lab.state_dir)}, timeout=180)
    finally:
        hub.stop_server("grace")
    assert result.ok, result.error + result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["cases"] == "series,label\ns1,1\n"
    assert seen["datasets_writable"] is False
    assert seen["state_visible"] is False
    assert "welcome" in seen["nbgrader_list"]

    secrets = load_or_create_secrets(lab.state_dir / "secrets.json")
    run = httpx.get(f"{lab.state.mlflow_url}/api/2.0/mlflow/runs/get", params={"run_id": seen["run_id"]},
                    auth=(MLFLOW_ADMIN_USERNAME, secrets.mlflow_admin_password)).json()
    metrics = {m["key"]: m["value"] for m in run["run"]["data"]["metrics"]}
    params = {p["key"]: p["value"] for p in run["run"]["data"]["params"]}
    assert metrics == {"rows": 1.0}
    assert params == {"learner": "grace"}
    assert not (Path(lab.datasets_dir) / "ct_small" / "probe.txt").exists()


def test_lms_answers_learners_through_the_hub(lab, hub):
    hub.ensure_user("lin")
    token = hub._api("POST", "/users/lin/tokens", json={"note": "test"}).json()["token"]
    me = httpx.get(f"{lab.state.public_url}/services/lms/me", headers={"Authorization": f"token {token}"})
    assert me.status_code == 200 and me.json()["name"] == "lin"
    anonymous = httpx.get(f"{lab.state.public_url}/services/lms/me", headers={"Accept": "application/json"})
    assert anonymous.status_code == 401


def test_formgrader_is_open_to_instructors_only(lab):
    instructor = login(lab, "instructor", lab_password(lab))
    assert instructor.get(f"/services/formgrader-{COURSE}/formgrader").status_code == 200
    learner = login(lab, "ada", lab_password(lab))
    assert learner.get(f"/services/formgrader-{COURSE}/formgrader").status_code == 403


def _processes_with_env(entry: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if entry.encode() in (proc / "environ").read_bytes().split(b"\0"):
                    found.append(int(proc.name))
            except OSError:
                pass
    return found


KERNEL_PROBE = """
import json, os, pathlib, subprocess
import mlflow
data = pathlib.Path(os.environ["PRACTICUM_DATA_DIR"])
cases = (data / "ct_small" / "train" / "cases.csv").read_text()
try:
    (data / "ct_small" / "probe.txt").write_text("x")
    writable = True
except OSError:
    writable = False
with mlflow.start_run() as run:
    mlflow.log_param("learner", os.environ["JUPYTERHUB_USER"])
    mlflow.log_metric("rows", len(cases.strip().splitlines()) - 1)
listing = subprocess.run(["nbgrader", "list"], capture_output=True, text=True)
print(json.dumps({
    "cases": cases,
    "datasets_writable": writable,
    "state_visible": os.path.exists("%(state)s/secrets.json"),
    "run_id": run.info.run_id,
    "nbgrader_list": listing.stdout + listing.stderr,
}))
"""
