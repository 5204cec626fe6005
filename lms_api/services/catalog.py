"""The LMS's own catalog: courses, their items (assignments and projects), weights, prerequisites."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import yaml
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..db.tables import CatalogItem, Course, ItemPrerequisite, ItemWeight
from ..errors import ApiError
from ..schemas.catalog import (
    CatalogFile,
    CatalogSyncReport,
    CourseCreate,
    CoursePublic,
    CourseUpdate,
    ItemBase,
    ItemCreate,
    ItemPublic,
)

SEED_CATALOG = Path(__file__).resolve().parent.parent / "seed_catalog.yaml"


def course_public(course: Course) -> CoursePublic:
    return CoursePublic(
        id=course.id, title=course.title, description=course.description, enrolment=course.enrolment, created_at=course.created_at
    )


def create_course(session: Session, *, data: CourseCreate) -> Course:
    if session.get(Course, data.id) is not None:
        raise ApiError(409, "course_exists", f"A course '{data.id}' exists already.")
    course = Course(id=data.id, title=data.title, description=data.description, enrolment=data.enrolment.value)
    session.add(course)
    session.flush()
    return course


def update_course(session: Session, *, course: Course, data: CourseUpdate) -> Course:
    for key, value in data.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(course, key, str(value))
    session.flush()
    return course


def list_courses(session: Session) -> list[Course]:
    return list(session.scalars(select(Course).order_by(Course.id)))


def items_public(session: Session, items: list[CatalogItem]) -> list[ItemPublic]:
    ids = [item.id for item in items]
    weights: dict[str, dict[str, float]] = defaultdict(dict)
    prerequisites: dict[str, list[str]] = defaultdict(list)
    if ids:
        for w in session.scalars(select(ItemWeight).where(ItemWeight.item_id.in_(ids))):
            weights[w.item_id][w.dimension] = w.weight
        for p in session.scalars(
            select(ItemPrerequisite).where(ItemPrerequisite.item_id.in_(ids)).order_by(ItemPrerequisite.requires_item_id)
        ):
            prerequisites[p.item_id].append(p.requires_item_id)
    return [
        ItemPublic(
            id=i.id, course_id=i.course_id, kind=i.kind, title=i.title, description=i.description, level=i.level,
            weights=dict(sorted(weights[i.id].items())), prerequisites=prerequisites[i.id], due_at=i.due_at,
            attempt_limit=i.attempt_limit, position=i.position, hours=i.hours,
        )
        for i in items
    ]


def list_items(session: Session, *, course_id: str | None = None) -> list[CatalogItem]:
    query = select(CatalogItem).order_by(CatalogItem.course_id, CatalogItem.position, CatalogItem.id)
    if course_id is not None:
        query = query.where(CatalogItem.course_id == course_id)
    return list(session.scalars(query))


def _check_prerequisites(session: Session, item_id: str, prerequisites: list[str]) -> None:
    if item_id in prerequisites:
        raise ApiError(422, "invalid_prerequisites", f"'{item_id}' cannot require itself.")
    known = set(session.scalars(select(CatalogItem.id).where(CatalogItem.id.in_(prerequisites))))
    missing = sorted(set(prerequisites) - known)
    if missing:
        raise ApiError(422, "unknown_prerequisite", f"Unknown prerequisite items: {', '.join(missing)[:300]}")


def _write_item(session: Session, item: CatalogItem, data: ItemBase) -> None:
    item.kind, item.title, item.description, item.level = data.kind.value, data.title, data.description, data.level
    item.due_at, item.attempt_limit, item.position, item.hours = data.due_at, data.attempt_limit, data.position, data.hours
    session.execute(delete(ItemWeight).where(ItemWeight.item_id == item.id))
    session.execute(delete(ItemPrerequisite).where(ItemPrerequisite.item_id == item.id))
    session.flush()
    for dimension, weight in sorted(data.weights.items()):
        session.add(ItemWeight(item_id=item.id, dimension=dimension.value, weight=weight))
    for requires in sorted(set(data.prerequisites)):
        session.add(ItemPrerequisite(item_id=item.id, requires_item_id=requires))


def create_item(session: Session, *, data: ItemCreate) -> CatalogItem:
    if session.get(Course, data.course_id) is None:
        raise ApiError(422, "unknown_course", f"No course '{data.course_id}'.")
    if session.get(CatalogItem, data.id) is not None:
        raise ApiError(409, "item_exists", f"An item '{data.id}' exists already.")
    _check_prerequisites(session, data.id, data.prerequisites)
    item = CatalogItem(id=data.id, course_id=data.course_id, kind="", title="", level=1)
    session.add(item)
    session.flush()
    _write_item(session, item, data)
    session.flush()
    return item


def _assert_acyclic(session: Session) -> None:
    edges: dict[str, set[str]] = defaultdict(set)
    for p in session.scalars(select(ItemPrerequisite)):
        edges[p.item_id].add(p.requires_item_id)
    state: dict[str, int] = {}

    def visit(node: str) -> None:
        state[node] = 1
        for nxt in edges[node]:
            if state.get(nxt) == 1:
                raise ApiError(422, "prerequisite_cycle", f"Prerequisites form a cycle through '{nxt}'.")
            if nxt not in state:
                visit(nxt)
        state[node] = 2

    for node in list(edges):
        if node not in state:
            visit(node)


def sync_catalog(session: Session, *, catalog: CatalogFile) -> CatalogSyncReport:
    """Create or update every course and item in `catalog`; items not named are left as they are."""
    report = CatalogSyncReport(courses_created=[], courses_updated=[], items_created=[], items_updated=[])
    for course_data in catalog.courses:
        course = session.get(Course, course_data.id)
        if course is None:
            session.add(Course(
                id=course_data.id, title=course_data.title, description=course_data.description, enrolment=course_data.enrolment.value
            ))
            report.courses_created.append(course_data.id)
        else:
            course.title, course.description, course.enrolment = course_data.title, course_data.description, course_data.enrolment.value
            report.courses_updated.append(course_data.id)
        session.flush()
        for item_data in course_data.items:
            item = session.get(CatalogItem, item_data.id)
            if item is None:
                item = CatalogItem(id=item_data.id, course_id=course_data.id, kind="", title="", level=1)
                session.add(item)
                report.items_created.append(item_data.id)
            else:
                item.course_id = course_data.id
                report.items_updated.append(item_data.id)
            session.flush()
    # Prerequisites may point forward in the file: write them once every item exists.
    for course_data in catalog.courses:
        for item_data in course_data.items:
            _check_prerequisites(session, item_data.id, item_data.prerequisites)
            _write_item(session, session.get(CatalogItem, item_data.id), item_data)  # type: ignore[arg-type]
    session.flush()
    _assert_acyclic(session)
    return report


def load_catalog_file(path: Path) -> CatalogFile:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ApiError(422, "unreadable_catalog", f"Cannot read catalog {path}: {exc}") from exc
    return CatalogFile.model_validate(raw)
