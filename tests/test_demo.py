"""`practicum demo` walks through the real lab from start to stop."""

from dataclasses import replace

import pytest

from practicum.demo import run_demo
from practicum.lab.background import free_base_port
from practicum.lab.settings import LabSettings, Ports

pytestmark = pytest.mark.lab


def test_demo_starts_a_lab_runs_a_sandbox_and_stops(tmp_path):
    settings = replace(LabSettings(state_dir=tmp_path / "state"), ports=Ports.from_base(free_base_port()))
    said: list[str] = []
    result = run_demo(settings, say=said.append, learner="demo-ada")
    assert result.learner == "demo-ada"
    assert result.datasets == ["README.txt"]  # no dataset built yet: the placeholder
    assert len(result.mlflow_run_id) == 32
    assert result.released_assignments_seen
    # Graded for real by nbgrader: the demo's solution earns every point, hidden tests included.
    assert result.grade.metrics["points"] == result.grade.metrics["max_points"] == 2
    assert result.grade.passed and result.grade.item_id == "intro_medical_ai/welcome"
    assert result.lms.profile_changes, "the grade moved no capability"
    assert "intro_medical_ai/welcome" in result.lms.path_before
    assert "intro_medical_ai/welcome" not in result.lms.path_after
    assert result.lms.webhook_events and result.lms.webhook_signatures_ok
    assert said[0] == "starting the lab ..." and said[-1] == "stopping the lab ..."
    assert not (tmp_path / "state" / "lab.json").exists()
