"""`practicum course new`: a course folder that validates as it is, for the instructor to edit.

A course file and a first assignment whose notebook has a setup cell, one solution block, and one
test cell with a visible and a hidden assert.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import yaml

from .course_file import COURSE_FILE, COURSE_ID, USER_NAME
from .errors import AuthoringError

FIRST_ASSIGNMENT = "first_question"


def new_course(
    courses_dir: Path, course_id: str, *, title: str = "", instructors: tuple[str, ...] = ("instructor",), assignment: str = FIRST_ASSIGNMENT
) -> Path:
    """Write courses/<course_id>/ (course file and first notebook); returns the folder. Refuses to touch an
    existing folder."""
    if not re.match(COURSE_ID, course_id):
        raise AuthoringError(
            f"course id {course_id!r}: letters, digits and '_' only, starting with a letter (nbgrader reads it from hub group names)"
        )
    if not re.match(COURSE_ID, assignment):
        raise AuthoringError(f"assignment id {assignment!r}: letters, digits and '_' only, starting with a letter")
    for name in instructors:
        if not re.match(USER_NAME, name):
            raise AuthoringError(f"instructor {name!r} is not a hub user name (lower-case letters, digits, '_', '.', '@', '-')")
    folder = courses_dir / course_id
    if folder.exists():
        raise AuthoringError(f"{folder} exists already: pick another id, or edit its {COURSE_FILE}")
    source = folder / "source" / assignment
    source.mkdir(parents=True)
    (folder / COURSE_FILE).write_text(course_file_text(course_id, title or course_id.replace("_", " ").capitalize(), instructors, assignment))
    nbformat.write(first_notebook(), str(source / f"{assignment}.ipynb"))
    return folder


def course_file_text(course_id: str, title: str, instructors: tuple[str, ...], assignment: str) -> str:
    body = {
        "id": course_id,
        "title": title,
        "summary": "One or two sentences shown in the catalog.",
        "instructors": list(instructors),
        "level": 1,
        "hours": 1,
        "prerequisites": [],
        "enrolment": "self",
        "roster": [],
        "assignments": [
            {
                "id": assignment,
                "title": "A first autograded question",
                "level": 1,
                "hours": 1,
                "weights": {"medical_statistics": 1.0},
            }
        ],
    }
    header = (
        "# The course file (docs/authoring.md): levels 1..4, hours, prerequisites (course or item ids),\n"
        "# enrolment self | roster, roster = hub user names enrolled by the lab; every assignment maps to\n"
        "# capability dimensions with weights in (0, 1]; due: \"YYYY-MM-DD\" is optional.\n"
    )
    return header + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)


def _cell(kind: str, source: str, grade_id: str, *, grade: bool = False, solution: bool = False, points: int = 0) -> nbformat.NotebookNode:
    meta = {"grade": grade, "grade_id": grade_id, "locked": not solution, "schema_version": 3, "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
    return make(source, metadata={"nbgrader": meta})


def first_notebook() -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    notebook.cells = [
        _cell("markdown", "# A first autograded question\n\nReplace this text with what the learner should know.", "intro"),
        _cell(
            "code",
            "import os\nfrom pathlib import Path\n\n"
            "DATA_DIR = Path(os.environ.get(\"PRACTICUM_DATA_DIR\", \"/datasets\"))",
            "setup",
        ),
        _cell(
            "markdown",
            "Write `sensitivity(tp, fn)`: the share of patients with the condition whom the test finds, tp / (tp + fn).",
            "task",
        ),
        _cell(
            "code",
            "def sensitivity(tp: int, fn: int) -> float:\n    ### BEGIN SOLUTION\n    return tp / (tp + fn)\n    ### END SOLUTION",
            "sensitivity",
            solution=True,
        ),
        _cell(
            "code",
            "assert abs(sensitivity(90, 10) - 0.9) < 1e-9\n"
            "### BEGIN HIDDEN TESTS\nassert abs(sensitivity(1, 3) - 0.25) < 1e-9\n### END HIDDEN TESTS",
            "test_sensitivity",
            grade=True,
            points=1,
        ),
    ]
    return notebook
