"""The scripted walk "a new instructor releases a first autograded question", timed, and the time of
`practicum course validate` over every shipped course.

Walk (the CLI, as a newcomer types it; a lab of its own on free ports, small datasets):
  1. `practicum course new first_course` (course file + first notebook)
  2. edit: the question becomes specificity, the roster names a learner (as an editor would save them)
  3. `practicum course validate first_course`
  4. the lab starts with the course (a course new to a lab needs one start; reported apart)
  5. `practicum course release first_course`; the roster learner's `nbgrader list` shows it
  6. a second question in the same course: edit, validate, release into the running lab (no restart),
     and the learner's list shows it

Run: .venv/bin/python bench/course_authoring.py [--build .lab/datasets] [--skip-shipped]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import yaml

from practicum.hub_client import HubClient
from practicum.lab.background import start_background_lab
from practicum.lab.layout import REPO_ROOT

PRACTICUM = str(Path(sys.executable).parent / "practicum")
COURSE = "first_course"
LEARNER = "lea"


def run(*args: str, env: dict[str, str] | None = None) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.monotonic()
    result = subprocess.run([PRACTICUM, *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=600)
    if result.returncode != 0:
        raise SystemExit(f"`practicum {' '.join(args)}` failed:\n{result.stdout}\n{result.stderr}")
    return time.monotonic() - started, result


def edit_question(notebook_path: Path, function: str, formula: str, visible: str, hidden: str) -> None:
    notebook = nbformat.read(str(notebook_path), as_version=4)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id == "task":
            cell.source = f"Write `{function}(tn, fp)`: the share of patients without the condition whom the test clears, {formula}."
        elif grade_id == "sensitivity":
            cell.source = f"def {function}(tn: int, fp: int) -> float:\n    ### BEGIN SOLUTION\n    return tn / (tn + fp)\n    ### END SOLUTION"
            cell.metadata["nbgrader"]["grade_id"] = function
        elif grade_id == "test_sensitivity":
            cell.source = f"{visible}\n### BEGIN HIDDEN TESTS\n{hidden}\n### END HIDDEN TESTS"
            cell.metadata["nbgrader"]["grade_id"] = f"test_{function}"
    nbformat.write(notebook, str(notebook_path))


def learner_sees(hub: HubClient, assignment: str, timeout: float = 60) -> float:
    started = time.monotonic()
    code = "import subprocess\nr = subprocess.run(['nbgrader', 'list'], capture_output=True, text=True)\nprint(r.stdout + r.stderr)"
    while time.monotonic() - started < timeout:
        result = hub.run_code(LEARNER, code, timeout=120)
        if re.search(rf"{COURSE}\s+{assignment}", result.stdout):
            return time.monotonic() - started
        time.sleep(0.5)
    raise SystemExit(f"{LEARNER} does not see {assignment}: {result.stdout}")


def walk(build: Path) -> dict[str, float]:
    figures: dict[str, float] = {}
    root = Path(tempfile.mkdtemp(prefix="course-walk-"))
    courses = root / "courses"
    courses.mkdir()
    shutil.copy(REPO_ROOT / "courses" / "catalog.yaml", courses / "catalog.yaml")
    shutil.copytree(REPO_ROOT / "courses" / "intro_medical_ai", courses / "intro_medical_ai")
    (root / "projects").symlink_to(REPO_ROOT / "projects")
    env = {"PRACTICUM_COURSES_DIR": str(courses), "PRACTICUM_DATA_DIR": str(build / "public")}
    try:
        figures["1_course_new_s"], _ = run("course", "new", COURSE, "--title", "My first course", "--courses-dir", str(courses), env=env)
        started = time.monotonic()
        first = courses / COURSE / "source" / "first_question" / "first_question.ipynb"
        edit_question(first, "specificity", "tn / (tn + fp)", "assert abs(specificity(90, 10) - 0.9) < 1e-9",
                      "assert abs(specificity(1, 3) - 0.25) < 1e-9")
        spec = yaml.safe_load((courses / COURSE / "course.yaml").read_text())
        spec["roster"] = [LEARNER]
        spec["assignments"][0]["title"] = "Specificity"
        (courses / COURSE / "course.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
        figures["2_edit_s"] = time.monotonic() - started
        figures["3_validate_s"], _ = run("course", "validate", COURSE, "--courses-dir", str(courses), env=env)

        started = time.monotonic()
        os.environ.update(env)
        lab = start_background_lab(root / "state", build / "public", timeout=300)
        figures["4_lab_start_with_the_new_course_s"] = time.monotonic() - started
        try:
            figures["5_release_s"], _ = run("course", "release", COURSE, "--courses-dir", str(courses), "--state-dir", str(lab.state_dir), env=env)
            with HubClient(lab.state.hub_api_url, lab.state.public_url, lab.token) as hub:
                started = time.monotonic()
                hub.start_server(LEARNER)
                figures["5_learner_server_start_s"] = time.monotonic() - started
                figures["5_learner_sees_it_s"] = learner_sees(hub, "first_question")

                started = time.monotonic()
                second = courses / COURSE / "source" / "second_question"
                shutil.copytree(first.parent, second)
                (second / "first_question.ipynb").rename(second / "second_question.ipynb")
                spec["assignments"].append({**spec["assignments"][0], "id": "second_question", "title": "Specificity again"})
                (courses / COURSE / "course.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
                figures["6_edit_second_s"] = time.monotonic() - started
                figures["6_validate_second_s"], _ = run("course", "validate", COURSE, "--courses-dir", str(courses), env=env)
                figures["6_release_second_no_restart_s"], _ = run(
                    "course", "release", COURSE, "second_question", "--courses-dir", str(courses), "--state-dir", str(lab.state_dir), env=env
                )
                figures["6_learner_sees_second_s"] = learner_sees(hub, "second_question")
                hub.stop_server(LEARNER)
        finally:
            lab.down()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    figures["walk_without_lab_start_s"] = sum(v for k, v in figures.items() if k[0] in "12356" and k != "5_learner_server_start_s")
    return {k: round(v, 2) for k, v in figures.items()}


def shipped(build: Path) -> dict[str, object]:
    seconds, result = run("course", "validate", "--json", "--data-dir", str(build / "public"))
    report = json.loads(result.stdout)
    return {
        "validate_all_shipped_s": round(seconds, 1),
        "courses": {c["course_id"]: {"notebooks": len(c["notebooks"]), "autograded_test_cells": c["autograded_tests"], "seconds": c["seconds"]}
                    for c in report["courses"]},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=str(REPO_ROOT / ".lab" / "datasets"), help="a small dataset build (public/ inside)")
    parser.add_argument("--skip-shipped", action="store_true", help="only the walk")
    args = parser.parse_args()
    build = Path(args.build)
    out: dict[str, object] = {"cpus": os.cpu_count()}
    if not args.skip_shipped:
        out["shipped"] = shipped(build)
    out["walk"] = walk(build)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
