"""The content courses: course files per COURSE_FILE.md, and every source notebook runs with its solutions and
fails its autograded tests without them (nbgrader's ClearSolutions, as a release would strip them).

Notebooks run with the python3 kernel through nbclient on the small build's public data, with their
``parameters`` cells shortened the way CI runs them (papermill's habit).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat
import pytest
import yaml
from nbclient import NotebookClient
from nbgrader.preprocessors import ClearSolutions

from practicum.contracts.capabilities import Dimension

COURSES_DIR = Path(__file__).resolve().parents[2] / "courses"
COURSES = ("medical_statistics", "medical_imaging_dicom", "python_dl_clinicians", "clinical_collaboration")
SHORT_PARAMETERS = {"n_boot": "60", "max_series": "6"}
COURSE_KEYS = {"id", "title", "summary", "instructors", "level", "hours", "prerequisites", "enrolment", "roster", "assignments"}
ITEM_KEYS = {"id", "title", "level", "hours", "due", "prerequisites", "weights", "scored_by"}


def _course(course_id: str) -> dict:
    return yaml.safe_load((COURSES_DIR / course_id / "course.yaml").read_text(encoding="utf-8"))


def _notebooks() -> list[Path]:
    return sorted(p for c in COURSES for p in (COURSES_DIR / c / "source").glob("*/*.ipynb"))


def _nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


@pytest.mark.parametrize("course_id", COURSES)
def test_course_file_follows_the_contract(course_id):
    course = _course(course_id)
    assert set(course) <= COURSE_KEYS and {"id", "title", "summary", "instructors", "level", "hours", "assignments"} <= set(course)
    assert course["id"] == course_id and re.fullmatch(r"[A-Za-z0-9_]+", course_id)
    assert 1 <= course["level"] <= 4 and course["hours"] > 0 and course["enrolment"] in ("self", "roster")
    assert course["instructors"] and len(course["assignments"]) >= 2
    known = {d.value for d in Dimension}
    ids = [a["id"] for a in course["assignments"]]
    assert len(ids) == len(set(ids))
    source = COURSES_DIR / course_id / "source"
    assert sorted(p.name for p in source.iterdir() if p.is_dir()) == sorted(ids), "one source folder per assignment"
    for item in course["assignments"]:
        assert set(item) <= ITEM_KEYS and re.fullmatch(r"[A-Za-z0-9_]+", item["id"])
        assert list((source / item["id"]).glob("*.ipynb")), f"{item['id']} has no notebook"
        assert item["weights"] and set(item["weights"]) <= known, item["weights"]
        assert all(0 < w <= 1 for w in item["weights"].values())
        assert 1 <= item["level"] <= 4 and item["hours"] > 0
        for prerequisite in item.get("prerequisites", []):
            if prerequisite.startswith(f"{course_id}/"):
                assert prerequisite.split("/", 1)[1] in ids[: ids.index(item["id"])], "prerequisites come earlier"
    assert sum(a["hours"] for a in course["assignments"]) == course["hours"]


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: f"{p.parent.parent.parent.name}/{p.parent.name}")
def test_notebook_metadata_follows_the_habits(path):
    nb = nbformat.read(path, as_version=4)
    cells = nb.cells
    ids = [_nbgrader(c).get("grade_id") for c in cells]
    assert all(ids) and len(ids) == len(set(ids)) and all(_nbgrader(c)["schema_version"] == 3 for c in cells)
    first_code = next(c for c in cells if c.cell_type == "code")
    assert _nbgrader(first_code)["grade_id"] == "setup" and 'os.environ.get("PRACTICUM_DATA_DIR", "/datasets")' in first_code.source
    tests = [c for c in cells if c.cell_type == "code" and _nbgrader(c).get("grade")]
    assert tests and all(_nbgrader(c)["points"] > 0 for c in tests)
    for cell in tests:
        visible = cell.source.split("### BEGIN HIDDEN TESTS")[0]
        assert "assert" in visible and "### BEGIN HIDDEN TESTS" in cell.source, _nbgrader(cell)["grade_id"]
    for index, cell in enumerate(cells):
        meta = _nbgrader(cell)
        if cell.cell_type == "markdown" and meta.get("grade"):  # a manually graded answer: its rubric is just above
            assert meta["solution"] and meta["points"] > 0 and "Rubric" in cells[index - 1].source
            points = sum(int(p) for p in re.findall(r"\*\*(\d+) pt\*\*", cells[index - 1].source))
            assert points == meta["points"], f"{meta['grade_id']}: rubric gives {points}, cell {meta['points']}"


def test_the_collaboration_course_is_mostly_graded_by_hand():
    manual = autograded = 0
    for path in (COURSES_DIR / "clinical_collaboration" / "source").glob("*/*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = _nbgrader(cell)
            if meta.get("grade"):
                if cell.cell_type == "markdown":
                    manual += meta["points"]
                else:
                    autograded += meta["points"]
    assert manual > 2 * autograded > 0


def _shorten(nb):
    for cell in nb.cells:
        if "parameters" in cell.metadata.get("tags", []):
            for name, value in SHORT_PARAMETERS.items():
                cell.source = re.sub(rf"^{name} = .*$", f"{name} = {value}", cell.source, flags=re.M)
    return nb


def _solved_then_stripped(source, folder: Path):
    """One kernel runs the notebook with its solutions, then - after ``%reset -f`` (every name gone; imported
    modules stay loaded, which saves a kernel start and the imports) and a change to a fresh folder - the same
    notebook as ClearSolutions leaves it. Returns the executed (solved, stripped) cells."""
    stripped, _ = ClearSolutions().preprocess(copy.deepcopy(source), {})
    assert "### BEGIN SOLUTION" not in "".join(c.source for c in stripped.cells)
    (folder / "solved").mkdir()
    (folder / "stripped").mkdir()
    combined = copy.deepcopy(source)
    reset = nbformat.v4.new_code_cell(f"%reset -f\nimport os\nos.chdir({str(folder / 'stripped')!r})")
    combined.cells = [*combined.cells, reset, *stripped.cells]
    NotebookClient(
        combined, timeout=120, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(folder / "solved")}}
    ).execute()
    n = len(source.cells)
    return combined.cells[:n], combined.cells[n + 1 :], combined.cells[n]


def _error(cell) -> str | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output['ename']}: {output['evalue']}"
    return None


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: f"{p.parent.parent.parent.name}/{p.parent.name}")
def test_notebook_runs_with_solutions_and_fails_without(path, small_build, tmp_path, monkeypatch):
    monkeypatch.setenv("PRACTICUM_DATA_DIR", str(small_build / "public"))
    solved, stripped, reset = _solved_then_stripped(_shorten(nbformat.read(path, as_version=4)), tmp_path)
    failures = [(_nbgrader(c)["grade_id"], _error(c)) for c in solved if c.cell_type == "code" and _error(c)]
    assert not failures, f"the notebook fails with its solutions: {failures}"
    assert _error(reset) is None
    passing = [_nbgrader(c)["grade_id"] for c in stripped if c.cell_type == "code" and _nbgrader(c).get("grade") and not _error(c)]
    assert not passing, f"autograded tests that pass without a solution: {passing}"
    assert any(_error(c) and "NotImplementedError" in _error(c) for c in stripped), "the stubs raise NotImplementedError"


def test_a_test_that_passes_without_its_solution_is_caught(tmp_path):
    """The check above can fail: a graded cell that does not depend on the solution passes when stripped."""
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    meta = {"grade": False, "grade_id": "answer", "locked": False, "schema_version": 3, "solution": True, "task": False}
    graded = {"grade": True, "grade_id": "weak_test", "locked": True, "points": 1, "schema_version": 3, "solution": False, "task": False}
    nb.cells = [
        nbformat.v4.new_code_cell("### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION", metadata={"nbgrader": meta}),
        nbformat.v4.new_code_cell("assert 1 + 1 == 2", metadata={"nbgrader": graded}),
    ]
    solved, stripped, _ = _solved_then_stripped(nb, tmp_path)
    assert not any(_error(c) for c in solved)
    assert _error(stripped[0]) and "NotImplementedError" in _error(stripped[0])
    assert _error(stripped[1]) is None, "the weak test passes without the solution, which the check reports"
