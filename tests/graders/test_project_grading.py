"""Grading a project model: the sandbox confines it, failures are clear, results land in MLflow."""

from __future__ import annotations

import json
import random
import shutil
import sys
import time
from pathlib import Path

import cloudpickle
import mlflow.pyfunc
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from practicum.contracts.grade_result import GradeResult
from practicum.contracts.project_spec import ProjectSpec
from practicum.demo import age_risk_model
from practicum.graders.grading_sandbox import Limits, run_model
from practicum.graders.project_grading import grade_model
from practicum.graders.protocols import nodule_detection

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the sandbox cannot import this test module

pytestmark = pytest.mark.skipif(not Path("/usr/bin/bwrap").exists(), reason="bubblewrap is not installed")


def spec(task: str, **changes) -> ProjectSpec:
    options = {
        "complication_risk": ({"label": "nephropathy_5y"}, "ehr_risk", ("auroc", "brier"),
                              [{"metric": "auroc", "threshold": 0.7, "direction": "at_least", "reason": "test"}]),
        "glucose_forecasting": ({"horizons_min": [30]}, "cgm", ("rmse_vs_persistence_30",),
                                [{"metric": "rmse_vs_persistence_30", "threshold": 0.9, "direction": "at_most", "reason": "test"}]),
    }[task]
    data = {
        "id": "probe_project", "title": "Probe", "scenario": "A test.", "task": task, "evaluation": options[0],
        "dataset": {"name": options[1], "version": "1"}, "input_format": "-", "output_format": "-",
        "metrics": options[2], "targets": options[3], "capabilities": {"ml_engineering": 0.5},
        "resources": {"cpus": 1, "memory": "4G", "time_limit_seconds": 120}, "attempt_limit": 3,
    }
    data.update(changes)
    return ProjectSpec.model_validate(data)


def save(model: mlflow.pyfunc.PythonModel, folder: Path) -> Path:
    mlflow.pyfunc.save_model(str(folder), python_model=model)
    return folder


class Probe(mlflow.pyfunc.PythonModel):
    """Reports what it can reach from inside the sandbox."""

    def __init__(self, paths: dict[str, str]) -> None:
        self.paths = paths

    def predict(self, context, model_input, params=None):
        import os
        import socket

        try:
            socket.create_connection(("127.0.0.1", 5432), timeout=2).close()
            network = "open"
        except OSError:
            network = "closed"
        seen = {name: os.path.exists(path) and (not os.path.isdir(path) or bool(os.listdir(path))) for name, path in self.paths.items()}
        try:
            from practicum.projects.ehr_complication_risk.reference import train_reference  # noqa: F401

            reference = "importable"
        except ImportError as error:
            reference = str(error)
        return pd.DataFrame([{"network": network, "cpus": len(os.sched_getaffinity(0)), "uid": os.getuid(), "reference": reference, **seen}])


def test_the_sandbox_has_no_network_no_labels_no_lab_state_no_reference(small_build, tmp_path, monkeypatch):
    state = Path(__file__).resolve().parents[2] / "practicum" / "canary-lab-state"  # inside the bound checkout
    (state / "lms").mkdir(parents=True, exist_ok=True)
    (state / "lms" / "lms.sqlite").write_text("grades")
    monkeypatch.setenv("PRACTICUM_STATE_DIR", str(state))
    paths = {
        "public": str(small_build / "public" / "ehr_risk" / "test" / "patients.csv"),
        "hidden": str(small_build / "hidden" / "ehr_risk" / "test_outcomes.csv"),
        "secrets": str(small_build / "secrets"),
        "lab_state": str(state / "lms" / "lms.sqlite"),
    }
    home_files = [p for p in Path.home().iterdir() if p.is_file()] if Path.home().is_dir() else []
    if home_files:
        paths["host_home"] = str(home_files[0])
    model = save(Probe(paths), tmp_path / "model")
    try:
        predictions = run_model(
            model, {"test": pd.DataFrame({"x": [1]})}, read_only=[small_build / "public"],
            hidden=[small_build / "hidden", small_build / "secrets"], limits=Limits(cpus=1, memory_bytes=4 << 30, time_limit_seconds=120),
            work_dir=tmp_path / "work",
        )
    finally:
        shutil.rmtree(state)
    seen = predictions.frame("test").iloc[0].to_dict()
    assert seen["network"] == "closed"
    assert seen["public"] and not seen["hidden"] and not seen["secrets"] and not seen["lab_state"]
    assert not seen.get("host_home", False)
    assert seen["cpus"] == 1
    assert "reference solutions are not available" in seen["reference"], "a model must not train the reference while graded"


