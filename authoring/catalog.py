"""The lab's catalog: every course file under courses/ plus the scenario projects, as one value.

Titles and capability weights of projects come from their specs (projects/<id>/project.yaml), those of
course assignments from the course files, so the LMS catalog is generated and cannot drift from them.
courses/catalog.yaml only says what no spec holds: the order of courses and the projects' course, levels,
hours and prerequisites.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field, ValidationError

from practicum.contracts.project_spec import ProjectSpec, load_project_spec

from .course_file import (
    COURSE_FILE,
    COURSE_ID,
    CourseFile,
    CourseHeader,
    Hours,
    Level,
    Prerequisite,
    _first_error,
    _Strict,
    load_course_file,
)
from .errors import AuthoringError

CATALOG_FILE = "catalog.yaml"


class ProjectEntry(_Strict):
    id: Annotated[str, Field(pattern=COURSE_ID)]
    level: Level
    hours: Hours
    due: date | None = None
    prerequisites: tuple[Prerequisite, ...] = ()


class ProjectsCourse(CourseHeader):
    """The course whose assignments are the scenario projects' starter notebooks."""

    projects: tuple[ProjectEntry, ...] = ()


class CatalogFile(_Strict):
    order: tuple[Annotated[str, Field(pattern=COURSE_ID)], ...] = ()
    projects_course: ProjectsCourse | None = None


@dataclass(frozen=True)
class Catalog:
    courses: tuple[CourseFile, ...]
    projects_course: ProjectsCourse | None
    specs: dict[str, ProjectSpec]

    def course(self, course_id: str) -> CourseFile:
        for course in self.courses:
            if course.id == course_id:
                return course
        known = ", ".join(c.id for c in self.courses) or "none"
        raise AuthoringError(f"no course {course_id!r} in the catalog (courses: {known})")

    @property
    def item_ids(self) -> set[str]:
        ids = {c.item_id(a.id) for c in self.courses for a in c.assignments}
        return ids | set(self.specs)


def course_dirs(courses_dir: Path) -> list[Path]:
    """Every course folder (one holding a course file or a source/ folder) under ``courses_dir``."""
    if not courses_dir.is_dir():
        raise AuthoringError(f"{courses_dir}: the courses folder does not exist")
    return sorted(
        p for p in courses_dir.iterdir()
        if p.is_dir() and not p.name.startswith((".", "_")) and ((p / COURSE_FILE).exists() or (p / "source").is_dir())
    )


def load_catalog(courses_dir: Path, projects_dir: Path | None = None) -> Catalog:
    """The catalog of ``courses_dir`` (projects beside it by default); AuthoringError at the first fault."""
    projects_dir = projects_dir or courses_dir.parent / "projects"
    settings = _catalog_file(courses_dir / CATALOG_FILE)
    courses = {d.name: load_course_file(d) for d in course_dirs(courses_dir)}
    # A course named in the order but not (yet) in a folder is skipped: the order only sorts.
    ordered = [courses[c] for c in settings.order if c in courses] + [courses[c] for c in sorted(courses) if c not in settings.order]
    specs: dict[str, ProjectSpec] = {}
    projects = settings.projects_course
    if projects is not None:
        if projects.id in courses:
            raise AuthoringError(f"{courses_dir / CATALOG_FILE}: projects_course id {projects.id!r} is also a course folder")
        for entry in projects.projects:
            spec_path = projects_dir / entry.id / "project.yaml"
            if not spec_path.exists():
                raise AuthoringError(f"{courses_dir / CATALOG_FILE}: project {entry.id!r} has no {spec_path}")
            try:
                specs[entry.id] = load_project_spec(spec_path)
            except (ValidationError, yaml.YAMLError) as exc:
                raise AuthoringError(f"{spec_path}: not a valid project spec: {str(exc).splitlines()[0]}") from None
            if not (projects_dir / entry.id / "notebook").is_dir():
                raise AuthoringError(f"{courses_dir / CATALOG_FILE}: project {entry.id!r} has no {projects_dir / entry.id / 'notebook'}")
    catalog = Catalog(courses=tuple(ordered), projects_course=projects, specs=specs)
    _check_prerequisites(catalog, courses_dir)
    return catalog


