"""Assignment grading throughput (2 cores): the grading service's local workers beside `nbgrader
autograde` run sequentially, side by side in one run, on the same submissions of a trivial
two-notebook assignment, with the notebooks executed by the sandboxed grading kernel in both.

- nbgrader: `nbgrader collect` then one `nbgrader autograde ASSIGNMENT` over every learner (its own
  sequential loop, the way an instructor grades a course folder);
- the service: each learner's submission queued through the intake, graded by `--workers` local
  workers (collect and autograde per grading, as in the lab), until every result is recorded.

Run: .venv/bin/python bench/assignment_throughput.py [--build .lab/datasets] [--submissions 50] [--workers N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import nbformat
from figures import percentile
from grading_runs import grade_batch

from practicum.contracts.grade_result import GradeResult
from practicum.grading.context import GradingContext
from practicum.grading.intake import submit_assignment
from practicum.grading.settings import GradingSettings
from practicum.lab.courses import Course, prepare_course
from practicum.lab.grading import local_workers
from practicum.lab.layout import StateLayout, venv_bin
from practicum.lab.sandboxes import grading_environment, prepare_grading_kernel

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "twonotebooks"


def _with_venv_path() -> dict[str, str]:
    """nbgrader runs `alembic` from PATH."""
    return {**os.environ, "PATH": f"{venv_bin()}{os.pathsep}{os.environ.get('PATH', '')}"}


def _cell(kind: str, source: str, grade_id: str, *, solution: bool = False, points: int = 0) -> nbformat.NotebookNode:
    make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    cell = make(source)
    cell.metadata["nbgrader"] = {"grade": points > 0, "grade_id": grade_id, "locked": not solution, "schema_version": 3,
                                 "solution": solution, "task": False, **({"points": points} if points else {})}
    return cell


def source_notebook(number: int) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [
        _cell("markdown", f"Notebook {number}: write `double(x)`.", "task"),
        _cell("code", "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION", "answer", solution=True),
        _cell("code", f"assert double({number}) == {2 * number}", "check", points=1),
    ]
    return notebook


def answered(released: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(released, as_version=4)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = "def double(x):\n    return 2 * x"
    return notebook


def make_course(layout: StateLayout, sources: Path, course_id: str) -> Path:
    folder = sources / course_id / "source" / ASSIGNMENT
    folder.mkdir(parents=True)
    for number in (1, 2):
        nbformat.write(source_notebook(number), folder / f"part{number}.ipynb")
    env = {**_with_venv_path(), **grading_environment(layout), "PRACTICUM_BIN": str(venv_bin())}
    root = layout.courses / course_id
    prepare_course(Course(course_id, course_id, (), (ASSIGNMENT,)), sources, root, layout.exchange, layout.exchange_inbound, env)
    return root


def submit_everyone(layout: StateLayout, course_root: Path, course_id: str, learners: list[str]) -> None:
    """What `nbgrader submit` leaves in each learner's own inbound."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    for learner in learners:
        folder = layout.exchange_inbound / course_id / learner / f"{learner}+{ASSIGNMENT}+{stamp}+bench"
        folder.mkdir(parents=True)
        for number in (1, 2):
            nbformat.write(answered(course_root / "release" / ASSIGNMENT / f"part{number}.ipynb"), folder / f"part{number}.ipynb")
        (folder / "timestamp.txt").write_text(stamp)


def nbgrader_sequentially(layout: StateLayout, course_root: Path) -> float:
    env = {**_with_venv_path(), **grading_environment(layout)}
    started = time.monotonic()
    for verb in (["collect", ASSIGNMENT], ["autograde", ASSIGNMENT, "--force"]):
        done = subprocess.run([str(venv_bin() / "nbgrader"), *verb], cwd=course_root, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"nbgrader {verb[0]} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return time.monotonic() - started


def through_the_service(layout: StateLayout, course_root: Path, course_id: str, learners: list[str], workers: int, build: Path) -> tuple[float, list]:
    settings = GradingSettings(
        state_dir=layout.root / "grading", database_url=f"sqlite:///{layout.root / 'grading.sqlite'}", datasets_dir=build,
        projects_dir=REPO / "projects", workers=workers, poll_seconds=0.1,
        courses={course_id: {"root": str(course_root), "uid": 0}}, exchange_inbound_dir=str(layout.exchange_inbound),
        nbgrader=str(venv_bin() / "nbgrader"), nbgrader_env=grading_environment(layout),
    )
    context = GradingContext(settings)

    def submit_all() -> None:
        for learner in learners:
            submit_assignment(context, learner=learner, item_id=f"{course_id}/{ASSIGNMENT}")

    elapsed, rows = grade_batch(context, workers, submit_all)
    context.close()
    return elapsed, rows



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", type=Path, default=REPO / ".lab" / "datasets")
    parser.add_argument("--submissions", type=int, default=50)
    parser.add_argument("--workers", type=int, default=local_workers(), help="default: the lab's own number")
    args = parser.parse_args()
    build = args.build.resolve()
    if not (build / "public").is_dir():
        parser.error(f"{build} is not a dataset build (practicum datasets build --out {build})")
    learners = [f"learner{i:03d}" for i in range(args.submissions)]
    with tempfile.TemporaryDirectory(prefix="practicum-bench-") as tmp:
        layout = StateLayout(Path(tmp) / "lab")
        layout.create()
        prepare_grading_kernel(layout, build / "public")
        print("preparing two identical courses (nbgrader generate_assignment, release_assignment) ...", flush=True)
        roots = {course_id: make_course(layout, Path(tmp) / "sources", course_id) for course_id in ("sequential", "service")}
        for course_id, root in roots.items():
            submit_everyone(layout, root, course_id, learners)

        print(f"nbgrader collect + autograde, {args.submissions} submissions, sequentially ...", flush=True)
        sequential = nbgrader_sequentially(layout, roots["sequential"])
        print(f"  {sequential:.1f} s", flush=True)
        print(f"grading service, {args.workers} local workers, {args.submissions} submissions at once ...", flush=True)
        service, rows = through_the_service(layout, roots["service"], "service", learners, args.workers, build)
        print(f"  {service:.1f} s", flush=True)

    graded = [GradeResult.model_validate_json(r.grade_result) for r in rows]
    full = sum(1 for g in graded if g.score == 1.0)
    latency = [(r.recorded_at - r.queued_at).total_seconds() for r in rows]
    per_grading = [(r.recorded_at - r.started_at).total_seconds() for r in rows]
    n = args.submissions
    print()
    print(f"{'':34}{'submissions/min':>16}{'wall s':>9}")
    print(f"{'nbgrader autograde, sequential':34}{60 * n / sequential:16.1f}{sequential:9.1f}")
    print(f"{f'grading service, {args.workers} workers':34}{60 * n / service:16.1f}{service:9.1f}")
    print(f"speed-up: {sequential / service:.2f}x (goal >= 3x); {len(rows)}/{n} recorded, {full} with full marks")
    print(f"per grading (claimed to recorded): median {statistics.median(per_grading):.1f} s, max {max(per_grading):.1f} s")
    print(f"submission to recorded result: p50 {percentile(latency, 0.5):.1f} s, p95 {percentile(latency, 0.95):.1f} s")


if __name__ == "__main__":
    main()
