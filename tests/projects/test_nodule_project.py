"""The lung_nodule_ct_detection project: spec, reference passes and baseline fails, starter notebook."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import mlflow.pyfunc
import nbformat
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from project_notebooks import graded_cells, learners_version, run_source_notebook

from practicum.contracts.project_spec import load_project_spec
from practicum.graders.project_grading import grade_model
from practicum.graders.protocols import nodule_detection as protocol
from practicum.graders.reference_runs import train_in_sandbox
from practicum.graders.targets import check_targets
from practicum.projects.lung_nodule_ct_detection.baseline import ThresholdBaseline, build_baseline
from practicum.projects.lung_nodule_ct_detection.detector import NoduleDetector

PROJECT = Path(__file__).resolve().parents[2] / "projects" / "lung_nodule_ct_detection"
NOTEBOOK = PROJECT / "notebook" / "lung_nodule_ct_detection.ipynb"
REPORTED = {
    "cpm",
    "cpm_ci_lower",
    "cpm_ci_upper",
    *(f"sensitivity_at_{r:g}" for r in (0.125, 0.25, 0.5, 1, 2, 4, 8)),
}
# The tests' training: shorter than the reference's 30 epochs, still past every target (see project.yaml).
SHORT_EPOCHS = 12


@pytest.fixture(scope="module")
def spec():
    return load_project_spec(PROJECT / "project.yaml")


@pytest.fixture(scope="module")
def graded_inputs(small_build, spec):
    return protocol.model_inputs(small_build / "public", small_build / "hidden", dict(spec.evaluation), rng=random.Random(0))


def _score(model, small_build, spec, inputs):
    outputs = {"test": model.predict(None, inputs["test"])}
    evaluation = protocol.score_predictions(
        outputs, inputs=inputs, hidden_dir=small_build / "hidden", options=dict(spec.evaluation)
    )
    return evaluation, check_targets(spec.targets, evaluation.metrics)


def test_spec_validates_and_targets_name_reported_metrics(spec):
    assert spec.id == PROJECT.name
    assert spec.task == "nodule_detection"
    assert spec.dataset.name == "ct"
    assert spec.evaluation == {"n_bootstrap": 1000, "max_candidates_per_scan": 100}
    assert set(spec.metrics) == REPORTED
    assert {t.metric for t in spec.targets} <= REPORTED and any(t.metric == "cpm" for t in spec.targets)
    for target in spec.targets:
        assert "reference" in target.reason and "baseline" in target.reason.lower()
    assert spec.resources.gpu == "optional"
    assert (PROJECT / "README.md").is_file() and (PROJECT / "__init__.py").is_file()


def test_the_split_is_the_one_the_targets_were_measured_on(small_build):
    hidden = pd.read_csv(small_build / "hidden" / "ct" / "test_annotations.csv")
    test_series = (small_build / "public" / "ct" / "test" / "seriesuids.csv").read_text().split()
    assert (len(test_series), len(hidden)) == (14, 45)


def test_reference_trained_in_a_cpu_sandbox_passes_every_target(small_build, spec, tmp_path):
    sandbox = "bubblewrap" if shutil.which("bwrap") else "none"
    run = train_in_sandbox(spec, small_build, tmp_path / "reference", options={"max_epochs": SHORT_EPOCHS}, sandbox=sandbox)
    model = mlflow.pyfunc.load_model(str(run.model_dir)).unwrap_python_model()
    assert isinstance(model, NoduleDetector) and model.info["n_series"] == 26
    assert model.info["device"] in ("cpu", "cuda")  # cuda where the machine has a GPU: the spec allows one
    result = grade_model(spec, run.model_dir, small_build.resolve(), sandbox=sandbox)
    assert result.error is None, result.error
    assert set(result.metrics) == REPORTED
    assert result.passed, result.summary()
    evaluation = result.evaluation
    assert evaluation.n_candidates_used <= 100 * evaluation.n_scans


def test_baseline_fails_the_targets(small_build, spec, graded_inputs):
    baseline = build_baseline(small_build / "public")
    assert isinstance(baseline, ThresholdBaseline)
    evaluation, outcomes = _score(baseline, small_build, spec, graded_inputs)
    assert not all(t.met for t in outcomes)
    assert not next(t for t in outcomes if t.metric == "cpm").met
    assert evaluation.n_detected < evaluation.n_nodules


def test_released_notebook_has_no_solutions_or_hidden_tests():
    source = nbformat.read(NOTEBOOK, as_version=4)
    graded, manual = graded_cells(source)
    assert len(manual) == 1, "one answer for the screening programme, graded by hand"
    assert sum(c.cell_type == "code" for c in graded) == 3

    released = learners_version(source)
    text = "\n".join(c.source for c in released.cells)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text
    assert "fit_classifier" not in text, "the solution's import must not reach learners"
    assert "np.linalg.solve" not in text and "10.0, d) / 2.0" not in text, "solutions must not reach learners"
    assert "_tilted" not in text and "_box" not in text, "hidden test code must not reach learners"
    assert "second reader" in text and "false-positive load" not in text, "the model answer must not reach learners"
    answer = next(c for c in released.cells if c.metadata["nbgrader"]["grade_id"] == "clinical_explanation")
    assert answer.source.strip() == "YOUR ANSWER HERE"
    assert text.count("raise NotImplementedError") == 3
    assert "assert np.allclose(world_to_voxel(_volume, _volume.origin), [[0, 0, 0]])" in text, "visible tests stay"


def test_source_notebook_runs_short_saves_a_loadable_model_and_logs_the_run(
    small_build, graded_inputs, tmp_path, monkeypatch
):
    monkeypatch.setenv("PRACTICUM_DATA_DIR", str(small_build / "public"))
    monkeypatch.setenv("NODULE_MAX_EPOCHS", "1")
    monkeypatch.setenv("NODULE_MAX_TRAIN_SERIES", "2")
    monkeypatch.setenv("NODULE_MAX_VAL_SERIES", "2")
    monkeypatch.setenv("NODULE_REFIT", "0")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking)
    work = tmp_path / "notebook"
    run_source_notebook(NOTEBOOK, work, timeout=600)

    model = mlflow.pyfunc.load_model(str(work / "model"))
    assert isinstance(model.unwrap_python_model(), NoduleDetector)
    predicted = model.predict(graded_inputs["test"].head(1))
    assert list(predicted.columns) == ["seriesuid", "coordX", "coordY", "coordZ", "probability"]
    assert 0 < len(predicted) <= 100 and np.isfinite(predicted["probability"]).all()

    client = MlflowClient(tracking_uri=tracking)
    experiment = client.get_experiment_by_name("lung_nodule_ct_detection")
    (run,) = client.search_runs([experiment.experiment_id])
    assert {"val_cpm", "val_baseline_cpm", "train_loss"} <= set(run.data.metrics)
    assert run.data.params["max_epochs"] == "1"
    assert "MLmodel" in {Path(a.path).name for a in client.list_artifacts(run.info.run_id, "model")}