class Crashes(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        raise ValueError("my feature table has no column 'hba1c'")


class Sleeps(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        time.sleep(60)


class ReturnsAList(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return [0.5] * len(model_input)


class HalfTheCohort(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return pd.DataFrame({"patient_id": model_input["patient_id"].iloc[::2], "probability": 0.5})


@pytest.mark.parametrize(
    ("model", "limit", "message"),
    [
        (Crashes(), 120, "my feature table has no column 'hba1c'"),
        (Sleeps(), 8, "prediction took longer than the limit of 8 s"),
        (ReturnsAList(), 120, "predict() returned list; the project expects a pandas DataFrame"),
        (HalfTheCohort(), 120, "no probability for patient"),
    ],
)
def test_a_failing_model_gets_a_clear_error_and_no_target(small_build, tmp_path, model, limit, message):
    project = spec("complication_risk", resources={"cpus": 1, "memory": "4G", "time_limit_seconds": limit})
    result = grade_model(project, save(model, tmp_path / "model"), small_build)
    assert message in result.error
    assert not result.passed and result.score == 0.0 and result.targets == ()


class PeeksAhead(mlflow.pyfunc.PythonModel):
    """Forecasts with the reading 30 minutes later: perfect, and leaking."""

    def predict(self, context, model_input, params=None):
        ahead = model_input.groupby("patient_id")["glucose_mg_dl"].shift(-6)
        now = model_input.groupby("patient_id")["glucose_mg_dl"].ffill().fillna(120.0)
        return pd.DataFrame({"patient_id": model_input["patient_id"], "timestamp": model_input["timestamp"],
                             "horizon_min": 30, "predicted_mg_dl": ahead.fillna(now)})


def test_future_leakage_is_caught(small_build, tmp_path):
    result = grade_model(spec("glucose_forecasting"), save(PeeksAhead(), tmp_path / "model"), small_build)
    assert result.error is not None and result.error.startswith("future leakage: the 30-minute forecast for patient")
    assert not result.passed


def test_an_evaluation_is_recorded_in_mlflow_and_becomes_a_grade_result(small_build, tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    result = grade_model(spec("complication_risk"), save(age_risk_model(), tmp_path / "model"), small_build, tracking_uri=uri, learner="ada")
    assert result.error is None, result.error
    assert set(result.metrics) == {"auroc", "auprc", "brier", "ece", "prevalence"}
    assert [t.metric for t in result.targets] == ["auroc"]
    assert result.passed == (result.metrics["auroc"] >= 0.7)
    run = MlflowClient(uri).get_run(result.mlflow_run_id)
    assert run.data.metrics["auroc"] == pytest.approx(result.metrics["auroc"])
    assert run.data.metrics["target.auroc.met"] == float(result.passed)
    assert run.data.tags["target.auroc"] == "at_least 0.7"
    assert run.data.tags["practicum.learner"] == "ada" and run.data.tags["practicum.code_hash"] == result.code_hash
    artifacts = {a.path for a in MlflowClient(uri).list_artifacts(result.mlflow_run_id)}
    assert {"evaluation.json", "roc_calibration.png"} <= artifacts
    graded = result.to_grade_result(learner="ada", submission_id="s-1")
    assert GradeResult.model_validate_json(graded.to_json()).mlflow_run_id == result.mlflow_run_id
    assert "test_outcomes" not in graded.to_json()
    assert json.loads(json.dumps(result.to_json()))["project_id"] == "probe_project"


def test_nodule_candidates_are_checked_against_each_series_volume(small_build):
    inputs = nodule_detection.model_inputs(small_build / "public", small_build / "hidden", {}, rng=random.Random(0))
    annotations = pd.read_csv(small_build / "hidden" / "ct" / "test_annotations.csv")
    perfect = annotations.rename(columns={"diameter_mm": "probability"}).assign(probability=0.9)
    result = nodule_detection.score_predictions({"test": perfect}, inputs=inputs, hidden_dir=small_build / "hidden", options={"n_bootstrap": 50})
    assert result.cpm == 1.0 and result.n_scans == len(inputs["test"])
    voxel_indices = perfect.assign(coordX=np.abs(perfect["coordX"]) + 1000)
    with pytest.raises(ValueError, match=r"the model's predictions, row 1: .* lies outside series"):
        nodule_detection.score_predictions({"test": voxel_indices}, inputs=inputs, hidden_dir=small_build / "hidden", options={})
