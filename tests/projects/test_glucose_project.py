"""The glucose_cgm_forecasting project: spec, reference passes, baseline fails, no leakage, starter notebook."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import mlflow.pyfunc
import nbformat
import numpy as np
import pandas as pd
import pytest
from project_notebooks import graded_cells, learners_version, run_source_notebook

from practicum.contracts.project_spec import load_project_spec
from practicum.graders.project_grading import grade_model
from practicum.graders.protocols import glucose_forecasting as protocol
from practicum.graders.targets import check_targets
from practicum.projects.glucose_cgm_forecasting.baseline import PersistenceForecaster, build_baseline
from practicum.projects.glucose_cgm_forecasting.features import forecast_features, remaining_fraction
from practicum.projects.glucose_cgm_forecasting.model import GlucoseForecaster
from practicum.projects.glucose_cgm_forecasting.reference import save_reference, train_reference

PROJECT = Path(__file__).resolve().parents[2] / "projects" / "glucose_cgm_forecasting"
NOTEBOOK = PROJECT / "notebook" / "glucose_cgm_forecasting.ipynb"
SHORT_MAX_ITER = 30  # boosting rounds for the tests; the full reference uses 200 (bench/glucose_reference.py)


@pytest.fixture(scope="module")
def spec():
    return load_project_spec(PROJECT / "project.yaml")


@pytest.fixture(scope="module")
def graded_inputs(small_build, spec):
    return protocol.model_inputs(small_build / "public", small_build / "hidden", dict(spec.evaluation), rng=random.Random(0))


@pytest.fixture(scope="module")
def reference(small_build):
    return train_reference(small_build / "public", max_iter=SHORT_MAX_ITER, seed=0)


def _score(model, small_build, spec, inputs):
    """The grader's scoring, leakage check included, on predictions made in this process."""
    outputs = {name: model.predict(None, frame) for name, frame in inputs.items()}
    evaluation = protocol.score_predictions(
        outputs, inputs=inputs, hidden_dir=small_build / "hidden", options=dict(spec.evaluation)
    )
    return evaluation, check_targets(spec.targets, evaluation.metrics)


def _toy_frame() -> pd.DataFrame:
    """Two patients, three hours every 5 minutes, with gaps (one at a patient's start) and a meal with its bolus."""
    rows = []
    for pid, offset in (("p1", 0.0), ("p2", 40.0)):
        times = pd.date_range("2020-05-01 06:02:11", periods=36, freq="5min")
        glucose = 120.0 + offset + 30.0 * np.sin(np.arange(36) / 6.0)
        rows.append(pd.DataFrame({"patient_id": pid, "timestamp": times, "glucose_mg_dl": glucose}))
    frame = pd.concat(rows, ignore_index=True)
    frame.loc[[0, 1, 2, 20, 21, 22, 36, 37, 38, 39], "glucose_mg_dl"] = np.nan
    for column in ("event_meal", "event_bolus", "event_correction_bolus", "event_exercise"):
        frame[column] = 0.0
    frame["event_basal_rate"] = np.nan
    frame.loc[10, ["event_meal", "event_bolus"]] = [60.0, 6.0]
    frame.loc[50, "event_exercise"] = 30.0
    return frame


def test_spec_validates_and_targets_name_reported_metrics(spec):
    assert spec.id == PROJECT.name
    assert spec.task == "glucose_forecasting"
    assert spec.dataset.name == "cgm"
    assert spec.evaluation == {"horizons_min": [30, 60], "warmup_min": 60}
    toy = _toy_frame()
    forecasts = PersistenceForecaster(120.0).predict(None, toy)
    reported = protocol.evaluate_forecasts(toy[["patient_id", "timestamp", "glucose_mg_dl"]], forecasts).metrics
    assert set(spec.metrics) == set(reported)
    assert {t.metric for t in spec.targets} == {"rmse_vs_persistence_30", "clarke_a_30", "clarke_e_30", "rmse_vs_persistence_60"}
    for target in spec.targets:
        assert "reference" in target.reason.lower() and "persistence" in target.reason.lower()
    assert (PROJECT / "README.md").is_file() and (PROJECT / "__init__.py").is_file()


def test_reference_passes_every_target_without_leakage(small_build, spec, graded_inputs, reference):
    evaluation, outcomes = _score(reference, small_build, spec, graded_inputs)
    assert evaluation.leakage_checked
    assert all(t.met for t in outcomes), outcomes
    assert evaluation.metrics["rmse_vs_persistence_30"] < 0.7


def test_reference_is_deterministic(small_build, graded_inputs):
    frame = next(frame for name, frame in graded_inputs.items() if name != protocol.whole_block_name(graded_inputs))
    first = train_reference(small_build / "public", max_iter=5, seed=3, use_val=False).predict(None, frame)
    again = train_reference(small_build / "public", max_iter=5, seed=3, use_val=False).predict(None, frame)
    pd.testing.assert_frame_equal(first, again)


