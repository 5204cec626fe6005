"""Grading service figures (2 cores): throughput of its local workers beside grading one model after
another with `grade_model` (what `practicum grade` does), the overhead per grading beyond the grading
itself, and p50/p95 from submission to recorded result.

Each submission is a small honest model of the EHR project (one sandboxed input), so the figures are
about the service, not the model.

Run: .venv/bin/python bench/grading_service.py [--build .lab/datasets] [--submissions 20] [--workers 2]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import mlflow.pyfunc
from figures import percentile
from grading_runs import grade_batch

from practicum.contracts.grade_result import GradeResult
from practicum.demo import age_risk_model
from practicum.graders.project_grading import grade_model
from practicum.grading.archives import pack_submission
from practicum.grading.attempts import AttemptLimit
from practicum.grading.context import GradingContext
from practicum.grading.instructor import set_attempt_limit
from practicum.grading.intake import receive, submit
from practicum.grading.settings import GradingSettings

REPO = Path(__file__).resolve().parents[1]
PROJECT = "ehr_complication_risk"



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", type=Path, default=REPO / ".lab" / "datasets")
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    build = args.build.resolve()
    if not (build / "hidden").is_dir():
        parser.error(f"{build} is not a dataset build (practicum datasets build --out {build})")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        mlflow.pyfunc.save_model(str(root / "model"), python_model=age_risk_model())
        archive = pack_submission(root / "model")
        spec = REPO / "projects" / PROJECT / "project.yaml"

        print(f"sequential grade_model x {args.submissions} ...", flush=True)
        started = time.monotonic()
        for _ in range(args.submissions):
            grade_model(spec, root / "model", build)
        sequential = time.monotonic() - started

        settings = GradingSettings(state_dir=root / "grading", database_url=f"sqlite:///{root / 'grading.sqlite'}", datasets_dir=build,
                                   projects_dir=REPO / "projects", workers=args.workers, poll_seconds=0.1)
        context = GradingContext(settings)
        set_attempt_limit(context, PROJECT, AttemptLimit(total=None, per_day=None), by="bench")
        print(f"grading service, {args.workers} local workers, {args.submissions} submissions at once ...", flush=True)

        def submit_all() -> None:
            for i in range(args.submissions):
                submit(context, learner=f"learner-{i % 50}", item_id=PROJECT, upload=receive(context, archive))

        service, rows = grade_batch(context, args.workers, submit_all)
        context.close()
    latency = [(r.recorded_at - r.queued_at).total_seconds() for r in rows]
    overhead = []
    for r in rows:
        graded = GradeResult.model_validate_json(r.grade_result)
        overhead.append((r.recorded_at - r.started_at).total_seconds() - (graded.finished_at - graded.started_at).total_seconds())
    n = args.submissions
    print(f"\n{'figure (2 cores)':<58} {'value':>12}")
    print(f"{'sequential grade_model: submissions per minute':<58} {60 * n / sequential:>12.1f}")
    print(f"{f'grading service ({args.workers} workers): submissions per minute':<58} {60 * n / service:>12.1f}")
    print(f"{'  speed-up':<58} {sequential / service:>11.2f}x")
    print(f"{'overhead per grading beyond grade_model, median / max':<58} {statistics.median(overhead):>6.2f} / {max(overhead):.2f} s")
    print(f"{'submission -> recorded result, p50 / p95':<58} {percentile(latency, 0.5):>6.1f} / {percentile(latency, 0.95):.1f} s")


if __name__ == "__main__":
    main()
