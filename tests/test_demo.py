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
    assert said[0] == "starting the lab ..." and said[-1] == "stopping the lab ..."
    assert not (tmp_path / "state" / "lab.json").exists()