def test_baseline_fails_the_targets(small_build, spec, graded_inputs):
    evaluation, outcomes = _score(build_baseline(small_build / "public"), small_build, spec, graded_inputs)
    assert not all(t.met for t in outcomes)
    ratio = next(t for t in outcomes if t.metric == "rmse_vs_persistence_30")
    assert ratio.value == pytest.approx(1.0) and not ratio.met


@pytest.mark.parametrize("make", ["reference", "baseline"])
def test_forecasts_cover_every_row_and_horizon(make, reference, small_build):
    model = reference if make == "reference" else build_baseline(small_build / "public")
    toy = _toy_frame()
    shuffled = toy.sample(frac=1.0, random_state=1).set_index(np.arange(100, 100 + len(toy)))
    out = model.predict(None, shuffled)
    assert list(out.columns) == ["patient_id", "timestamp", "horizon_min", "predicted_mg_dl"]
    assert len(out) == 2 * len(toy) and not out.duplicated(["patient_id", "timestamp", "horizon_min"]).any()
    assert np.isfinite(out["predicted_mg_dl"]).all() and out["predicted_mg_dl"].between(40, 400).all()
    ordered = model.predict(None, toy).set_index(["patient_id", "timestamp", "horizon_min"]).sort_index()
    pd.testing.assert_frame_equal(out.set_index(["patient_id", "timestamp", "horizon_min"]).sort_index(), ordered)
    # Before a patient's first reading: the fallback; never the other patient's value.
    first = ordered.loc[("p2", toy.loc[36, "timestamp"], 30), "predicted_mg_dl"]
    assert first == pytest.approx(model.fallback_mg_dl)


def test_features_use_the_past_only():
    toy = _toy_frame()
    full = forecast_features(toy, (30, 60))
    for cut in (5, 17, 30):
        part = toy.groupby("patient_id").head(cut)
        pd.testing.assert_frame_equal(forecast_features(part, (30, 60)), full.loc[part.index].reset_index(drop=True))
    # The meal logged at row 10 shows from row 10 on, not before.
    assert full.loc[9, "cob"] == 0.0 and full.loc[10, "cob"] == pytest.approx(60.0)
    assert full.loc[10, "insulin_next_30"] == pytest.approx(6.0 * (1 - remaining_fraction(np.array([30.0]), 55.0)[0]))


def test_remaining_fraction_follows_the_two_compartment_curve():
    r = remaining_fraction(np.array([-5.0, 0.0, 55.0, 110.0]), 55.0)
    np.testing.assert_allclose(r, [1.0, 1.0, 2 / np.e, 3 * np.exp(-2)])


def test_saved_reference_is_graded_end_to_end(small_build, spec, reference, tmp_path):
    model_dir = save_reference(reference, tmp_path / "reference")
    assert isinstance(mlflow.pyfunc.load_model(str(model_dir)).unwrap_python_model(), GlucoseForecaster)
    sandbox = "bubblewrap" if shutil.which("bwrap") else "none"
    result = grade_model(spec, model_dir, small_build.resolve(), sandbox=sandbox)
    assert result.error is None, result.error
    assert set(result.metrics) == set(spec.metrics)
    assert result.details["leakage_checked"] is True
    assert result.passed, result.summary()


def test_released_notebook_has_no_solutions_or_hidden_tests():
    source = nbformat.read(NOTEBOOK, as_version=4)
    graded, manual = graded_cells(source)
    assert sum(c.cell_type == "code" for c in graded) == 3
    assert len(manual) == 1, "one answer for the diabetes team, graded by hand"

    released = learners_version(source)
    text = "\n".join(c.source for c in released.cells)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text
    assert "learning_rate=0.08" not in text and ".ffill()" not in text, "solution code must not reach learners"
    assert "_cut_early" not in text and "2 / np.e" not in text, "hidden test code must not reach learners"
    assert "Leakage: (a)" not in text, "the model answer must not reach learners"
    answer = next(c for c in released.cells if c.metadata["nbgrader"]["grade_id"] == manual[0].metadata["nbgrader"]["grade_id"])
    assert answer.source.strip() == "YOUR ANSWER HERE"
    assert text.count("raise NotImplementedError") == 3
    assert 'val_metrics["rmse_vs_persistence_30"] <= 0.85' in text, "visible tests stay"


def test_source_notebook_runs_short_and_saves_a_passing_model(small_build, spec, graded_inputs, tmp_path, monkeypatch):
    monkeypatch.setenv("PRACTICUM_DATA_DIR", str(small_build / "public"))
    monkeypatch.setenv("GLUCOSE_MAX_ITER", str(SHORT_MAX_ITER))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    work = tmp_path / "notebook"
    run_source_notebook(NOTEBOOK, work)
    model = mlflow.pyfunc.load_model(str(work / "model"))
    block = graded_inputs[protocol.whole_block_name(graded_inputs)]
    predicted = model.predict(block)
    assert len(predicted) == 2 * len(block) and np.isfinite(predicted["predicted_mg_dl"]).all()
    assert isinstance(model.unwrap_python_model(), GlucoseForecaster)
    _, outcomes = _score(model.unwrap_python_model(), small_build, spec, graded_inputs)
    assert all(t.met for t in outcomes), outcomes
