"""`practicum demo`: a scripted walk through everything the lab has, on the real services.

Start the lab (or use the running one); create a learner; spawn their sandbox; run
a cell in it through the kernel API (dataset mount, ML stack) that logs an MLflow
run; in the sandbox, fetch the welcome assignment, solve it and submit it with
nbgrader; autograde it as the grader; save a model of the EHR risk project in the sandbox and
submit it to the grading service (queued, graded in the grading sandbox, its feedback read back,
its result in the LMS); post the assignment's grade result to the LMS; watch the
learner's capability profile and learning path move; HR pulls the profile and
receives the signed webhook; stop.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import httpx

from practicum.contracts.grade_result import GradeResult
from practicum.contracts.tracking import MLFLOW_ADMIN_USERNAME
from practicum.graders.results import assignment_result
from practicum.hub_client import HubClient
from practicum.lab.autograding import autograde_in_lab
from practicum.lab.courses import load_catalog
from practicum.lab.errors import LabError
from practicum.lab.health import check_lab
from practicum.lab.secrets import load_or_create_secrets
from practicum.lab.settings import LabSettings
from practicum.lab.state import LabState, read_state
from practicum.lab.up import start_lab
from practicum.lms_api.demo_steps import LmsDemoSummary, bootstrap_demo, run_lms_demo

Say = Callable[[str], None]

SANDBOX_CELL = """
import os, json, pathlib
import torch, monai, pydicom, sklearn, mlflow
data = pathlib.Path(os.environ["PRACTICUM_DATA_DIR"])
try:
    (data / "probe.txt").write_text("x")
    datasets_read_only = False
except OSError:
    datasets_read_only = True
with mlflow.start_run(run_name="sandbox-demo") as run:
    mlflow.log_param("learner", os.environ["JUPYTERHUB_USER"])
    mlflow.log_metric("demo_metric", 0.42)
print(json.dumps({
    "user": os.environ["JUPYTERHUB_USER"],
    "datasets": sorted(p.name for p in data.iterdir()),
    "datasets_read_only": datasets_read_only,
    "versions": {m.__name__: m.__version__ for m in (torch, monai, pydicom, sklearn, mlflow)},
    "mlflow_run_id": run.info.run_id,
    "mlflow_experiment_id": run.info.experiment_id,
}))
"""

NBGRADER_LIST_CELL = """
import subprocess
print(subprocess.run(["nbgrader", "list"], capture_output=True, text=True).stderr)
"""

DEMO_PROJECT = "ehr_complication_risk"

# The learner's model of the EHR project: risk rising with age (weak, honest; it reads the patients
# table of the input's ehr_dir). Source text, because the demo types it into the learner's kernel.
AGE_RISK_MODEL = """
from pathlib import Path
import mlflow.pyfunc, pandas as pd

