"""In the session's real lab: a learner saves a model in their sandbox and submits it with `practicum
submit`; it is queued, graded in the grading sandbox, recorded in MLflow, and the result reaches the
LMS; the learner reads their feedback, and another learner cannot."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest
from nbgrader.api import Gradebook

from practicum.demo import DEMO_PROJECT, PROJECT_SUBMIT_CELL
from practicum.hub_client import HubClient
from practicum.lab.layout import StateLayout

pytestmark = pytest.mark.lab

PEEK_CELL = """
import json, subprocess
done = subprocess.run(["practicum", "submissions", "%(grading)s", "--json"], capture_output=True, text=True)
print(json.dumps({"rc": done.returncode, "stdout": done.stdout, "stderr": done.stderr[-500:]}))
"""


def last_json(text: str) -> dict:
    return json.loads([line for line in text.splitlines() if line.startswith("{")][-1])


def test_a_learner_submits_from_the_sandbox_and_the_result_reaches_the_lms(shared_lab):
    with HubClient(shared_lab.state.hub_api_url, shared_lab.state.public_url, shared_lab.token) as hub:
        for learner in ("hana", "ivo"):
            hub.ensure_user(learner)
            hub.start_server(learner)
        try:
            ran = hub.run_code("hana", PROJECT_SUBMIT_CELL % {"project": DEMO_PROJECT}, timeout=300)
            assert ran.ok, ran.error
            outcome = last_json(ran.stdout)
            assert outcome["stdout"], outcome["stderr"]
            answer = json.loads(outcome["stdout"])
            grading = answer["grading"]
            assert grading["state"] == "done", grading
            feedback = grading["feedback"]
            assert feedback["error"] is None and feedback["targets"][0]["metric"] == "auroc"
            assert outcome["rc"] == (0 if feedback["passed"] else 1)
            grading_id = answer["receipt"]["grading_id"]
            peek = last_json(hub.run_code("ivo", PEEK_CELL % {"grading": grading_id}, timeout=120).stdout)
            assert peek["rc"] == 2 and f"no grading {grading_id} of yours" in peek["stderr"]
        finally:
            for learner in ("hana", "ivo"):
                hub.stop_server(learner)
    database = StateLayout(shared_lab.state_dir).lms / "lms.sqlite"
    deadline, row = time.monotonic() + 60, None
    while time.monotonic() < deadline and row is None:
        with sqlite3.connect(database) as connection:
            row = connection.execute("SELECT submission_id FROM results WHERE submission_id = ?", (grading_id,)).fetchone()
        time.sleep(0.5)
    assert row is not None, shared_lab.cli("grading", "queue").stdout
    queue = json.loads(shared_lab.cli("grading", "queue", "--json").stdout)
    assert queue["undelivered_results"] == 0 and queue["counts"].get("done", 0) >= 1
    # The instructor's commands, as the README shows them (the lab's own token by default).
    limit = shared_lab.cli("grading", "limit", "ehr_complication_risk", "--total", "20", "--per-day", "5", "--json")
    assert limit.returncode == 0 and json.loads(limit.stdout) == {"item_id": "ehr_complication_risk", "total": 20, "per_day": 5}
    submission_id = answer["receipt"]["submission_id"]
    regraded = shared_lab.cli("grading", "regrade", "--submission", submission_id, "--json")
    assert regraded.returncode == 0 and json.loads(regraded.stdout) == {"queued": [f"{submission_id}.regrade-1"]}
    deadline = time.monotonic() + 120  # graded before the session's lab stops (nothing left running)
    while json.loads(shared_lab.cli("grading", "queue", "--json").stdout)["gradings"] and time.monotonic() < deadline:
        time.sleep(1)
    assert json.loads(shared_lab.cli("grading", "queue", "--json").stdout)["counts"].get("done", 0) >= 2
    unknown = shared_lab.cli("grading", "regrade", "--submission", "nope")
    assert unknown.returncode == 2 and "no submission nope" in unknown.stderr
    nothing_held = shared_lab.cli("grading", "redeliver", "--json")
    assert nothing_held.returncode == 0 and json.loads(nothing_held.stdout) == {"redelivering": []}
    not_held = shared_lab.cli("grading", "redeliver", grading_id)
    assert not_held.returncode == 2 and f"no refused delivery of {grading_id}" in not_held.stderr


ASSIGNMENT_CELL = """
import json, subprocess
done = subprocess.run(["practicum", "submit", "intro_medical_ai/welcome", "--wait", "--json"], capture_output=True, text=True)
print(json.dumps({"rc": done.returncode, "stdout": done.stdout, "stderr": done.stderr[-2000:]}))
"""


def hidden_test_lines() -> list[str]:
    from practicum.lab.layout import REPO_ROOT

    notebook = json.loads((REPO_ROOT / "courses" / "intro_medical_ai" / "source" / "welcome" / "welcome.ipynb").read_text())
    lines = []
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if "BEGIN HIDDEN TESTS" in source:
            hidden = source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]
            lines += [line.strip() for line in hidden.splitlines() if line.strip()]
    assert lines
    return lines


def test_an_nbgrader_submission_is_graded_by_the_service_with_full_marks_and_no_hidden_test_shown(shared_lab):
    from practicum.demo import SOLVE_AND_SUBMIT_CELL, WELCOME_SOLUTION

    with HubClient(shared_lab.state.hub_api_url, shared_lab.state.public_url, shared_lab.token) as hub:
        hub.ensure_user("jun")
        hub.add_to_group("nbgrader-intro_medical_ai", ["jun"])
        hub.start_server("jun")
        try:
            solved = hub.run_code("jun", SOLVE_AND_SUBMIT_CELL % {"course": "intro_medical_ai", "assignment": "welcome",
                                                                   "solution": WELCOME_SOLUTION}, timeout=180)
            assert solved.ok, solved.error
            ran = hub.run_code("jun", ASSIGNMENT_CELL, timeout=400)
            assert ran.ok, ran.error
        finally:
            hub.stop_server("jun")
    outcome = last_json(ran.stdout)
    assert outcome["stdout"], outcome["stderr"]
    answer = json.loads(outcome["stdout"])
    feedback = answer["grading"]["feedback"]
    assert feedback["error"] is None and feedback["passed"] and outcome["rc"] == 0
    assert feedback["metrics"]["points"] == feedback["metrics"]["max_points"] == 2
    # Graded in a copy of the course, merged back: the formgrader's gradebook and folders have it.
    course_root = StateLayout(shared_lab.state_dir).courses / "intro_medical_ai"
    with Gradebook(f"sqlite:///{course_root / 'gradebook.db'}", course_id="intro_medical_ai") as gradebook:
        assert gradebook.find_submission("welcome", "jun").score == 2
    assert (course_root / "autograded" / "jun" / "welcome" / "welcome.ipynb").is_file()
    assert not list(course_root.glob(".grading-*"))
    shown = json.dumps(answer)
    assert not [line for line in hidden_test_lines() if line in shown]
