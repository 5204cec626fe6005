"""Progress: the event log, and what is derived from it (completion rate, overdue items, attempts)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from ..db.tables import CatalogItem, Course, Enrollment, Person, ProgressEvent, Result
from ..schemas.progress import (
    CourseProgress,
    ItemProgress,
    ItemStatus,
    LearnerCourseProgress,
    PersonProgress,
    ProgressEventCreate,
    ProgressEventPublic,
)


def add_event(session: Session, *, person_id: int, data: ProgressEventCreate, actor: str, now: datetime) -> ProgressEvent:
    event = ProgressEvent(
        person_id=person_id, item_id=data.item_id, kind=data.kind.value, occurred_at=data.occurred_at or now,
        seconds_spent=data.seconds_spent, recorded_by=actor, recorded_at=now,
    )
    session.add(event)
    session.flush()
    return event


def self_reported_seconds(session: Session, *, person_id: int, actor: str, since: datetime) -> int:
    """Seconds `actor` (the person themselves) reported about the person in events recorded since `since`."""
    total = session.scalar(
        select(func.coalesce(func.sum(ProgressEvent.seconds_spent), 0)).where(
            ProgressEvent.person_id == person_id, ProgressEvent.recorded_at >= since, ProgressEvent.recorded_by == actor,
        )
    )
    return int(total or 0)


def event_public(e: ProgressEvent) -> ProgressEventPublic:
    return ProgressEventPublic(
        id=e.id, person_id=e.person_id, item_id=e.item_id, kind=e.kind, occurred_at=e.occurred_at,
        seconds_spent=e.seconds_spent, result_id=e.result_id, recorded_by=e.recorded_by,
    )


def list_events(session: Session, *, person_id: int, limit: int, offset: int) -> tuple[list[ProgressEvent], int]:
    query = select(ProgressEvent).where(ProgressEvent.person_id == person_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(session.scalars(query.order_by(ProgressEvent.id).limit(limit).offset(offset))), total


# The event kinds `_status` tells apart (any other kind only shows the item was started).
_KIND_FLAGS = (("passed", ("passed", "completed")), ("failed", ("failed",)), ("submitted", ("submitted",)))


@dataclass
class _ItemFacts:
    started: bool = False
    attempts: int = 0
    passed: bool = False
    failed: bool = False
    best_score: float | None = None
    seconds: int = 0
    last: datetime | None = None
    kinds: set[str] = field(default_factory=set)


def _facts(
    session: Session, person_ids: list[int] | Select[tuple[int]], item_ids: list[str]
) -> dict[tuple[int, str], _ItemFacts]:
    """Per (person, item): events seen, attempts, best score, time, last activity. `person_ids` may be a
    query of ids (a cohort: no statement with thousands of bound ids to compile)."""
    facts: dict[tuple[int, str], _ItemFacts] = defaultdict(_ItemFacts)
    if isinstance(person_ids, list) and not person_ids or not item_ids:
        return facts
    # Aggregated per (person, item) by the database, read as plain rows on the session's connection (no
    # ORM loading): a cohort of 2,000 learners is thousands of events.
    connection = session.connection()
    flags = [(marker, func.max(case((ProgressEvent.kind.in_(kinds), 1), else_=0))) for marker, kinds in _KIND_FLAGS]
    for person_id, item_id, seconds, last, *seen in connection.execute(
        select(ProgressEvent.person_id, ProgressEvent.item_id, func.sum(ProgressEvent.seconds_spent),
               func.max(ProgressEvent.occurred_at), *(flag for _, flag in flags))
        .where(ProgressEvent.person_id.in_(person_ids), ProgressEvent.item_id.in_(item_ids))
        .group_by(ProgressEvent.person_id, ProgressEvent.item_id)
    ):
        f = facts[(person_id, item_id)]
        f.kinds = {"any"} | {marker for (marker, _), on in zip(flags, seen, strict=True) if on}
        f.seconds, f.last = int(seconds or 0), last
    for r in connection.execute(
        select(Result.person_id, Result.item_id, func.count(), func.max(Result.score),
               func.max(case((Result.passed.is_(True), 1), else_=0)))
        .where(Result.person_id.in_(person_ids), Result.item_id.in_(item_ids))
        .group_by(Result.person_id, Result.item_id)
    ):
        f = facts[(r[0], r[1])]
        f.attempts, f.best_score, f.passed = r[2], r[3], bool(r[4])
    return facts


def _status(f: _ItemFacts) -> ItemStatus:
    if f.passed or "passed" in f.kinds:
        return ItemStatus.PASSED
    if "failed" in f.kinds:
        return ItemStatus.FAILED
    if f.attempts or "submitted" in f.kinds:
        return ItemStatus.SUBMITTED
    return ItemStatus.STARTED if f.kinds else ItemStatus.NOT_STARTED


def _item_progress(item: CatalogItem, f: _ItemFacts, now: datetime) -> ItemProgress:
    status = _status(f)
    overdue = item.due_at is not None and item.due_at < now and status is not ItemStatus.PASSED
    return ItemProgress(
        item_id=item.id, kind=item.kind, title=item.title, status=status, attempts=f.attempts,
        attempt_limit=item.attempt_limit, best_score=f.best_score, seconds_spent=f.seconds, due_at=item.due_at,
        overdue=overdue, last_activity_at=f.last,
    )


def _course_items(session: Session, course_ids: list[str]) -> dict[str, list[CatalogItem]]:
    items: dict[str, list[CatalogItem]] = defaultdict(list)
    if course_ids:
        for item in session.scalars(
            select(CatalogItem).where(CatalogItem.course_id.in_(course_ids))
            .order_by(CatalogItem.position, CatalogItem.id)
        ):
            items[item.course_id].append(item)
    return items


def _summarise(course: Course, items: list[ItemProgress]) -> CourseProgress:
    passed = sum(1 for i in items if i.status is ItemStatus.PASSED)
    lasts = [i.last_activity_at for i in items if i.last_activity_at]
    return CourseProgress(
        course_id=course.id, title=course.title, items_total=len(items), items_passed=passed,
        completion_rate=round(passed / len(items), 4) if items else 0.0,
        overdue=[i.item_id for i in items if i.overdue], attempts=sum(i.attempts for i in items),
        seconds_spent=sum(i.seconds_spent for i in items), last_activity_at=max(lasts, default=None), items=items,
    )


def person_progress(session: Session, *, person: Person, now: datetime) -> PersonProgress:
    """Per course the person takes (enrolled, or has activity in): items, completion, overdue, attempts."""
    enrolled = set(session.scalars(
        select(Enrollment.course_id).where(Enrollment.person_id == person.id, Enrollment.role == "learner")
    ))
    active = set(session.scalars(
        select(CatalogItem.course_id).join(ProgressEvent, ProgressEvent.item_id == CatalogItem.id)
        .where(ProgressEvent.person_id == person.id)
    ))
    course_ids = sorted(enrolled | active)
    courses = {c.id: c for c in session.scalars(select(Course).where(Course.id.in_(course_ids)))}
    items = _course_items(session, course_ids)
    facts = _facts(session, [person.id], [i.id for group in items.values() for i in group])
    return PersonProgress(person_id=person.id, person=person.name, courses=[
        _summarise(courses[cid], [_item_progress(i, facts[(person.id, i.id)], now) for i in items[cid]])
        for cid in course_ids if cid in courses
    ])


def course_progress(
    session: Session, *, course: Course, now: datetime, person_ids: set[int] | None = None
) -> list[LearnerCourseProgress]:
    """One row per enrolled learner: the figures of `person_progress`'s course summary, computed without
    a model per item (a cohort of 2,000 learners is read for every instructor's page)."""
    enrolled = select(Enrollment.person_id).where(Enrollment.course_id == course.id, Enrollment.role == "learner")
    if person_ids is not None:
        enrolled = enrolled.where(Enrollment.person_id.in_(person_ids))
    learners = session.connection().execute(
        select(Person.id, Person.name).where(Person.id.in_(enrolled)).order_by(Person.id)
    ).all()
    items = _course_items(session, [course.id])[course.id]
    facts = _facts(session, enrolled, [i.id for i in items])
    due = [(i.id, i.due_at is not None and i.due_at < now) for i in items]
    nothing = _ItemFacts()
    rows = []
    for person_id, name in learners:
        passed = attempts = seconds = 0
        overdue: list[str] = []
        last: datetime | None = None
        for item_id, past_due in due:
            f = facts.get((person_id, item_id), nothing)
            if _status(f) is ItemStatus.PASSED:
                passed += 1
            elif past_due:
                overdue.append(item_id)
            attempts += f.attempts
            seconds += f.seconds
            if f.last is not None and (last is None or f.last > last):
                last = f.last
        rows.append(LearnerCourseProgress(
            person_id=person_id, person=name, items_total=len(items), items_passed=passed,
            completion_rate=round(passed / len(items), 4) if items else 0.0, overdue=overdue, attempts=attempts,
            seconds_spent=seconds, last_activity_at=last,
        ))
    return rows


def passed_items(session: Session, *, person_id: int) -> set[str]:
    return set(session.scalars(
        select(Result.item_id).where(Result.person_id == person_id, Result.passed.is_(True)).distinct()
    ))


@dataclass(frozen=True)
class LearnerItems:
    """One active learner of a course, as the reminders see them."""

    person_id: int
    name: str
    email: str | None
    organisation_id: int | None
    enrolled_at: datetime
    status: dict[str, ItemStatus]  # item id -> status
    last_activity_at: datetime | None


def course_learner_items(session: Session, *, course_id: str) -> tuple[list[CatalogItem], list[LearnerItems]]:
    """The course's items, and each active enrolled learner's status per item (one aggregate query)."""
    enrolled = (
        select(Enrollment.person_id)
        .join(Person, Person.id == Enrollment.person_id)
        .where(Enrollment.course_id == course_id, Enrollment.role == "learner", Person.active.is_(True))
    )
    learners = session.connection().execute(
        select(Person.id, Person.name, Person.email, Person.organisation_id, func.min(Enrollment.enrolled_at))
        .join(Enrollment, Enrollment.person_id == Person.id)
        .where(Person.id.in_(enrolled), Enrollment.course_id == course_id, Enrollment.role == "learner")
        .group_by(Person.id, Person.name, Person.email, Person.organisation_id).order_by(Person.id)
    ).all()
    items = _course_items(session, [course_id])[course_id]
    facts = _facts(session, enrolled, [i.id for i in items])
    nothing = _ItemFacts()
    rows = []
    for person_id, name, email, organisation_id, enrolled_at in learners:
        mine = {i.id: facts.get((person_id, i.id), nothing) for i in items}
        lasts = [f.last for f in mine.values() if f.last is not None]
        rows.append(LearnerItems(
            person_id=person_id, name=name, email=email, organisation_id=organisation_id, enrolled_at=enrolled_at,
            status={item_id: _status(f) for item_id, f in mine.items()}, last_activity_at=max(lasts, default=None),
        ))
    return items, rows
