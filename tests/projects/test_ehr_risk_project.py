"""The ehr_complication_risk project: spec, reference passes, baseline fails, starter notebook."""

from __future__ import annotations

import hashlib
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
from practicum.datasets.ehr import build_ehr_exports
from practicum.datasets.ehr_deid import deidentify_ehr_folder
from practicum.datasets.pipeline import DATASET_VERSION
from practicum.datasets.publish_ehr import publish_ehr_risk
from practicum.graders.project_grading import grade_model
from practicum.graders.protocols import complication_risk as protocol
from practicum.graders.targets import check_targets
from practicum.projects.ehr_complication_risk.baseline import build_baseline
from practicum.projects.ehr_complication_risk.model import LABEL, ComplicationRiskModel
from practicum.projects.ehr_complication_risk.reference import train_reference

PROJECT = Path(__file__).resolve().parents[2] / "projects" / "ehr_complication_risk"
NOTEBOOK = PROJECT / "notebook" / "ehr_complication_risk.ipynb"
REPORTED = {"auroc", "auprc", "brier", "ece", "prevalence"}


# The build's de-identification key also keys the train/val/test split; the targets were measured on the
# small build (seed 0) made with this key.
PINNED_KEY = hashlib.sha256(b"practicum small_build seed 0").hexdigest()


@pytest.fixture(scope="module")
def spec():
    return load_project_spec(PROJECT / "project.yaml")


@pytest.fixture(scope="module")
def small_build(small_build, tmp_path_factory):
    """The session's small build if its key is the pinned one, else the same EHR part made with that key."""
    key_file = small_build / "secrets" / "deid.key"
    if key_file.is_file() and key_file.read_text().strip() == PINNED_KEY:
        return small_build
    out = tmp_path_factory.mktemp("ehr_risk_pinned")
    key = bytes.fromhex(PINNED_KEY)
    ehr = build_ehr_exports(out / "sources" / "ehr", size="small", seed=0, progress=False)
    deidentify_ehr_folder(Path(ehr.raw_dir), out / "deid" / "ehr", secret=key, progress=False)
    publish_ehr_risk(out / "deid" / "ehr", out / "public", out / "hidden", key=key, version=DATASET_VERSION)
    return out


@pytest.fixture(scope="module")
def graded_inputs(small_build, spec):
    return protocol.model_inputs(small_build / "public", small_build / "hidden", dict(spec.evaluation), rng=random.Random(0))


def test_the_split_is_the_one_the_targets_were_measured_on(small_build):
    hidden = pd.read_csv(small_build / "hidden" / "ehr_risk" / "test_outcomes.csv")
    assert (len(hidden), int(hidden["retinopathy_5y"].notna().sum()), int(hidden["retinopathy_5y"].sum())) == (488, 274, 54)


def _score(model, small_build, spec, inputs):
    outputs = {"test": model.predict(None, inputs["test"])}
    evaluation = protocol.score_predictions(
        outputs, inputs=inputs, hidden_dir=small_build / "hidden", options=dict(spec.evaluation)
    )
    return evaluation, check_targets(spec.targets, evaluation.metrics)


def _save(model, folder: Path) -> Path:
    mlflow.pyfunc.save_model(str(folder), python_model=model, pip_requirements=["scikit-learn", "pandas"])
    return folder


def test_spec_validates_and_targets_name_reported_metrics(spec):
    assert spec.id == PROJECT.name
    assert spec.task == "complication_risk"
    assert spec.dataset.name == "ehr_risk"
    assert spec.evaluation == {"label": LABEL}
    assert set(spec.metrics) == REPORTED
    assert {t.metric for t in spec.targets} == {"auroc", "brier"}
    for target in spec.targets:
        assert "reference" in target.reason and "baseline" in target.reason.lower()
    assert (PROJECT / "README.md").is_file() and (PROJECT / "__init__.py").is_file()


def test_reference_passes_every_target_and_predicts_cleanly(small_build, spec, graded_inputs):
    model = train_reference(small_build / "public", max_iter=200, seed=0)
    evaluation, outcomes = _score(model, small_build, spec, graded_inputs)
    assert all(t.met for t in outcomes), outcomes
    predicted = model.predict(None, graded_inputs["test"])
    assert list(predicted.columns) == ["patient_id", "probability"]
    assert list(predicted["patient_id"]) == list(graded_inputs["test"]["patient_id"])
    assert predicted["probability"].between(0, 1).all() and not predicted["patient_id"].duplicated().any()
    again = train_reference(small_build / "public", max_iter=200, seed=0).predict(None, graded_inputs["test"])
    pd.testing.assert_frame_equal(predicted, again)


def test_baseline_fails_the_targets(small_build, spec, graded_inputs):
    evaluation, outcomes = _score(build_baseline(small_build / "public"), small_build, spec, graded_inputs)
    assert not all(t.met for t in outcomes)
    assert not next(t for t in outcomes if t.metric == "auroc").met


def test_saved_reference_is_graded_end_to_end(small_build, spec, tmp_path):
    model_dir = _save(train_reference(small_build / "public"), tmp_path / "reference")
    sandbox = "bubblewrap" if shutil.which("bwrap") else "none"
    result = grade_model(spec, model_dir, small_build.resolve(), sandbox=sandbox)
    assert result.error is None, result.error
    assert set(result.metrics) == REPORTED
    assert result.passed, result.summary()


def test_released_notebook_has_no_solutions_or_hidden_tests():
    source = nbformat.read(NOTEBOOK, as_version=4)
    graded, manual = graded_cells(source)
    assert len(manual) == 1, "one clinical explanation answered in markdown and graded by hand"
    assert any(c.cell_type == "code" and c.metadata["nbgrader"]["grade"] for c in graded)

    released = learners_version(source)
    text = "\n".join(c.source for c in released.cells)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text
    assert "REFERENCE_FEATURES" not in text, "the solution's import must not reach learners"
    assert "Wisconsin" not in text, "the model answer must not reach learners"
    assert "_refit" not in text and "_shuffled" not in text, "hidden test code must not reach learners"
    answer = next(c for c in released.cells if c.metadata["nbgrader"]["grade_id"] == manual[0].metadata["nbgrader"]["grade_id"])
    assert answer.source.strip() == "YOUR ANSWER HERE"
    assert "raise NotImplementedError" in text
    assert "assert val_metrics[\"auroc\"] >= 0.70" in text, "visible tests stay"


def test_source_notebook_runs_short_saves_a_passing_model_and_logs_the_run(small_build, spec, graded_inputs, tmp_path, monkeypatch):
    monkeypatch.setenv("PRACTICUM_DATA_DIR", str(small_build / "public"))
    monkeypatch.setenv("EHR_RISK_MAX_ITER", "100")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking)
    work = tmp_path / "notebook"
    run_source_notebook(NOTEBOOK, work)
    model = mlflow.pyfunc.load_model(str(work / "model"))
    predicted = model.predict(graded_inputs["test"])
    assert len(predicted) == len(graded_inputs["test"]) and np.isfinite(predicted["probability"]).all()
    assert isinstance(model.unwrap_python_model(), ComplicationRiskModel)
    _, outcomes = _score(model.unwrap_python_model(), small_build, spec, graded_inputs)
    assert all(t.met for t in outcomes), outcomes

    client = MlflowClient(tracking_uri=tracking)
    experiment = client.get_experiment_by_name("ehr_complication_risk")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.data.metrics["val_auroc"] > 0.7 and run.data.params["label"] == LABEL
    assert "MLmodel" in {Path(a.path).name for a in client.list_artifacts(run.info.run_id, "model")}
