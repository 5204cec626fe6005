"""Every shipped course validates: each source notebook runs top to bottom with its solutions on the
lab's small datasets (the suite's check that every shipped notebook executes), nothing secret is
released, and the autograded tests fail without the solutions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from practicum.authoring import load_catalog
from practicum.authoring.catalog import course_dirs
from practicum.authoring.skeleton import new_course
from practicum.authoring.validate import validate_courses
from practicum.lab.layout import REPO_ROOT

PRACTICUM = str(Path(sys.executable).parent / "practicum")


def test_every_shipped_course_validates(small_build):
    report = validate_courses(REPO_ROOT / "courses", data_dir=small_build / "public")
    faults = [f for c in report.courses for f in c.faults] + list(report.faults)
    assert faults == [], "\n".join(faults)
    assert {c.course_id for c in report.courses} == {d.name for d in course_dirs(REPO_ROOT / "courses")}
    assert all(c.notebooks and c.autograded_tests >= 1 for c in report.courses)


def test_course_new_then_validate_passes_from_the_command_line(tmp_path, small_build):
    courses = tmp_path / "courses"
    courses.mkdir()
    made = subprocess.run([PRACTICUM, "course", "new", "first_course", "--title", "First course", "--courses-dir", str(courses)],
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    checked = subprocess.run(
        [PRACTICUM, "course", "validate", "--courses-dir", str(courses), "--data-dir", str(small_build / "public")],
        capture_output=True, text=True, timeout=120,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "ok first_course: 1 notebook(s), 1 autograded test cell(s)" in checked.stdout
    (course,) = load_catalog(courses).courses
    assert course.title == "First course" and course.assignment_ids == ("first_question",)


def test_course_new_refuses_a_bad_id_and_an_existing_folder(tmp_path):
    import pytest

    from practicum.authoring import AuthoringError

    with pytest.raises(AuthoringError, match="letters, digits and '_' only"):
        new_course(tmp_path, "my-course")
    new_course(tmp_path, "mine")
    before = (tmp_path / "mine" / "course.yaml").read_text()
    with pytest.raises(AuthoringError, match="exists already"):
        new_course(tmp_path, "mine", title="Other")
    assert (tmp_path / "mine" / "course.yaml").read_text() == before


def test_validate_names_an_unknown_course_in_one_line(tmp_path):
    result = subprocess.run([PRACTICUM, "course", "validate", "nope", "--courses-dir", str(REPO_ROOT / "courses")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "courses/nope: no such course folder (courses: " in result.stdout
