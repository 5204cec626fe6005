"""`practicum course release`: generate and release a course's assignments to its learners in the
running lab, through the same function `practicum up` releases courses with, with no hub restart.

It also brings the course's hub groups up to its course file: the roster joins ``nbgrader-<course>``
(nbgrader's assignment list reads it) and the instructors ``formgrade-<course>`` (the formgrader's
access role). Members are only added: learners who enrolled themselves stay.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from practicum.hub_client import HubClient, HubError
from practicum.hub_config.settings import CourseService, HubSettings
from practicum.lab.courses import Course, load_catalog, prepare_course
from practicum.lab.errors import LabError
from practicum.lab.layout import StateLayout, venv_bin
from practicum.lab.processes import pid_alive
from practicum.lab.sandboxes import give_course_to_its_uid
from practicum.lab.secrets import load_or_create_secrets
from practicum.lab.state import LabState, read_state
from practicum.sandbox.identity import own

from .errors import AuthoringError


@dataclass(frozen=True)
class ReleaseReport:
    course_id: str
    released: tuple[str, ...]
    learners: tuple[str, ...]
    instructors: tuple[str, ...]
    outbound: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def running_lab(state_dir: Path) -> tuple[LabState, HubSettings]:
    layout = StateLayout(state_dir)
    state = read_state(layout.lab_file)
    if state is None or not pid_alive(state.supervisor_pid):
        raise AuthoringError(f"no lab is running from {state_dir}: start it with `practicum up` (or pass --state-dir)")
    return state, HubSettings.load(layout.hub_settings_file)


def release_course(course_id: str, assignment: str | None = None, *, courses_dir: Path, state_dir: Path) -> ReleaseReport:
    """Release ``assignment`` (every assignment when None) of ``course_id`` to the running lab's learners."""
    try:
        courses = {c.course_id: c for c in load_catalog(courses_dir)}
    except LabError as exc:
        raise AuthoringError(str(exc)) from None
    if course_id not in courses:
        raise AuthoringError(f"no course {course_id!r} in {courses_dir} (courses: {', '.join(sorted(courses))})")
    course = courses[course_id]
    if assignment is not None and assignment not in course.released:
        raise AuthoringError(f"course {course_id} has no assignment {assignment!r} (assignments: {', '.join(course.released)})")
    state, hub_settings = running_lab(state_dir)
    service = next((s for s in hub_settings.courses if s.course_id == course_id), None)
    if service is None:
        raise AuthoringError(
            f"course {course_id} is new to the running lab (it started without it): restart the lab once "
            "(`practicum down`, `practicum up`) to give it its formgrader and learners' mounts; later releases need no restart"
        )
    layout = StateLayout(state_dir)
    only = _only(course, assignment)
    sandboxed = state.sandbox == "bubblewrap"
    try:
        if sandboxed:
            # nbgrader releases only into folders its user owns; the formgrader (the course's uid) owns them
            # while the lab runs: root takes them for the seconds of the release, then gives them back.
            for folder in (Path(service.root), layout.exchange / course_id):
                if folder.exists():
                    own(folder, 0, always=True)
        prepare_course(
            only, courses_dir, Path(service.root), layout.exchange, layout.exchange_inbound, _nbgrader_env(), sandboxed=sandboxed,
        )
    except LabError as exc:
        raise AuthoringError(str(exc)) from None
    finally:
        if sandboxed:
            give_course_to_its_uid(layout, service)
    try:
        learners, instructors = sync_groups(state, layout, course, service)
    except (HubError, OSError) as exc:
        raise AuthoringError(f"released, but the hub groups of {course_id} could not be updated: {exc}") from None
    return ReleaseReport(course_id, only.released, learners, instructors, str(layout.exchange / course_id / "outbound"))


def sync_groups(state: LabState, layout: StateLayout, course: Course, service: CourseService) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Add the roster to the learners' group and the instructors to the instructors' group of the running hub."""
    token = load_or_create_secrets(layout.secrets_file).lab_api_token
    with HubClient(state.hub_api_url, state.public_url, token) as hub:
        for name in (*course.roster, *course.instructors):
            hub.ensure_user(name)
        if course.roster:
            hub.add_to_group(service.student_group, list(course.roster))
        if course.instructors:
            hub.add_to_group(service.instructor_group, list(course.instructors))
    return course.roster, course.instructors


def _only(course: Course, assignment: str | None) -> Course:
    if assignment is None:
        return course
    if assignment in course.assignments:
        return Course(course.course_id, course.title, course.instructors, (assignment,), (), course.roster, course.self_enrolment)
    return Course(course.course_id, course.title, course.instructors, (), (assignment,), course.roster, course.self_enrolment)


def _nbgrader_env() -> dict[str, str]:
    bin_dir = str(venv_bin())
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}", "PRACTICUM_BIN": bin_dir}