def _catalog_file(path: Path) -> CatalogFile:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return CatalogFile()
    except yaml.YAMLError as exc:
        raise AuthoringError(f"{path}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(raw, dict):
        raise AuthoringError(f"{path}: must be a mapping (order, projects_course)")
    try:
        return CatalogFile.model_validate(raw)
    except ValidationError as exc:
        raise AuthoringError(f"{path}: {_first_error(exc, raw)}") from None


def _check_prerequisites(catalog: Catalog, courses_dir: Path) -> None:
    courses = {c.id for c in catalog.courses} | ({catalog.projects_course.id} if catalog.projects_course else set())
    known = courses | catalog.item_ids
    for course in catalog.courses:
        where = courses_dir / course.id / COURSE_FILE
        for name in course.prerequisites:
            if name not in known:
                raise AuthoringError(f"{where}: prerequisite {name!r} is no course, item or project of the catalog")
        for a in course.assignments:
            for name in a.prerequisites:
                if name not in known:
                    raise AuthoringError(f"{where}: assignment {a.id!r} prerequisite {name!r} is no course, item or project of the catalog")
    if catalog.projects_course:
        for entry in catalog.projects_course.projects:
            for name in (*catalog.projects_course.prerequisites, *entry.prerequisites):
                if name not in known:
                    raise AuthoringError(f"{courses_dir / CATALOG_FILE}: project {entry.id!r} prerequisite {name!r} is no course, item or project")


def lms_catalog(catalog: Catalog) -> dict[str, Any]:
    """The catalog in the LMS's sync format (courses with items: kind, title, level, hours, weights,
    prerequisites as item ids, due date, attempt limit, position). A course named as a prerequisite
    stands for all of its items."""
    course_items: dict[str, list[str]] = {c.id: [c.item_id(a.id) for a in c.assignments] for c in catalog.courses}
    if catalog.projects_course:
        course_items[catalog.projects_course.id] = [p.id for p in catalog.projects_course.projects]

    def items_of(names: tuple[str, ...], own: str) -> list[str]:
        found: list[str] = []
        for name in names:
            for item in course_items.get(name, [name]):
                if item != own and item not in found:
                    found.append(item)
        return found

    courses: list[dict[str, Any]] = []
    for course in catalog.courses:
        items = []
        for position, a in enumerate(course.assignments, start=1):
            item_id = course.item_id(a.id)
            items.append(_item(
                item_id, "assignment", a.title, a.level, a.hours, {d.value: w for d, w in a.weights.items()},
                items_of((*course.prerequisites, *a.prerequisites), item_id), a.due, None, position,
            ))
        courses.append({"id": course.id, "title": course.title, "description": course.summary, "enrolment": course.enrolment, "items": items})
    if catalog.projects_course:
        pc = catalog.projects_course
        items = []
        for position, p in enumerate(pc.projects, start=1):
            spec = catalog.specs[p.id]
            items.append(_item(
                p.id, "project", spec.title, p.level, p.hours, {d.value: w for d, w in spec.capabilities.items()},
                items_of((*pc.prerequisites, *p.prerequisites), p.id), p.due, spec.attempt_limit, position,
            ))
        courses.append({"id": pc.id, "title": pc.title, "description": pc.summary, "enrolment": pc.enrolment, "items": items})
    return {"courses": courses}


def _item(
    item_id: str, kind: str, title: str, level: int, hours: float, weights: dict[str, float], prerequisites: list[str],
    due: date | None, attempt_limit: int | None, position: int,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": item_id, "kind": kind, "title": title, "level": level, "hours": hours, "position": position,
        "weights": dict(sorted(weights.items())), "prerequisites": prerequisites,
    }
    if due is not None:
        # Due at the end of that day, UTC: the LMS's overdue logic compares instants.
        item["due_at"] = f"{due.isoformat()}T23:59:59Z"
    if attempt_limit is not None:
        item["attempt_limit"] = attempt_limit
    return item
