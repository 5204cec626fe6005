"""Benchmark of the ehr_complication_risk project: reference and baseline on the hidden test split.

Prints, for the project's label, the grader's metrics (AUROC, AUPRC, Brier, ECE, prevalence) of
the reference solution and the naive baseline on the hidden test split of a dataset build,
whether each meets the project's targets, a bootstrap 95 % interval of the AUROC, a few
one-feature rules for context, and the reference's training time on 2 CPU cores (best of
``--repeats``). The reference is a logistic regression: it never uses a GPU, so there is no
GPU figure to report.

    .venv/bin/python bench/ehr_risk_reference.py [--build DIR] [--repeats N] [--bootstrap N] [--json]

Without ``--build`` it makes the build the project's targets were measured on: the EHR part of
``practicum datasets build --size small --seed 0`` with the de-identification key pinned to
``sha256("practicum small_build seed 0")`` (the key also decides the train/val/test split), in a
temporary folder (about 40 s). ``--build .lab/datasets`` scores the lab's own build instead.
``--sandbox bubblewrap|none`` also grades both saved models end to end with
``practicum.graders.project_grading.grade_model``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
PROJECT_YAML = ROOT / "projects" / "ehr_complication_risk" / "project.yaml"
CONTEXT_RULES = ("log_duration", "log_uacr_mean", "age")


def _two_cores() -> int:
    cores = sorted(os.sched_getaffinity(0))[:2]
    os.sched_setaffinity(0, cores)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(len(cores))
    return len(cores)


PINNED_KEY = hashlib.sha256(b"practicum small_build seed 0").hexdigest()


def pinned_ehr_build(out: Path) -> Path:
    """The ehr_risk part of the small build (seed 0) with the pinned key: the split the targets were set on."""
    from practicum.datasets.ehr import build_ehr_exports
    from practicum.datasets.ehr_deid import deidentify_ehr_folder
    from practicum.datasets.pipeline import DATASET_VERSION
    from practicum.datasets.publish_ehr import publish_ehr_risk

    key = bytes.fromhex(PINNED_KEY)
    ehr = build_ehr_exports(out / "sources" / "ehr", size="small", seed=0, progress=False)
    deidentify_ehr_folder(Path(ehr.raw_dir), out / "deid" / "ehr", secret=key, progress=False)
    publish_ehr_risk(out / "deid" / "ehr", out / "public", out / "hidden", key=key, version=DATASET_VERSION)
    return out


def _build_dir(requested: str | None) -> Path:
    if requested:
        return Path(requested).resolve()
    out = Path(tempfile.mkdtemp(prefix="ehr-risk-bench-"))
    print(f"building the pinned small EHR build (seed 0) in {out}", file=sys.stderr)
    return pinned_ehr_build(out)


def _bootstrap_auroc(y: np.ndarray, p: np.ndarray, n: int, seed: int = 0) -> tuple[float, float]:
    from practicum.graders.metrics.risk import roc_auc

    rng = np.random.default_rng(seed)
    values = []
    while len(values) < n:
        pick = rng.integers(0, len(y), len(y))
        if 0 < y[pick].sum() < len(pick):
            values.append(roc_auc(y[pick], p[pick]))
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", help="a dataset build folder with public/ and hidden/ (default: .lab/datasets)")
    parser.add_argument("--repeats", type=int, default=3, help="training repeats; the best time is reported (default 3)")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the AUROC interval (default 1000)")
    parser.add_argument("--sandbox", choices=("bubblewrap", "none"), help="also grade the saved models with grade_model")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = parser.parse_args(argv)

    cores = _two_cores()
    from practicum.contracts.project_spec import load_project_spec
    from practicum.graders.protocols import complication_risk as protocol
    from practicum.graders.targets import check_targets, describe
    from practicum.projects.ehr_complication_risk.baseline import build_baseline
    from practicum.projects.ehr_complication_risk.reference import (
        ComplicationRiskModel,
        make_estimator,
        train_reference,
    )

    spec = load_project_spec(PROJECT_YAML)
    options = dict(spec.evaluation)
    build = _build_dir(args.build)
    public, hidden = build / "public", build / "hidden"
    inputs = protocol.model_inputs(public, hidden, options, rng=random.Random(0))

    times = []
    for _ in range(max(1, args.repeats)):
        started = time.perf_counter()
        reference = train_reference(public)
        times.append(time.perf_counter() - started)
    started = time.perf_counter()
    baseline = build_baseline(public)
    baseline_seconds = time.perf_counter() - started

    models: dict[str, ComplicationRiskModel] = {"reference": reference, "baseline": baseline}
    x_train, y_train = _training(public, options["label"])
    for feature in CONTEXT_RULES:
        estimator = make_estimator().fit(x_train[[feature]], y_train)
        models[f"only {feature}"] = ComplicationRiskModel(estimator, (feature,), options["label"])

    report: dict[str, object] = {
        "build": str(build),
        "label": options["label"],
        "cores": cores,
        "reference_training_seconds": min(times),
        "baseline_training_seconds": baseline_seconds,
        "gpu": "not used (logistic regression on CPU)",
        "models": {},
    }
    for name, model in models.items():
        started = time.perf_counter()
        outputs = {"test": model.predict(None, inputs["test"])}
        seconds = time.perf_counter() - started
        evaluation = protocol.score_predictions(outputs, inputs=inputs, hidden_dir=hidden, options=options)
        outcomes = check_targets(spec.targets, evaluation.metrics)
        y, p = evaluation.points
        report["models"][name] = {
            "metrics": evaluation.metrics,
            "auroc_95ci": _bootstrap_auroc(np.asarray(y, dtype=bool), np.asarray(p), args.bootstrap),
            "targets": [describe(t) for t in outcomes],
            "passed": all(t.met for t in outcomes),
            "n_patients": evaluation.n_patients,
            "n_positive": evaluation.n_positive,
            "prediction_seconds": seconds,
        }

    if args.sandbox:
        report["graded"] = _grade(spec, build, {"reference": reference, "baseline": baseline}, args.sandbox)

    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print(report)
    return 0


def _training(public: Path, label: str) -> tuple[pd.DataFrame, pd.Series]:
    from practicum.projects.ehr_complication_risk.reference import training_data

    return training_data(public, label)


def _grade(spec, build: Path, models: dict, sandbox: str) -> dict[str, object]:
    import mlflow.pyfunc

    from practicum.graders.project_grading import grade_model

    out = {}
    with tempfile.TemporaryDirectory(prefix="ehr-risk-models-") as tmp:
        for name, model in models.items():
            folder = Path(tmp) / name
            mlflow.pyfunc.save_model(str(folder), python_model=model, pip_requirements=["scikit-learn", "pandas"])
            result = grade_model(spec, folder, build, sandbox=sandbox)
            out[name] = {"error": result.error, "metrics": result.metrics, "passed": result.passed,
                         "prediction_seconds": result.prediction_seconds}
    return out


def _print(report: dict) -> None:
    print(f"ehr_complication_risk, label {report['label']}, build {report['build']}")
    print(f"reference training: {report['reference_training_seconds']:.2f} s on {report['cores']} CPU core(s) "
          f"(best of repeats); baseline {report['baseline_training_seconds']:.2f} s; GPU: {report['gpu']}")
    header = f"{'model':<22}{'auroc':>7}{'95% CI':>15}{'auprc':>7}{'brier':>8}{'ece':>7}{'prev':>7}  targets"
    print(header)
    for name, row in report["models"].items():
        m, (low, high) = row["metrics"], row["auroc_95ci"]
        print(f"{name:<22}{m['auroc']:7.3f}{f'{low:.3f}-{high:.3f}':>15}{m['auprc']:7.3f}{m['brier']:8.4f}{m['ece']:7.3f}"
              f"{m['prevalence']:7.3f}  {'PASS' if row['passed'] else 'FAIL'}: {'; '.join(row['targets'])}")
    first = next(iter(report["models"].values()))
    print(f"hidden test: {first['n_patients']} patients at risk, {first['n_positive']} new cases")
    for name, row in report.get("graded", {}).items():
        print(f"grade_model {name}: {'error ' + row['error'] if row['error'] else row['metrics']} "
              f"passed={row['passed']} prediction {row['prediction_seconds'] or 0:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
