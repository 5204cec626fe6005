"""Prepare each nbgrader course of the catalog: its course folder, config and releases."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from practicum.authoring import AuthoringError
from practicum.authoring import load_catalog as load_authoring_catalog
from practicum.graders.nbgrader_folders import CodeInCourseFolder, refuse_code_in
from practicum.graders.sandboxed_kernel import KERNEL_NAME as GRADING_KERNEL

from .errors import LabError

COLLECTOR = "practicum.graders.exchange.PrivateInboundCollect"


@dataclass(frozen=True)
class Course:
    course_id: str
    title: str
    instructors: tuple[str, ...]
    assignments: tuple[str, ...]
    # Scenario projects whose starter notebooks (projects/<id>/notebook/) are assignments of this course.
    projects: tuple[str, ...] = ()
    # Hub users the lab puts in the course's nbgrader group (its learners), and whether learners may join themselves.
    roster: tuple[str, ...] = ()
    self_enrolment: bool = False
    # Assignment -> the grader step that scores it after autograde (the course file's scored_by).
    scorers: tuple[tuple[str, str], ...] = ()

    @property
    def released(self) -> tuple[str, ...]:
        return (*self.assignments, *self.projects)


def project_notebooks(courses_dir: Path, project_id: str) -> Path:
    """The nbgrader source folder of a project: its starter notebook (projects/ sits beside courses/)."""
    return courses_dir.parent / "projects" / project_id / "notebook"


def load_catalog(courses_dir: Path) -> list[Course]:
    """The lab's nbgrader courses: every course file under ``courses_dir`` and the projects' course
    (read by practicum.authoring, the one loader of course files)."""
    try:
        catalog = load_authoring_catalog(courses_dir)
    except AuthoringError as exc:
        raise LabError(str(exc)) from None
    courses = [
        Course(
            course_id=c.id, title=c.title, instructors=c.instructors, assignments=c.assignment_ids,
            roster=c.roster, self_enrolment=c.enrolment == "self", scorers=tuple(sorted(c.scorers.items())),
        )
        for c in catalog.courses
    ]
    for course in catalog.courses:
        for assignment in course.assignment_ids:
            if not (courses_dir / course.id / "source" / assignment).is_dir():
                raise LabError(f"course {course.id}: {courses_dir / course.id / 'source' / assignment} is missing")
    if catalog.projects_course is not None:
        pc = catalog.projects_course
        courses.append(Course(
            course_id=pc.id, title=pc.title, instructors=pc.instructors, assignments=(),
            projects=tuple(p.id for p in pc.projects), roster=pc.roster, self_enrolment=pc.enrolment == "self",
        ))
    return courses


def course_nbgrader_config(course_id: str, exchange_root: Path, inbounds_root: Path, *, sandboxed: bool = True) -> str:
    """The course's nbgrader settings: its exchange, a collector that reads each learner's own inbound,
    and (``sandboxed``) notebooks executed for grading by the sandboxed grading kernel."""
    kernel = [f"c.Execute.kernel_name = {GRADING_KERNEL!r}"] if sandboxed else []
    return "\n".join(
        [
            "# Written by practicum: the instructor's view of this course.",
            "c = get_config()  # noqa: F821",
            f"c.CourseDirectory.course_id = {course_id!r}",
            "c.CourseDirectory.root = __import__('os').path.dirname(__file__)",
            f"c.Exchange.root = {str(exchange_root)!r}",
            "c.Exchange.path_includes_course = True",
            f"c.ExchangeFactory.collect = {COLLECTOR!r}",
            f"c.PrivateInboundCollect.inbounds_root = {str(inbounds_root / course_id)!r}",
            *kernel,
            "",
        ]
    )


def prepare_course(
    course: Course,
    courses_dir: Path,
    course_root: Path,
    exchange_root: Path,
    inbounds_root: Path,
    env: Mapping[str, str],
    *,
    sandboxed: bool = True,
) -> None:
    """Copy the course's sources into its course folder and release its assignments when they changed."""
    sources = {name: courses_dir / course.course_id / "source" / name for name in course.assignments}
    sources |= {project: project_notebooks(courses_dir, project) for project in course.projects}
    course_root.mkdir(parents=True, exist_ok=True)
    for name, folder in sources.items():
        shutil.copytree(folder, course_root / "source" / name, dirs_exist_ok=True, ignore=_NOT_SOURCES)
    (course_root / "nbgrader_config.py").write_text(course_nbgrader_config(course.course_id, exchange_root, inbounds_root, sandboxed=sandboxed))
    try:
        refuse_code_in(course_root)  # nbgrader runs below as root in this folder, which the instructor writes
    except CodeInCourseFolder as error:
        raise LabError(str(error)) from None
    (inbounds_root / course.course_id).mkdir(parents=True, exist_ok=True)
    changed = {}
    for assignment in sources:
        digest = _folder_digest(course_root / "source" / assignment)
        released = exchange_root / course.course_id / "outbound" / assignment
        stamp = course_root / f".released-{assignment}"
        if not (stamp.exists() and stamp.read_text() == digest and released.is_dir()):
            changed[assignment] = digest
    if not changed:
        return
    # One nbgrader process for the course (each costs about 2 s to start), without the course folder on sys.path.
    result = subprocess.run(
        [str(Path(env["PRACTICUM_BIN"]) / "python"), "-I", "-m", "practicum.graders.nbgrader_batch", str(course_root), *changed],
        cwd=course_root, env=dict(env), capture_output=True, text=True,
    )
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise LabError(f"releasing {course.course_id} failed: {' | '.join(tail)}")
    for assignment, digest in changed.items():
        (course_root / f".released-{assignment}").write_text(digest)


# What a notebook run leaves beside the sources (a saved model, MLflow runs, caches) is not released.
_NOT_SOURCES = shutil.ignore_patterns("model", "mlruns", "__pycache__", ".ipynb_checkpoints")


def _folder_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(folder).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()
