"""Autograde many learners of one course at once: each grading runs nbgrader in a copy of the course.

nbgrader is not safe in parallel on one gradebook (nbgrader #917). A grading therefore copies what
nbgrader reads (the assignment's source and release folders, a
consistent snapshot of the gradebook) into a folder of its own, runs collect and autograde there
with no lock held, and merges back what they wrote for that one learner: their submitted and
autograded folders (folders and regular files only: the learner's code ran there), and their
submission's rows of the gradebook. Copying and merging take the
course's lock for milliseconds; the notebooks run outside it.

The course folder is the instructor's (their formgrader writes it), and nbgrader runs code from the
folder it grades in (``nbgrader_config.py``, and any module there: it puts its working folder first on
``sys.path``). So the copy gets the grader's own nbgrader_config.py (``grading_config``), never the
course's, and lives where only the grader can reach it (``scratch_root``), not in the course folder,
where its owner could swap it while nbgrader runs.

The snapshot and the course share every row id (it is a copy), so the merged rows point at the
course's own assignment, notebooks and cells; a merge after the assignment was generated again
(other cell ids) is refused and the grading is run again.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from practicum.sandbox.readback import TreeLimits, copy_tree

GRADEBOOK = "gradebook.db"
CONFIG = "nbgrader_config.py"
LOCK = ".practicum-grading.lock"
_BUSY_SECONDS = 60.0


class CourseChanged(RuntimeError):
    """The course's assignment changed while the copy was graded: its results no longer fit."""


