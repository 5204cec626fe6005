"""Figures for the glucose_cgm_forecasting project: reference and baseline on the hidden test block.

Trains the reference (gradient-boosted trees, ``--max-iter`` rounds) on the public train and
val blocks of a dataset build, pinned to ``--cpus`` cores (default 2, the learner sandbox),
and times it. Then scores the reference and the persistence baseline the way the grader does
(``graders.protocols.glucose_forecasting``: the whole hidden block plus three copies cut at secret times for the
leakage check) and prints every reported metric beside the project's targets.

The reference uses no GPU (scikit-learn trees); when torch sees one, the bench says so.

Run: .venv/bin/python bench/glucose_reference.py [--build .lab/datasets] [--max-iter 200] [--cpus 2] [--json]
(without ``--build`` and without .lab/datasets, a small build is made in a temporary folder first).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "projects" / "glucose_cgm_forecasting" / "project.yaml"


def pin_cpus(n: int) -> int:
    cpus = sorted(os.sched_getaffinity(0))
    if n and len(cpus) > n:
        os.sched_setaffinity(0, cpus[:n])
    return len(os.sched_getaffinity(0))


def gpu_note() -> str:
    if importlib.util.find_spec("torch") is None:
        return "torch not installed"
    import torch

    if not torch.cuda.is_available():
        return "no GPU visible to torch"
    return f"{torch.cuda.get_device_name(0)} present; the reference is CPU-only (scikit-learn trees), so no GPU figure"


def score(model, inputs, spec, hidden_dir):
    from practicum.graders.protocols import glucose_forecasting as protocol
    from practicum.graders.targets import check_targets

    started = time.perf_counter()
    outputs = {name: model.predict(None, frame) for name, frame in inputs.items()}
    seconds = time.perf_counter() - started
    evaluation = protocol.score_predictions(outputs, inputs=inputs, hidden_dir=hidden_dir, options=dict(spec.evaluation))
    return evaluation, check_targets(spec.targets, evaluation.metrics), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", type=Path, default=None, help="a dataset build (public/, hidden/); default .lab/datasets")
    parser.add_argument("--max-iter", type=int, default=200, help="boosting rounds of the reference (default 200)")
    parser.add_argument("--threads", type=int, default=1, help="OpenMP threads for training (default 1)")
    parser.add_argument("--cpus", type=int, default=2, help="pin the process to this many cores (default 2; 0: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args()

    cpus = pin_cpus(args.cpus)
    from practicum.contracts.project_spec import load_project_spec
    from practicum.graders.protocols import glucose_forecasting as protocol
    from practicum.projects.glucose_cgm_forecasting.baseline import build_baseline
    from practicum.projects.glucose_cgm_forecasting.reference import timed_training

    spec = load_project_spec(SPEC)
    with tempfile.TemporaryDirectory() as tmp:
        build = args.build or REPO / ".lab" / "datasets"
        if not (build / "hidden" / "cgm" / "test_cgm.csv").is_file():
            if args.build:
                parser.error(f"{build} holds no hidden/cgm/test_cgm.csv")
            from practicum.datasets.pipeline import build_datasets

            build = Path(tmp) / "build"
            print(f"building a small dataset in {build} ...", flush=True)
            build_datasets(build, size="small", seed=0, progress=False)
        inputs = protocol.model_inputs(build / "public", build / "hidden", dict(spec.evaluation), rng=random.Random(0))
        model, train_s = timed_training(build / "public", max_iter=args.max_iter, n_threads=args.threads, seed=args.seed)
        results = {
            "reference": score(model, inputs, spec, build / "hidden"),
            "baseline (persistence)": score(build_baseline(build / "public"), inputs, spec, build / "hidden"),
        }
    n_points = {h.horizon_min: h.n_points for h in results["reference"][0].horizons}
    patients = inputs[protocol.whole_block_name(inputs)]["patient_id"].nunique()
    per_patient = [p["rmse"] for h in results["reference"][0].horizons if h.horizon_min == 30 for p in h.per_patient]

    if args.json:
        print(json.dumps({
            "build": str(build), "cpus": cpus, "max_iter": args.max_iter, "train_seconds": train_s,
            "patients": patients, "scored_points": n_points, "gpu": gpu_note(),
            "models": {
                name: {"metrics": ev.metrics, "passed": all(t.met for t in outcomes), "predict_seconds": secs,
                       "targets": [t.model_dump(mode="json") for t in outcomes]}
                for name, (ev, outcomes, secs) in results.items()
            },
        }, indent=2))
        return

    print(f"build {build}: {patients} patients, scored origins {n_points}; cpus {cpus}")
    print(f"reference training ({args.max_iter} rounds, {args.threads} thread(s), data loading included): {train_s:.1f} s")
    print(f"GPU: {gpu_note()}")
    metrics = list(spec.metrics)
    targets = {t.metric: t for t in spec.targets}
    names = list(results)
    print(f"\n{'metric':<26}" + "".join(f"{n:>24}" for n in names) + f"{'target':>12}")
    for m in metrics:
        row = "".join(f"{results[n][0].metrics[m]:>24.3f}" for n in names)
        t = targets.get(m)
        goal = f"{'<=' if t and t.direction.value == 'at_most' else '>='} {t.threshold:g}" if t else ""
        print(f"{m:<26}{row}{goal:>12}")
    for n in names:
        _, outcomes, secs = results[n]
        met = sum(t.met for t in outcomes)
        print(f"{n}: {met}/{len(outcomes)} targets met; predictions (block + 3 cut copies) {secs:.1f} s")
    print(f"reference per-patient RMSE at 30 min: {min(per_patient):.1f}-{max(per_patient):.1f} mg/dL "
          f"(median {sorted(per_patient)[len(per_patient) // 2]:.1f})")


if __name__ == "__main__":
    main()
