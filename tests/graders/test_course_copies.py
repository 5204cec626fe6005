"""Learners of one course autograded at once, each in a copy of the course merged back
(graders.course_copies): the course's gradebook ends with each learner's own grades, the formgrader's
folders with their own notebooks, and a merge into a course whose assignment changed meanwhile is
refused without touching it."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
from nbgrader.api import Gradebook
from test_exchange_collect import (
    ASSIGNMENT,
    COURSE,
    NBGRADER,
    generated,  # noqa: F401 (a fixture)
    nbgrader_env,
)
from test_exchange_collect import course as collector_course  # noqa: F401 (a fixture)

from practicum.graders.autograde import SUBMISSION_LIMITS, AutogradeError, autograde_submission
from practicum.graders.course_copies import CourseChanged, copy_for_grading, grading_config, merge_graded, scratch_root
from practicum.lab.courses import course_nbgrader_config
from practicum.sandbox.readback import UnsafeFile

RIGHT = "def tissue_class(hu):\n    return 'air' if hu < -950 else 'lung' if hu < -500 else 'soft tissue' if hu < 300 else 'bone'\n"


@pytest.fixture
def course_here(collector_course, tmp_path):  # noqa: F811 (the imported fixture)
    """The collector's course, its notebooks run by a plain kernel (the sandboxed one is the lab's)."""
    course = collector_course
    (course.root / "nbgrader_config.py").write_text(course_nbgrader_config(COURSE, tmp_path / "exchange", tmp_path / "inbound", sandboxed=False))
    return course


def grade_in_a_copy(course, learner: str, folder, scratch) -> float:
    copy = copy_for_grading(course.root, ASSIGNMENT, scratch / learner, learner, grading_config(COURSE, None))
    outcome = autograde_submission(copy, COURSE, ASSIGNMENT, learner, nbgrader=str(NBGRADER), env=nbgrader_env(), submission=folder)
    merge_graded(copy, course.root, ASSIGNMENT, learner, SUBMISSION_LIMITS)
    return outcome.score


def answered(course, learner: str, source: str):
    folder = course.submit(learner, learner)
    notebook = (folder / f"{ASSIGNMENT}.ipynb")
    notebook.write_text(notebook.read_text().replace(f"# {learner}\\ndef tissue_class(hu):\\n    return 'air'\\n", source.replace("\n", "\\n")))
    return folder


def scores(course) -> dict[str, float]:
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}", course_id=COURSE) as gradebook:
        return {s.student.id: s.score for s in gradebook.assignment_submissions(ASSIGNMENT)}


def test_learners_graded_at_once_in_copies_each_get_their_own_grades_in_the_course(course_here, tmp_path):
    course = course_here
    folders = {"ada": answered(course, "ada", RIGHT), "bo": answered(course, "bo", "def tissue_class(hu):\n    return 'air'\n")}
    with ThreadPoolExecutor(2) as pool:
        graded = dict(zip(folders, pool.map(lambda item: grade_in_a_copy(course, *item, tmp_path / "scratch"), folders.items()), strict=True))
    assert graded["ada"] > graded["bo"]
    assert scores(course) == graded
    for learner in folders:
        kept = (course.root / "autograded" / learner / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
        assert ("'soft tissue'" in kept) == (learner == "ada")
    # Grading again replaces the learner's grades, and only theirs.
    again = answered(course, "bo", RIGHT)
    assert grade_in_a_copy(course, "bo", again, tmp_path / "again") == graded["ada"]
    assert scores(course) == {"ada": graded["ada"], "bo": graded["ada"]}
    # A grading's snapshot holds the course's definitions and that learner's submissions, no one else's.
    snapshot = copy_for_grading(course.root, ASSIGNMENT, tmp_path / "snapshot", "ada", grading_config(COURSE, None))
    with sqlite3.connect(snapshot / "gradebook.db") as copied, sqlite3.connect(course.root / "gradebook.db") as whole:
        assert copied.execute("SELECT DISTINCT student_id FROM submitted_assignment").fetchall() == [("ada",)]
        for table in ("student", "assignment", "notebook", "base_cell", "grade_cells"):
            assert copied.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall() == whole.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
        ada = "(SELECT sn.id FROM submitted_notebook sn JOIN submitted_assignment sa ON sa.id = sn.assignment_id WHERE sa.student_id = 'ada')"
        assert copied.execute("SELECT count(*) FROM grade").fetchone() == whole.execute(f"SELECT count(*) FROM grade WHERE notebook_id IN {ada}").fetchone() > (0,)
    # nbgrader reads the merged gradebook as its own.
    listed = subprocess.run([str(NBGRADER), "db", "student", "list"], cwd=course.root, env=nbgrader_env(), capture_output=True, text=True)
    assert listed.returncode == 0 and "ada" in listed.stdout + listed.stderr and "bo" in listed.stdout + listed.stderr


def test_a_merge_into_a_changed_assignment_is_refused_and_the_course_kept(course_here, tmp_path):
    course = course_here
    folder = answered(course, "ada", RIGHT)
    copy = copy_for_grading(course.root, ASSIGNMENT, tmp_path / "copy", "ada", grading_config(COURSE, None))
    autograde_submission(copy, COURSE, ASSIGNMENT, "ada", nbgrader=str(NBGRADER), env=nbgrader_env(), submission=folder)
    with sqlite3.connect(course.root / "gradebook.db") as connection:  # as if the assignment was generated anew
        connection.execute("UPDATE base_cell SET id = id || 'x'")
        before = connection.execute("SELECT count(*) FROM grade").fetchone()
    with pytest.raises(CourseChanged, match="changed in the course"):
        merge_graded(copy, course.root, ASSIGNMENT, "ada", SUBMISSION_LIMITS)
    with sqlite3.connect(course.root / "gradebook.db") as connection:
        assert connection.execute("SELECT count(*) FROM grade").fetchone() == before
    assert not (course.root / "autograded" / "ada").exists()
    shutil.rmtree(copy)


HOSTILE = (
    "import os\n"
    "os.mkfifo('trap')  # a merge that opens it waits forever\n"
    "os.symlink('/etc/shadow', 'leak')\n" + RIGHT
)


def test_what_a_hostile_notebook_leaves_in_its_folder_never_reaches_the_course(course_here, tmp_path):
    course = course_here
    folder = answered(course, "ada", HOSTILE)
    copy = copy_for_grading(course.root, ASSIGNMENT, tmp_path / "copy", "ada", grading_config(COURSE, None))
    autograde_submission(copy, COURSE, ASSIGNMENT, "ada", nbgrader=str(NBGRADER), env=nbgrader_env(), submission=folder)
    left = copy / "autograded" / "ada" / ASSIGNMENT
    assert (left / "trap").is_fifo() and (left / "leak").is_symlink()  # the kernel ran in that folder
    with ThreadPoolExecutor(1) as pool:  # a merge that blocked on the FIFO would fail the test, not hang it
        merging = pool.submit(merge_graded, copy, course.root, ASSIGNMENT, "ada", SUBMISSION_LIMITS)
        with pytest.raises(UnsafeFile):
            merging.result(timeout=60)
    with sqlite3.connect(course.root / "gradebook.db") as connection:
        assert connection.execute("SELECT count(*) FROM submitted_assignment").fetchone() == (0,)
    assert not (course.root / "autograded" / "ada").exists() or not list((course.root / "autograded" / "ada").iterdir())


def test_code_an_instructor_leaves_in_the_course_folder_never_runs_with_the_graders_rights(course_here, tmp_path):
    """The formgrader (the instructor) writes the course folder; nbgrader, run by the grader, executes its
    folder's nbgrader_config.py and imports from its working folder first."""
    course = course_here
    marker = tmp_path / "ran-as-grader"
    payload = f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"
    (course.root / "nbgrader_config.py").write_text(payload + (course.root / "nbgrader_config.py").read_text())
    (course.root / "nbgrader_config.json").write_text('{"Execute": {"kernel_name": "no-such-kernel"}}')
    (course.root / "csv.py").write_text(payload)
    folder = answered(course, "ada", RIGHT)
    graded = grade_in_a_copy(course, "ada", folder, tmp_path / "scratch")
    assert not marker.exists() and graded == scores(course)["ada"] > 0
    # Run in the course folder itself (as `practicum autograde` does), nbgrader is refused, naming what lies there.
    with pytest.raises(AutogradeError, match=r"holds csv\.py, nbgrader_config\.json: nbgrader would run or import it"):
        autograde_submission(course.root, COURSE, ASSIGNMENT, "ada", nbgrader=str(NBGRADER), env=nbgrader_env(), submission=folder)
    assert not marker.exists()


def test_grading_copies_live_where_the_course_owner_cannot_reach_them(tmp_path):
    course = tmp_path / "courses" / "c"
    course.mkdir(parents=True)
    root = scratch_root(course)
    assert root.parent == course.parent and root.stat().st_mode & 0o777 == 0o700
    root.chmod(0o755)
    with pytest.raises(PermissionError, match="mode 0700"):
        scratch_root(course)