@contextmanager
def course_lock(course_root: Path) -> Iterator[None]:
    """One writer of a course's gradebook and folders at a time, across the processes of this machine."""
    with open(course_root / LOCK, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def grading_config(course_id: str, kernel_name: str | None) -> str:
    """The nbgrader settings a grading copy runs with: the course's id and the kernel notebooks run in."""
    kernel = [f"c.Execute.kernel_name = {kernel_name!r}"] if kernel_name else []
    return "\n".join(["# Written by practicum's grader for one grading.", "c = get_config()  # noqa: F821",
                      f"c.CourseDirectory.course_id = {course_id!r}", *kernel, ""])


def scratch_root(course_root: Path) -> Path:
    """Where the gradings of a course are copied: beside the course folders (the same file system), in a
    folder of the grader's own (mode 0700) that the course's owner cannot enter, rename or replace."""
    root = course_root.parent / ".grading-copies"
    root.mkdir(mode=0o700, exist_ok=True)
    if root.is_symlink() or root.stat().st_uid != os.geteuid() or root.stat().st_mode & 0o077:
        raise PermissionError(f"{root} must be a folder of the grader's own, mode 0700")
    return root


def copy_for_grading(course_root: Path, assignment: str, into: Path, student: str, config: str) -> Path:
    """A course folder at ``into`` that nbgrader can grade ``student``'s ``assignment`` in, with ``config`` as
    its nbgrader_config.py (see ``grading_config``); returns it."""
    into.mkdir(parents=True)
    (into / CONFIG).write_text(config)
    with course_lock(course_root):
        for kind in ("source", "release"):
            if (course_root / kind / assignment).is_dir():
                shutil.copytree(course_root / kind / assignment, into / kind / assignment, symlinks=True)
        if (course_root / GRADEBOOK).exists():
            _snapshot(course_root / GRADEBOOK, into / GRADEBOOK, student)
    return into


def merge_graded(copy_root: Path, course_root: Path, assignment: str, student: str, limits: TreeLimits) -> list[Path]:
    """Bring ``student``'s graded submission of ``assignment`` from the copy into the course (replacing theirs);
    returns the course's folders it wrote.

    The graded notebook ran in its folder, so the learner's code may have left anything there: only folders
    and regular files within ``limits`` are taken, first into the course beside their target; anything
    else (a link, a FIFO) raises UnsafeFile before the course's gradebook or folders change."""
    written = []
    with course_lock(course_root):
        incoming: dict[Path, Path] = {}
        made = [p for kind in ("submitted", "autograded") for p in (course_root / kind, course_root / kind / student) if not p.exists()]
        try:
            for kind in ("submitted", "autograded"):
                graded, target = copy_root / kind / student / assignment, course_root / kind / student / assignment
                if graded.is_dir():
                    incoming[target] = target.with_name(f".{assignment}.merging")
                    shutil.rmtree(incoming[target], ignore_errors=True)
                    copy_tree(graded, incoming[target], limits)
            _merge_rows(copy_root / GRADEBOOK, course_root / GRADEBOOK, assignment, student)
        except BaseException:
            for taken in incoming.values():
                shutil.rmtree(taken, ignore_errors=True)
            for folder in reversed(made):  # the course as it was: no empty folder of this learner's left
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
            raise
        for kind in ("submitted", "autograded"):
            target = course_root / kind / student / assignment
            if target.exists():
                shutil.rmtree(target)
            if target in incoming:
                incoming[target].rename(target)
                written.append(target.parent)
    return written


# The rows of one submitted assignment, child tables last; each query selects the rows to copy or delete.
_SUBMISSION = "SELECT sa.id FROM {db}.submitted_assignment sa JOIN {db}.assignment a ON a.id = sa.assignment_id WHERE a.name = :assignment AND sa.student_id = :student"
_NOTEBOOKS = "SELECT id FROM {db}.submitted_notebook WHERE assignment_id IN (" + _SUBMISSION + ")"
_ROWS = (
    ("submitted_assignment", "id IN (" + _SUBMISSION + ")"),
    ("submitted_notebook", "id IN (" + _NOTEBOOKS + ")"),
    ("grade", "notebook_id IN (" + _NOTEBOOKS + ")"),
    ("comment", "notebook_id IN (" + _NOTEBOOKS + ")"),
)
# Every reference of the copied rows into the course's assignment definitions must resolve there.
_DANGLING = (
    "SELECT count(*) FROM main.submitted_assignment WHERE id IN (" + _SUBMISSION.format(db="main") + ") "
    "AND assignment_id NOT IN (SELECT id FROM main.assignment)",
    "SELECT count(*) FROM main.submitted_notebook WHERE id IN (" + _NOTEBOOKS.format(db="main") + ") "
    "AND notebook_id NOT IN (SELECT id FROM main.notebook)",
    "SELECT count(*) FROM main.grade WHERE notebook_id IN (" + _NOTEBOOKS.format(db="main") + ") "
    "AND cell_id NOT IN (SELECT id FROM main.base_cell)",
    "SELECT count(*) FROM main.comment WHERE notebook_id IN (" + _NOTEBOOKS.format(db="main") + ") "
    "AND cell_id NOT IN (SELECT id FROM main.base_cell)",
)


# The tables that hold learners' submissions, each with the rows of one learner; every other table is copied whole.
_OWN_ROWS = {
    "submitted_assignment": "student_id = :student",
    "submitted_notebook": "assignment_id IN (SELECT id FROM main.submitted_assignment WHERE student_id = :student)",
    "grade": "notebook_id IN (SELECT id FROM main.submitted_notebook WHERE assignment_id IN "
             "(SELECT id FROM main.submitted_assignment WHERE student_id = :student))",
    "comment": "notebook_id IN (SELECT id FROM main.submitted_notebook WHERE assignment_id IN "
               "(SELECT id FROM main.submitted_assignment WHERE student_id = :student))",
}


def _snapshot(course_db: Path, copy_db: Path, student: str) -> None:
    """A copy of the gradebook's definitions and ``student``'s submissions, read in one transaction."""
    with closing(_connect(course_db)) as connection:
        schema = connection.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
            "ORDER BY type = 'table' DESC"
        ).fetchall()
        with closing(_connect(copy_db)) as copy:
            for _, _, sql in schema:
                copy.execute(sql)
        connection.execute("ATTACH DATABASE ? AS snapshot", (str(copy_db),))
        connection.execute("BEGIN")
        try:
            for kind, table, _ in schema:
                if kind == "table":
                    where = _OWN_ROWS.get(table, "1")
                    connection.execute(f'INSERT INTO snapshot."{table}" SELECT * FROM main."{table}" WHERE {where}', {"student": student})
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")


def _merge_rows(copy_db: Path, course_db: Path, assignment: str, student: str) -> None:
    names = {"assignment": assignment, "student": student}
    with closing(_connect(course_db)) as connection:
        connection.execute("ATTACH DATABASE ? AS graded", (str(copy_db),))
        connection.execute("BEGIN IMMEDIATE")
        try:
            for table, where in reversed(_ROWS):
                connection.execute(f"DELETE FROM main.{table} WHERE {where.format(db='main')}", names)
            connection.execute("INSERT OR IGNORE INTO main.student SELECT * FROM graded.student WHERE id = :student", names)
            for table, where in _ROWS:
                connection.execute(f"INSERT INTO main.{table} SELECT * FROM graded.{table} WHERE {where.format(db='graded')}", names)
            if any(connection.execute(query, names).fetchone()[0] for query in _DANGLING):
                raise CourseChanged(f"{assignment} changed in the course while {student}'s submission was graded")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, timeout=_BUSY_SECONDS, isolation_level=None)  # transactions are begun here