class AgeRisk(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        patients = pd.read_csv(Path(model_input["ehr_dir"].iloc[0]) / "patients.csv", dtype={"patient_id": str})
        column = next(c for c in patients.columns if "age" in c or "birth" in c)
        values = pd.to_numeric(patients[column], errors="coerce")
        if "birth" in column:
            values = -pd.to_datetime(patients[column], errors="coerce").dt.year
        score = ((values - values.min()) / (values.max() - values.min() + 1e-9)).fillna(0.5)
        lookup = dict(zip(patients["patient_id"], score))
        return pd.DataFrame({"patient_id": model_input["patient_id"],
                             "probability": [float(lookup.get(p, 0.5)) for p in model_input["patient_id"]]})
"""

PROJECT_SUBMIT_CELL = AGE_RISK_MODEL + """
import json, subprocess
folder = Path.home() / "age_risk"
if not folder.exists():
    mlflow.pyfunc.save_model(str(folder), python_model=AgeRisk())
done = subprocess.run(["practicum", "submit", %(project)r, str(folder), "--wait", "--json"], capture_output=True, text=True)
print(json.dumps({"rc": done.returncode, "stdout": done.stdout, "stderr": done.stderr[-2000:]}))
"""


def age_risk_model() -> object:
    """The demo's EHR model as an object (for tests and benches); defined outside any importable module,
    so MLflow's cloudpickle stores it by value and the grading sandbox can load it."""
    namespace: dict[str, object] = {"__name__": "practicum_demo_model"}
    exec(AGE_RISK_MODEL, namespace)  # noqa: S102 - our own constant source text
    return namespace["AgeRisk"]()  # type: ignore[operator]


DEMO_COURSE = "intro_medical_ai"
DEMO_ASSIGNMENT = "welcome"

# What the learner types into the welcome assignment's solution cell.
WELCOME_SOLUTION = """def tissue_class(hu: float) -> str:
    if hu < -950:
        return "air"
    if hu < -500:
        return "lung"
    if hu < 300:
        return "soft tissue"
    return "bone"
"""

SOLVE_AND_SUBMIT_CELL = """
import json, pathlib, subprocess
course, assignment = %(course)r, %(assignment)r
def nbgrader(*args):
    done = subprocess.run(["nbgrader", *args, "--course", course], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(done.stderr[-800:])
notebook = pathlib.Path(course, assignment, assignment + ".ipynb")
if not notebook.exists():
    nbgrader("fetch_assignment", assignment)
content = json.loads(notebook.read_text())
for cell in content["cells"]:
    if cell["metadata"].get("nbgrader", {}).get("solution"):
        cell["source"] = %(solution)r
notebook.write_text(json.dumps(content))
nbgrader("submit", assignment)
print("submitted", notebook)
"""


@dataclass(frozen=True)
class DemoResult:
    learner: str
    spawn_seconds: float
    mlflow_run_id: str
    datasets: list[str]
    released_assignments_seen: bool
    grade: GradeResult
    # The grading service's view of the project submission (None: the lab has no data of the project).
    project_grading: dict | None
    lms: LmsDemoSummary


@contextmanager
def _lab_for_demo(settings: LabSettings, say: Say) -> Iterator[tuple[LabState, str]]:
    running = read_state(settings.layout.lab_file)
    if running is not None:
        token = load_or_create_secrets(settings.layout.secrets_file).lab_api_token
        if all(h.healthy for h in check_lab(running, token)):
            say(f"using the lab already running at {running.public_url}")
            yield running, token
            return
    say("starting the lab ...")
    # HR's webhook receiver of the demo listens on this machine's loopback, which the LMS refuses otherwise.
    lab = start_lab(replace(settings, webhook_allowed_hosts=(*settings.webhook_allowed_hosts, "127.0.0.1")))
    try:
        say(f"lab is up at {lab.state.public_url}")
        yield lab.state, lab.token
    finally:
        say("stopping the lab ...")
        lab.stop()


def run_demo(settings: LabSettings, say: Say = print, learner: str = "demo-learner") -> DemoResult:
    with _lab_for_demo(settings, say) as (state, token), HubClient(state.hub_api_url, state.public_url, token) as hub:
        hub.ensure_user(learner)
        for course in load_catalog(settings.courses_dir):
            hub.add_to_group(f"nbgrader-{course.course_id}", [learner])
        say(f"created learner {learner!r} and enrolled them in the catalog's courses")

        spawn_seconds = hub.start_server(learner, profile="cpu")
        say(f"spawned {learner}'s CPU sandbox in {spawn_seconds:.1f} s ({state.sandbox} isolation)")
        try:
            result = hub.run_code(learner, SANDBOX_CELL, timeout=120)
            if not result.ok:
                raise LabError(f"the sandbox cell failed: {result.error}\n{result.stderr}")
            report = _last_json_line(result.stdout)
            say(f"ran a cell in the sandbox: datasets {report['datasets']}, read-only: {report['datasets_read_only']}")
            say("ML stack in the sandbox: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()))
            run_id = report["mlflow_run_id"]
            _check_mlflow_run(state.mlflow_url, run_id, load_or_create_secrets(settings.layout.secrets_file).mlflow_admin_password)
            say(f"the sandbox logged MLflow run {run_id} in {learner}'s own experiment, through the hub-authenticated gateway: "
                f"{state.public_url}/services/mlflow/#/experiments/{report['mlflow_experiment_id']}/runs/{run_id}")

            listing = hub.run_code(learner, NBGRADER_LIST_CELL, timeout=120)
            seen = DEMO_ASSIGNMENT in listing.stdout
            say("nbgrader in the sandbox lists the released assignments:\n" + _indent(listing.stdout.strip()))

            submit_cell = SOLVE_AND_SUBMIT_CELL % {
                "course": DEMO_COURSE, "assignment": DEMO_ASSIGNMENT, "solution": WELCOME_SOLUTION
            }
            submitted = hub.run_code(learner, submit_cell, timeout=120)
            if not submitted.ok:
                raise LabError(f"submitting {DEMO_ASSIGNMENT} failed in the sandbox: {submitted.error}")
            say(f"the learner fetched, solved and submitted {DEMO_COURSE}/{DEMO_ASSIGNMENT} with nbgrader")
            project_grading = _submit_project(hub, learner, report["datasets"], say)
        finally:
            hub.stop_server(learner)
            say(f"stopped {learner}'s sandbox")

        grade = _autograde(settings, state, learner)
        say(f"autograded: {grade.metrics['points']:g}/{grade.metrics['max_points']:g} points, passed={grade.passed}")
        tokens = bootstrap_demo(settings.layout.lms_database_url, learner=learner)
        say("LMS: synced the catalog, created the demo organisation, HR token and interview profile")
        lms = run_lms_demo(f"{state.public_url}/services/lms/", tokens.admin_token, tokens.hr_token, grade, say=say)
    return DemoResult(learner, spawn_seconds, run_id, report["datasets"], seen, grade, project_grading, lms)


def _submit_project(hub: HubClient, learner: str, datasets: list[str], say: Say) -> dict | None:
    """In the learner's sandbox: save a model, `practicum submit ... --wait`; the grading's view."""
    if "ehr_risk" not in datasets:
        say("skipped the project submission: the lab's datasets have no ehr_risk (build them: make datasets)")
        return None
    ran = hub.run_code(learner, PROJECT_SUBMIT_CELL % {"project": DEMO_PROJECT}, timeout=600)
    if not ran.ok:
        raise LabError(f"the project submission cell failed in the sandbox: {ran.error}")
    outcome = _last_json_line(ran.stdout)
    if not outcome["stdout"].strip():
        raise LabError(f"practicum submit failed in the sandbox: {outcome['stderr'][-800:]}")
    answer = json.loads(outcome["stdout"])
    grading, receipt = answer["grading"], answer["receipt"]
    feedback = grading.get("feedback") or {}
    targets = ", ".join(f"{t['metric']} {t['value']:g} ({'met' if t['met'] else 'missed'}, target {t['rule']})" for t in feedback.get("targets", []))
    say(f"the learner submitted {DEMO_PROJECT} with practicum submit: stored as {receipt['submission_id']} "
        f"(attempts left today: {receipt['attempts_left']['today']}), graded in the grading sandbox: {targets or grading['state']}")
    return grading


def _autograde(settings: LabSettings, state: LabState, learner: str) -> GradeResult:
    """Grade as the lab's grader would: nbgrader outside, the notebook in the sandboxed grading kernel."""
    outcome = autograde_in_lab(settings.layout, DEMO_COURSE, DEMO_ASSIGNMENT, learner, sandboxed=state.sandbox == "bubblewrap")
    return assignment_result(outcome)


def _check_mlflow_run(mlflow_url: str, run_id: str, admin_password: str) -> None:
    response = httpx.get(f"{mlflow_url}/api/2.0/mlflow/runs/get", params={"run_id": run_id}, timeout=10,
                         auth=(MLFLOW_ADMIN_USERNAME, admin_password))
    if response.status_code != 200:
        raise LabError(f"MLflow does not know run {run_id}: HTTP {response.status_code}")
    metrics = {m["key"]: m["value"] for m in response.json()["run"]["data"].get("metrics", [])}
    if metrics.get("demo_metric") != 0.42:
        raise LabError(f"MLflow run {run_id} lacks the metric the sandbox logged")


def _last_json_line(text: str) -> dict:
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise LabError(f"the sandbox printed no report: {text[-300:]!r}")


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def timed(say: Say) -> Say:
    start = time.monotonic()
    return lambda message: say(f"[{time.monotonic() - start:6.1f} s] {message}")
