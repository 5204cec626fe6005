"""Benchmark of the lung_nodule_ct_detection project: reference and baseline on the hidden test split.

Trains the reference detector (candidate generator + 3D CNN false-positive reduction) on the
public train and val splits of a dataset build, pinned to 2 CPU cores, then scores it and the
threshold baseline on the hidden test split with the grader's LUNA16 protocol (FROC, CPM with a
1,000-sample bootstrap interval, sensitivities at 1/8 ... 8 false positives per scan) and checks
the project's targets. Reports the training time (candidate/cube preparation and network fit
apart) and the prediction time per series. When ``torch.cuda.is_available()`` it also trains on
the GPU and reports that time and score.

    .venv/bin/python bench/nodule_reference.py [--build DIR] [--max-epochs N] [--seeds 0 1 2]
        [--cpus 2] [--no-gpu] [--sandbox none|bubblewrap] [--json]

Without ``--build`` it uses ``.lab/datasets`` (``make datasets``) or, if that is missing, makes a
small build (seed 0) in a temporary folder. ``--sandbox`` also grades both saved models end to
end with ``practicum.graders.project_grading.grade_model``. ``--seeds`` trains once per seed
(the spread of the reference's CPM over training seeds).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT_YAML = ROOT / "projects" / "lung_nodule_ct_detection" / "project.yaml"


def _pin_cpus(n: int) -> int:
    cores = sorted(os.sched_getaffinity(0))[:n]
    os.sched_setaffinity(0, cores)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(len(cores))
    return len(cores)


def _build_dir(requested: str | None) -> Path:
    if requested:
        return Path(requested).resolve()
    lab = ROOT / ".lab" / "datasets"
    if (lab / "hidden" / "ct" / "test_annotations.csv").is_file():
        return lab.resolve()
    from practicum.datasets.pipeline import build_datasets

    out = Path(tempfile.mkdtemp(prefix="nodule-bench-"))
    print(f"building a small dataset (seed 0) in {out} ...", file=sys.stderr)
    build_datasets(out, size="small", seed=0, progress=False)
    return out


def _score(model, build: Path, spec) -> tuple[dict, float, int]:
    from practicum.graders.protocols import nodule_detection as protocol

    inputs = protocol.model_inputs(build / "public", build / "hidden", dict(spec.evaluation), rng=random.Random(0))
    started = time.perf_counter()
    outputs = {"test": model.predict(None, inputs["test"])}
    seconds = time.perf_counter() - started
    evaluation = protocol.score_predictions(
        outputs, inputs=inputs, hidden_dir=build / "hidden", options=dict(spec.evaluation)
    )
    return evaluation, seconds, len(inputs["test"])


def _summary(name: str, evaluation, spec) -> dict:
    from practicum.graders.targets import check_targets

    outcomes = check_targets(spec.targets, evaluation.metrics)
    return {
        "model": name,
        "metrics": {k: round(float(v), 4) for k, v in evaluation.metrics.items()},
        "n_scans": evaluation.n_scans,
        "n_nodules": evaluation.n_nodules,
        "n_detected": evaluation.n_detected,
        "targets_met": {t.metric: bool(t.met) for t in outcomes},
        "passes": all(t.met for t in outcomes),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--build", help="a dataset build folder (public/, hidden/); default .lab/datasets or a fresh small build"
    )
    parser.add_argument(
        "--max-epochs", type=int, default=None, help="reference training epochs (default: the reference's own)"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="training seeds (default 0)")
    parser.add_argument("--cpus", type=int, default=2, help="CPU cores to pin the run to (default 2)")
    parser.add_argument("--no-gpu", action="store_true", help="skip the GPU run even if CUDA is available")
    parser.add_argument(
        "--sandbox", choices=("none", "bubblewrap"), help="also grade the saved models with grade_model"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args(argv)

    cpus = _pin_cpus(args.cpus)
    import mlflow.pyfunc
    import torch

    from practicum.contracts.project_spec import load_project_spec
    from practicum.projects.lung_nodule_ct_detection.baseline import build_baseline
    from practicum.projects.lung_nodule_ct_detection.detector import DetectorConfig
    from practicum.projects.lung_nodule_ct_detection.reference import train_reference

    torch.set_num_threads(cpus)
    spec = load_project_spec(PROJECT_YAML)
    build = _build_dir(args.build)
    epochs = args.max_epochs if args.max_epochs is not None else DetectorConfig().max_epochs
    report: dict = {
        "build": str(build),
        "cpus": cpus,
        "torch_threads": torch.get_num_threads(),
        "max_epochs": epochs,
        "runs": [],
    }

    baseline = build_baseline(build / "public")
    evaluation, seconds, n_series = _score(baseline, build, spec)
    report["baseline"] = _summary("threshold baseline", evaluation, spec) | {
        "predict_seconds_per_series": round(seconds / n_series, 2)
    }

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() and not args.no_gpu else [])
    models = {}
    for device in devices:
        for seed in args.seeds:
            started = time.perf_counter()
            model = train_reference(build / "public", max_epochs=epochs, seed=seed, device=device)
            train_seconds = time.perf_counter() - started
            evaluation, seconds, n_series = _score(model, build, spec)
            run = _summary(f"reference ({device}, seed {seed})", evaluation, spec) | {
                "device": device,
                "seed": seed,
                "train_seconds": round(train_seconds, 1),
                "prepare_seconds": round(model.info["prepare_seconds"], 1),
                "fit_seconds": round(model.info["fit_seconds"], 1),
                "predict_seconds_per_series": round(seconds / n_series, 2),
            }
            report["runs"].append(run)
            models.setdefault(device, model)

    if args.sandbox:
        from practicum.graders.project_grading import grade_model

        graded = {}
        with tempfile.TemporaryDirectory() as folder:
            for name, model in (("reference", models["cpu"]), ("baseline", baseline)):
                path = Path(folder) / name
                mlflow.pyfunc.save_model(str(path), python_model=model)
                result = grade_model(spec, path, build, sandbox=args.sandbox)
                graded[name] = {
                    "passed": result.passed,
                    "error": result.error,
                    "cpm": result.metrics.get("cpm"),
                    "prediction_seconds": result.prediction_seconds,
                }
        report["graded"] = graded

    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"build {build}; {cpus} CPU cores, torch threads {report['torch_threads']}; reference max_epochs {epochs}")
    rows = [report["baseline"], *report["runs"]]
    keys = ["cpm", "cpm_ci_lower", "cpm_ci_upper", *(k for k in rows[0]["metrics"] if k.startswith("sensitivity"))]
    print(f"{'model':32s} " + " ".join(f"{k.replace('sensitivity_at_', 's@'):>9s}" for k in keys) + "  found  targets")
    for row in rows:
        values = " ".join(f"{row['metrics'][k]:9.3f}" for k in keys)
        print(
            f"{row['model']:32s} {values}  {row['n_detected']:2d}/{row['n_nodules']:2d}  {'pass' if row['passes'] else 'FAIL'}"
        )
    for run in report["runs"]:
        print(
            f"{run['model']}: trained in {run['train_seconds']:.0f} s (cubes {run['prepare_seconds']:.0f} s, "
            f"network {run['fit_seconds']:.0f} s); predicts {run['predict_seconds_per_series']:.1f} s per series"
        )
    print(f"baseline predicts {report['baseline']['predict_seconds_per_series']:.1f} s per series")
    if "graded" in report:
        for name, graded in report["graded"].items():
            print(
                f"graded end to end ({args.sandbox}): {name} passed={graded['passed']} cpm={graded['cpm']} "
                f"error={graded['error']} ({graded['prediction_seconds']} s)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
