"""Cheats on the protocols themselves, graded end to end; then one honest grading per protocol passes."""

from __future__ import annotations

import hostile_models as hostile
import pytest
from harness import project_spec, save
from mlflow.tracking import MlflowClient

from practicum.graders.project_grading import grade_model

pytestmark = pytest.mark.usefixtures("nothing_lost_nothing_left")  # conftest: after each attack, all as it was

RATIO_AT_MOST_1 = [{"metric": "rmse_vs_persistence_30", "threshold": 1.0, "direction": "at_most", "reason": "no worse than persistence"}]


def test_forged_glucose_pass(attack_build, tmp_path):
    """The memoriser would be perfect everywhere if anything outlived a call: each input runs fresh, so it
    can only peek within the input it holds, and the cut copies (three, at secret times) show it."""
    project = project_spec("glucose_forecasting", targets=RATIO_AT_MOST_1, evaluation={"leakage_copies": 3})
    result = grade_model(project, save(hostile.ForgedGlucosePass(), tmp_path / "model"), attack_build.root)
    assert result.error is not None and result.error.startswith("future leakage: the 30-minute forecast for patient"), result.error
    assert not result.passed and result.score == 0.0 and result.metrics == {}


def test_near_duplicate_horizons(attack_build, tmp_path):
    targets = [{"metric": "rmse_vs_persistence_30", "threshold": 1.0, "direction": "at_most", "reason": "test"}]
    project = project_spec("glucose_forecasting", targets=targets, evaluation={"horizons_min": [30, 60]})
    result = grade_model(project, save(hostile.NearDuplicateHorizons(), tmp_path / "model"), attack_build.root)
    assert result.error is not None and "column horizon_min: 30.000001 is not one of the project's horizons (30, 60 minutes, exactly)" in result.error
    assert not result.passed and result.targets == ()


def test_an_honest_forecaster_still_passes_after_the_attacks(attack_build, tmp_path):
    result = grade_model(project_spec("glucose_forecasting", targets=RATIO_AT_MOST_1), save(hostile.Persistence(), tmp_path / "model"), attack_build.root)
    assert result.error is None, result.error
    assert result.passed and result.metrics["rmse_vs_persistence_30"] == 1.0


def test_an_honest_risk_model_still_passes_and_is_recorded_after_the_attacks(attack_build, tmp_path):
    targets = [{"metric": "auroc", "threshold": 0.65, "direction": "at_least", "reason": "albuminuria carries signal"}]
    result = grade_model(
        project_spec("complication_risk", targets=targets), save(hostile.AlbuminuriaRisk(), tmp_path / "model"), attack_build.root,
        tracking_uri=attack_build.tracking_uri, learner="ada",
    )
    assert result.error is None, result.error
    assert result.passed and result.metrics["auroc"] >= 0.65
    run = MlflowClient(attack_build.tracking_uri).get_run(result.mlflow_run_id)
    assert run.data.metrics["target.auroc.met"] == 1.0 and run.data.tags["practicum.learner"] == "ada"
