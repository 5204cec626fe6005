"""Training a project's reference inside the sandbox, then grading it: `practicum reference`."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow.pyfunc
import pytest

from practicum.cli import main
from practicum.graders.grading_sandbox import SandboxFailure
from practicum.graders.project_grading import grade_model
from practicum.graders.reference_runs import train_in_sandbox

pytestmark = pytest.mark.skipif(not Path("/usr/bin/bwrap").exists(), reason="bubblewrap is not installed")

EHR_SPEC = Path(__file__).resolve().parents[2] / "projects" / "ehr_complication_risk" / "project.yaml"


def test_reference_trained_in_the_sandbox_passes_and_the_baseline_fails(small_build, tmp_path):
    reference = train_in_sandbox(EHR_SPEC, small_build, tmp_path / "reference")
    assert reference.kind == "reference" and reference.wall_seconds >= reference.train_seconds > 0
    assert (reference.model_dir / "MLmodel").is_file()
    assert grade_model(EHR_SPEC, reference.model_dir, small_build).passed

    baseline = train_in_sandbox(EHR_SPEC, small_build, tmp_path / "baseline", kind="baseline")
    graded = grade_model(EHR_SPEC, baseline.model_dir, small_build)
    assert graded.error is None and not graded.passed


def test_options_reach_train_reference(small_build, tmp_path):
    run = train_in_sandbox(EHR_SPEC, small_build, tmp_path / "strong", options={"c": 0.001})
    model = mlflow.pyfunc.load_model(str(run.model_dir)).unwrap_python_model()
    assert model.estimator[-1].C == 0.001 and run.options == {"c": 0.001}


def test_a_failed_training_names_the_error_and_keeps_the_earlier_model(small_build, tmp_path):
    out = tmp_path / "model"
    out.mkdir()
    (out / "keep.txt").write_text("an earlier model")
    with pytest.raises(SandboxFailure, match="unexpected keyword argument 'no_such_option'"):
        train_in_sandbox(EHR_SPEC, small_build, out, options={"no_such_option": 1})
    assert (out / "keep.txt").read_text() == "an earlier model"
    with pytest.raises(ValueError, match="kind must be one of"):
        train_in_sandbox(EHR_SPEC, small_build, out, kind="solution")


def test_cli_trains_grades_and_reports_json(small_build, tmp_path, capsys):
    out = tmp_path / "cli-model"
    code = main(["reference", "ehr_complication_risk", "--out", str(out), "--datasets", str(small_build),
                 "--option", "max_iter=500", "--grade", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["grade"]["passed"] is True
    assert report["options"] == {"max_iter": 500} and report["model_dir"] == str(out.resolve())

    code = main(["reference", "ehr_complication_risk", "--out", str(out), "--datasets", str(small_build), "--option", "oops"])
    assert code != 0 and "NAME=VALUE" in capsys.readouterr().err
