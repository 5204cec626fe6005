"""`practicum course validate`: is a course safe and working to release?

For every notebook of every assignment: the source runs top to bottom with its solutions (the lab's
kernel, the lab's public datasets); nbgrader's release holds no solution and no hidden-test text (each
distinctive line of those blocks is looked for in every released file's bytes); without the solutions
the autograded tests fail; the nbgrader metadata is consistent. The course file must match the folders
and map every item to capability dimensions. Each fault is one line naming the file and the cell.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .catalog import course_dirs
from .course_file import CourseFile, load_course_file
from .errors import AuthoringError
from .execution import lab_data_dir, run_notebook
from .generate import NOT_SOURCES, generate_release
from .notebooks import (
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    END_HIDDEN,
    END_SOLUTION,
    blocks,
    cell_label,
    encodings,
    is_autograded_test,
    nbgrader_meta,
    public_text,
    read_notebook,
    secrets,
)

NBGRADER_SCHEMA = 3
_NBGRADER = threading.Lock()


@dataclass(frozen=True)
class NotebookReport:
    path: str
    autograded_tests: int
    seconds: float


@dataclass(frozen=True)
class CourseReport:
    course_id: str
    faults: tuple[str, ...]
    notebooks: tuple[NotebookReport, ...] = ()
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.faults

    @property
    def autograded_tests(self) -> int:
        return sum(n.autograded_tests for n in self.notebooks)


@dataclass(frozen=True)
class ValidationReport:
    courses: tuple[CourseReport, ...]
    seconds: float
    data_dir: str = ""
    faults: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.courses) and not self.faults

    def to_json(self) -> str:
        body: dict[str, Any] = asdict(self)
        body["ok"] = self.ok
        for course, report in zip(body["courses"], self.courses, strict=True):
            course["ok"], course["autograded_tests"] = report.ok, report.autograded_tests
        return json.dumps(body, indent=2)


Progress = Callable[[str], None]


def validate_courses(
    courses_dir: Path,
    course_ids: Sequence[str] = (),
    *,
    data_dir: Path | None = None,
    timeout: int = 120,
    progress: Progress | None = None,
    jobs: int = 2,
) -> ValidationReport:
    """Validate the named courses of ``courses_dir`` (all of them when none is named)."""
    started = time.monotonic()
    data_dir = data_dir or lab_data_dir()
    folders = {d.name: d for d in course_dirs(courses_dir)}
    unknown = [c for c in course_ids if c not in folders]
    if unknown:
        known = ", ".join(sorted(folders)) or "none"
        return ValidationReport((), 0.0, str(data_dir), tuple(f"{courses_dir / c}: no such course folder (courses: {known})" for c in unknown))
    reports = [
        validate_course(folders[c], data_dir=data_dir, timeout=timeout, progress=progress, shown_root=courses_dir.parent, jobs=jobs)
        for c in (course_ids or sorted(folders))
    ]
    return ValidationReport(tuple(reports), round(time.monotonic() - started, 2), str(data_dir))


def validate_course(
    course_dir: Path, *, data_dir: Path, timeout: int = 120, progress: Progress | None = None, shown_root: Path | None = None,
    jobs: int = 2,
) -> CourseReport:
    started = time.monotonic()
    shown_root = shown_root or course_dir.parent.parent

    def shown(path: Path) -> str:
        try:
            return str(path.relative_to(shown_root))
        except ValueError:
            return str(path)

    try:
        course = load_course_file(course_dir)
    except AuthoringError as exc:
        return CourseReport(course_dir.name, (_relative(str(exc), shown_root),))
    faults = _folder_faults(course, course_dir, shown)
    notebooks: list[NotebookReport] = []
    work = [
        (assignment.id, path)
        for assignment in course.assignments
        if (course_dir / "source" / assignment.id).is_dir()
        for path in sorted((course_dir / "source" / assignment.id).glob("*.ipynb"))
    ]

    def one(item: tuple[str, Path]) -> tuple[NotebookReport | None, list[str]]:
        if progress:
            progress(f"{shown(item[1])} ...")
        return _validate_notebook(course, item[0], item[1], shown(item[1]), data_dir, timeout)

    # Notebooks run in kernels of their own: a few at once keep the cores busy while others start.
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for report, found in pool.map(one, work):
            faults += found
            if report is not None:
                notebooks.append(report)
    return CourseReport(course.id, tuple(faults), tuple(notebooks), round(time.monotonic() - started, 2))


def _relative(message: str, root: Path) -> str:
    return message.replace(str(root) + "/", "")


def _folder_faults(course: CourseFile, course_dir: Path, shown: Callable[[Path], str]) -> list[str]:
    faults = []
    course_file = shown(course_dir / "course.yaml")
    listed = set(course.assignment_ids)
    for assignment in course.assignments:
        folder = course_dir / "source" / assignment.id
        if not folder.is_dir():
            faults.append(f"{course_file}: assignment {assignment.id!r} has no folder {shown(folder)}")
        elif not list(folder.glob("*.ipynb")):
            faults.append(f"{shown(folder)}: assignment {assignment.id!r} has no notebook (.ipynb)")
    source = course_dir / "source"
    for folder in sorted(source.iterdir()) if source.is_dir() else ():
        if folder.is_dir() and folder.name not in listed and not folder.name.startswith("."):
            faults.append(f"{shown(folder)}: not an assignment of {course_file} (add it under assignments, or remove the folder)")
    return faults


def _validate_notebook(
    course: CourseFile, assignment_id: str, path: Path, shown: str, data_dir: Path, timeout: int
) -> tuple[NotebookReport | None, list[str]]:
    started = time.monotonic()
    try:
        source = read_notebook(path, shown)
    except AuthoringError as exc:
        return None, [str(exc)]
    faults = metadata_faults(source, shown)
    tests = [i for i, c in enumerate(source.cells) if is_autograded_test(c)]
    with tempfile.TemporaryDirectory(prefix="practicum-validate-") as scratch:
        work = Path(scratch)
        run_dir = work / "run"
        _copy_folder(path.parent, run_dir)
        _, failures = run_notebook(read_notebook(path, shown), run_dir, data_dir=data_dir, timeout=timeout)
        if failures:
            first = failures[0]
            faults.append(f"{shown} {cell_label(first.cell - 1, source.cells[first.cell - 1])}: fails with the solutions: {first.error}")
        try:
            with _NBGRADER:  # nbgrader's apps share logging and the process environment
                release = generate_release(course.id, assignment_id, path.parent, work / "generate", shown)
        except AuthoringError as exc:
            faults.append(str(exc))
            return NotebookReport(shown, len(tests), round(time.monotonic() - started, 2)), faults
        released = release / path.name
        faults += leak_faults(source, release, shown)
        if released.exists() and tests:
            student = read_notebook(released, f"release of {shown}")
            student_dir = work / "student"
            _copy_folder(release, student_dir)
            _, student_failures = run_notebook(student, student_dir, data_dir=data_dir, timeout=timeout)
            failed = {f.cell for f in student_failures}
            for index in tests:
                if index + 1 not in failed:
                    faults.append(
                        f"{shown} {cell_label(index, source.cells[index])}: the test passes without the solution "
                        "(with the solutions removed it must fail: test what the learner writes)"
                    )
    return NotebookReport(shown, len(tests), round(time.monotonic() - started, 2)), faults


def metadata_faults(notebook: Any, shown: str) -> list[str]:
    """nbgrader metadata a release and the gradebook rely on: schema 3, unique grade ids, points on
    graded cells, locked tests with a visible assert, paired markers in the cells nbgrader clears."""
    faults: list[str] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(notebook.cells):
        meta = nbgrader_meta(cell)
        label = f"{shown} {cell_label(index, cell)}"
        source = cell.get("source", "")
        for begin, end in ((BEGIN_SOLUTION, END_SOLUTION), (BEGIN_HIDDEN, END_HIDDEN)):
            _, _, unpaired = blocks(source, begin, end)
            if unpaired:
                faults.append(f"{label}: {unpaired}")
        for number, line in enumerate(source.splitlines(), start=1):
            near = _near_miss(line)
            if near:
                faults.append(f"{label}: line {number} {line.strip()[:60]!r} looks like a marker but nbgrader's is {near!r}: "
                              "what it encloses would be released")
        if BEGIN_HIDDEN in source and not is_autograded_test(cell):
            faults.append(f"{label}: hidden tests outside an autograded test cell stay visible (nbgrader clears them only in test cells)")
        if BEGIN_SOLUTION in source and not meta.get("solution"):
            faults.append(f"{label}: a solution block in a cell not marked as a solution (mark it 'Autograded answer' or 'Manually graded answer')")
        if not meta:
            continue
        if meta.get("schema_version") != NBGRADER_SCHEMA:
            faults.append(f"{label}: nbgrader schema_version {meta.get('schema_version')!r}, expected {NBGRADER_SCHEMA}")
        grade_id = meta.get("grade_id")
        if (meta.get("grade") or meta.get("solution") or meta.get("task") or meta.get("locked")) and not grade_id:
            faults.append(f"{label}: an nbgrader cell without a grade_id")
        if grade_id:
            if grade_id in seen:
                faults.append(f"{label}: grade_id {grade_id!r} is also cell {seen[grade_id] + 1}'s (grade ids must be unique)")
            seen.setdefault(grade_id, index)
        if meta.get("grade") or meta.get("task"):
            points = meta.get("points")
            if not isinstance(points, int | float) or isinstance(points, bool) or points <= 0:
                faults.append(f"{label}: a graded cell needs points > 0 (has {points!r})")
        if is_autograded_test(cell):
            if not meta.get("locked"):
                faults.append(f"{label}: an autograded test cell must be locked (read-only), or learners can edit the test")
            _, visible, _ = blocks(source, BEGIN_HIDDEN, END_HIDDEN)
            if not any("assert" in line for line in visible):
                faults.append(f"{label}: an autograded test cell needs at least one visible assert (learners check their work with it)")
    return faults


_MARKER_LIKE = re.compile(r"(?i)\b(begin|end)[\s_-]*(hidden[\s_-]*tests?|solutions?)\b")


def _near_miss(line: str) -> str | None:
    """nbgrader's marker that ``line`` seems to mean but does not spell (nbgrader then clears nothing)."""
    match = _MARKER_LIKE.search(line)
    if match is None:
        return None
    begin = match.group(1).lower() == "begin"
    hidden = "hidden" in match.group(2).lower()
    meant = (BEGIN_HIDDEN if begin else END_HIDDEN) if hidden else (BEGIN_SOLUTION if begin else END_SOLUTION)
    return None if meant in line else f"### {meant}"


