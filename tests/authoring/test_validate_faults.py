"""`practicum course validate` on seeded faults: each is found, with one precise line naming file and cell."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from practicum.authoring.validate import validate_courses
from practicum.lab.layout import REPO_ROOT

WELCOME = REPO_ROOT / "courses" / "intro_medical_ai"
NOTEBOOK = "courses/intro_medical_ai/source/welcome/welcome.ipynb"


@pytest.fixture()
def course(tmp_path) -> Path:
    """A copy of the welcome course (courses/ of its own) to break."""
    shutil.copytree(WELCOME, tmp_path / "courses" / "intro_medical_ai")
    return tmp_path / "courses" / "intro_medical_ai"


@pytest.fixture()
def data_dir(small_build) -> Path:
    return small_build / "public"


def edit_cells(course: Path, change) -> None:
    path = course / "source" / "welcome" / "welcome.ipynb"
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        cell["source"] = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    change({c["metadata"].get("nbgrader", {}).get("grade_id"): c for c in notebook["cells"]})
    path.write_text(json.dumps(notebook, indent=1))


def faults(course: Path, data_dir: Path) -> list[str]:
    report = validate_courses(course.parent, data_dir=data_dir)
    assert not report.ok
    return [fault for c in report.courses for fault in c.faults]


def test_the_unchanged_copy_validates(course, data_dir):
    report = validate_courses(course.parent, data_dir=data_dir)
    assert report.ok, report.to_json()
    assert report.courses[0].autograded_tests == 1


def test_a_solution_left_in_the_release_is_named_with_its_source_cell(course, data_dir):
    # A helper module beside the notebook is released as it is: here it holds the solution.
    (course / "source" / "welcome" / "answers.py").write_text('def tissue_class(hu):\n    if hu < -950:\n        return "air"\n')
    assert faults(course, data_dir) == [
        "release intro_medical_ai/welcome/answers.py (from " + NOTEBOOK + " cell 4 (tissue_class)): "
        "solution text is in the release: 'if hu < -950:'"
    ]


def test_a_hint_the_task_text_shows_on_purpose_is_not_a_leak(course, data_dir):
    def hint(cells):
        cells["task"]["source"] += '\n\nHint: the last line is `return "bone"`.'

    edit_cells(course, hint)
    assert validate_courses(course.parent, data_dir=data_dir).ok


def test_a_hidden_test_in_a_released_file_is_named(course, data_dir):
    (course / "source" / "welcome" / "check.py").write_text('assert tissue_class(-850) == "lung"\n')
    assert faults(course, data_dir) == [
        "release intro_medical_ai/welcome/check.py (from " + NOTEBOOK + " cell 5 (test_tissue_class)): "
        "hidden test text is in the release: 'assert tissue_class(-850) == \"lung\"'"
    ]


def test_a_misspelt_hidden_tests_marker_would_show_the_tests(course, data_dir):
    def typo(cells):
        test = cells["test_tissue_class"]
        test["source"] = test["source"].replace("BEGIN HIDDEN TESTS", "BEGIN HIDDEN TEST").replace("END HIDDEN TESTS", "END HIDDEN TEST")

    edit_cells(course, typo)
    assert faults(course, data_dir) == [
        f"{NOTEBOOK} cell 5 (test_tissue_class): line 3 '### BEGIN HIDDEN TEST' looks like a marker but nbgrader's is "
        "'### BEGIN HIDDEN TESTS': what it encloses would be released",
        f"{NOTEBOOK} cell 5 (test_tissue_class): line 7 '### END HIDDEN TEST' looks like a marker but nbgrader's is "
        "'### END HIDDEN TESTS': what it encloses would be released",
    ]


def test_hidden_tests_outside_a_test_cell_are_named(course, data_dir):
    def move(cells):
        test = cells["test_tissue_class"]
        visible, hidden = test["source"].split("### BEGIN HIDDEN TESTS")
        test["source"] = visible.rstrip()
        cells["setup"]["source"] += "\n### BEGIN HIDDEN TESTS" + hidden

    edit_cells(course, move)
    found = faults(course, data_dir)
    assert f"{NOTEBOOK} cell 2 (setup): hidden tests outside an autograded test cell stay visible " \
        "(nbgrader clears them only in test cells)" in found
    assert f"{NOTEBOOK}: nbgrader generate_assignment failed: RuntimeError: Hidden test region detected in a non-grade cell; " \
        "please make sure all solution regions are within 'Autograder tests' cells." in found


def test_a_test_that_passes_without_the_solution_is_refused(course, data_dir):
    def weak(cells):
        cells["test_tissue_class"]["source"] = "assert callable(tissue_class)"

    edit_cells(course, weak)
    assert faults(course, data_dir) == [
        f"{NOTEBOOK} cell 5 (test_tissue_class): the test passes without the solution "
        "(with the solutions removed it must fail: test what the learner writes)"
    ]


def test_a_solution_that_fails_its_own_tests_is_named(course, data_dir):
    def wrong(cells):
        cells["tissue_class"]["source"] = cells["tissue_class"]["source"].replace('return "bone"', 'return "metal"')

    edit_cells(course, wrong)
    assert faults(course, data_dir) == [f"{NOTEBOOK} cell 5 (test_tissue_class): fails with the solutions: AssertionError: "]


def test_broken_notebook_json_is_one_line(course, data_dir):
    path = course / "source" / "welcome" / "welcome.ipynb"
    path.write_text(path.read_text()[:-40])
    (fault,) = faults(course, data_dir)
    assert fault.startswith(f"{NOTEBOOK}: broken notebook JSON at line ")


def test_an_item_with_no_dimension_is_named(course, data_dir):
    spec = yaml.safe_load((course / "course.yaml").read_text())
    spec["assignments"][0]["weights"] = {}
    (course / "course.yaml").write_text(yaml.safe_dump(spec))
    (fault,) = faults(course, data_dir)
    assert fault.startswith(
        "courses/intro_medical_ai/course.yaml: assignment 'welcome' weights: maps to no capability dimension: add weights:"
    )


def test_an_unknown_dimension_and_an_unlisted_folder_are_named(course, data_dir):
    spec = yaml.safe_load((course / "course.yaml").read_text())
    spec["assignments"][0]["weights"] = {"bedside_manner": 1.0}
    (course / "course.yaml").write_text(yaml.safe_dump(spec))
    (fault,) = faults(course, data_dir)
    assert "assignment 'welcome' weights: unknown dimension bedside_manner (known: ml_engineering," in fault

    spec["assignments"][0]["weights"] = {"ml_engineering": 1.0}
    (course / "course.yaml").write_text(yaml.safe_dump(spec))
    shutil.copytree(course / "source" / "welcome", course / "source" / "stray")
    found = faults(course, data_dir)
    assert found == [
        "courses/intro_medical_ai/source/stray: not an assignment of courses/intro_medical_ai/course.yaml "
        "(add it under assignments, or remove the folder)"
    ]


def test_inconsistent_nbgrader_metadata_is_named_per_cell(course, data_dir):
    def damage(cells):
        cells["test_tissue_class"]["metadata"]["nbgrader"]["locked"] = False
        cells["test_tissue_class"]["metadata"]["nbgrader"]["points"] = 0
        cells["task"]["metadata"]["nbgrader"]["grade_id"] = "setup"

    edit_cells(course, damage)
    found = faults(course, data_dir)
    assert f"{NOTEBOOK} cell 3 (setup): grade_id 'setup' is also cell 2's (grade ids must be unique)" in found
    assert f"{NOTEBOOK} cell 5 (test_tissue_class): a graded cell needs points > 0 (has 0)" in found
    assert f"{NOTEBOOK} cell 5 (test_tissue_class): an autograded test cell must be locked (read-only), or learners can edit the test" in found


def test_a_course_file_that_names_another_folder_is_refused(course, data_dir):
    spec = yaml.safe_load((course / "course.yaml").read_text())
    spec["id"] = "intro"
    (course / "course.yaml").write_text(yaml.safe_dump(spec))
    (fault,) = faults(course, data_dir)
    assert fault == "courses/intro_medical_ai/course.yaml: id 'intro' must equal its folder name 'intro_medical_ai'"
