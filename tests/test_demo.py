"""`practicum demo` walks through the real lab: here the session's shared lab, already running."""


import pytest

from practicum.demo import run_demo
from practicum.lab.settings import LabSettings
from practicum.lab.state import read_state

pytestmark = pytest.mark.lab


def test_demo_runs_a_sandbox_grades_in_the_sandbox_and_moves_the_profile(shared_lab):
    settings = LabSettings(state_dir=shared_lab.state_dir)
    said: list[str] = []
    result = run_demo(settings, say=said.append, learner="demo-ada")
    assert result.learner == "demo-ada"
    assert result.datasets == ["ct_small", "ehr_risk"]
    assert len(result.mlflow_run_id) == 32
    assert result.released_assignments_seen
    # Graded for real by nbgrader, the notebook in the sandboxed grading kernel: every point, hidden tests included.
    assert result.grade.metrics["points"] == result.grade.metrics["max_points"] == 2
    assert result.grade.passed and result.grade.item_id == "intro_medical_ai/welcome"
    # The project went through the grading service: submitted from the sandbox, graded, feedback read back.
    assert result.project_grading["state"] == "done" and result.project_grading["feedback"]["targets"]
    assert result.lms.profile_changes, "the grade moved no capability"
    assert "intro_medical_ai/welcome" in result.lms.path_before
    assert "intro_medical_ai/welcome" not in result.lms.path_after
    assert result.lms.webhook_events and result.lms.webhook_signatures_ok
    assert said[0].startswith("using the lab already running at")
    assert read_state(settings.layout.lab_file) is not None, "a lab the demo did not start keeps running"