def leak_faults(source: Any, release: Path, shown: str) -> list[str]:
    """Each solution or hidden-test line of ``source`` found in the bytes of a released file, and any
    nbgrader marker left in them. In the released notebook itself a line the source also shows outside
    the blocks (a hint in the task text) is the instructor's choice, not a leak; in any other released
    file (a helper module, a data file beside the notebook) every secret line counts."""
    faults: list[str] = []
    files = {p: p.read_bytes() for p in sorted(release.rglob("*")) if p.is_file()}
    shown_anyway = public_text(source)
    notebook_name = Path(shown).name
    for path, data in files.items():
        name = f"release {release.parent.parent.name}/{path.relative_to(release.parent).as_posix()}"
        for marker in (BEGIN_SOLUTION, BEGIN_HIDDEN):
            if marker.encode() in data:
                faults.append(f"{name} (from {shown}): still holds the marker {marker!r}")
        reported: set[tuple[int, str]] = set()
        for secret in secrets(source):
            if (secret.cell, secret.kind) in reported:
                continue
            if path.name == notebook_name and path.parent == release and secret.line in shown_anyway:
                continue
            if any(form in data for form in encodings(secret.line)):
                where = f"cell {secret.cell}" + (f" ({secret.grade_id})" if secret.grade_id else "")
                faults.append(f"{name} (from {shown} {where}): {secret.kind} text is in the release: {secret.line[:80]!r}")
                reported.add((secret.cell, secret.kind))
    return faults


def _copy_folder(source: Path, target: Path) -> None:
    shutil.copytree(source, target, ignore=NOT_SOURCES)
