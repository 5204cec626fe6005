"""Progress: the event log, and what is derived from it (completion rate, overdue items, attempts)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, select
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


def _facts(session: Session, person_ids: list[int], item_ids: list[str]) -> dict[tuple[int, str], _ItemFacts]:
    facts: dict[tuple[int, str], _ItemFacts] = defaultdict(_ItemFacts)
    if not person_ids or not item_ids:
        return facts
    for e in session.execute(
        select(ProgressEvent.person_id, ProgressEvent.item_id, ProgressEvent.kind, ProgressEvent.occurred_at,
               ProgressEvent.seconds_spent)
        .where(ProgressEvent.person_id.in_(person_ids), ProgressEvent.item_id.in_(item_ids))
    ):
        f = facts[(e.person_id, e.item_id)]
        f.kinds.add(e.kind)
        f.seconds += e.seconds_spent
        f.last = e.occurred_at if f.last is None or e.occurred_at > f.last else f.last
    for r in session.execute(
        select(Result.person_id, Result.item_id, func.count(), func.max(Result.score),
               func.max(case((Result.passed.is_(True), 1), else_=0)))
        .where(Result.person_id.in_(person_ids), Result.item_id.in_(item_ids))
        .group_by(Result.person_id, Result.item_id)
    ):
        f = facts[(r[0], r[1])]
        f.attempts, f.best_score, f.passed = r[2], r[3], bool(r[4])
    return facts


def _item_progress(item: CatalogItem, f: _ItemFacts, now: datetime) -> ItemProgress:
    if f.passed or "passed" in f.kinds or "completed" in f.kinds:
        status = ItemStatus.PASSED
    elif "failed" in f.kinds:
        status = ItemStatus.FAILED
    elif f.attempts or "submitted" in f.kinds:
        status = ItemStatus.SUBMITTED
    elif f.kinds:
        status = ItemStatus.STARTED
    else:
        status = ItemStatus.NOT_STARTED
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
    query = (
        select(Person).join(Enrollment, Enrollment.person_id == Person.id)
        .where(Enrollment.course_id == course.id, Enrollment.role == "learner").order_by(Person.id)
    )
    if person_ids is not None:
        query = query.where(Person.id.in_(person_ids))
    learners = list(session.scalars(query))
    items = _course_items(session, [course.id])[course.id]
    facts = _facts(session, [p.id for p in learners], [i.id for i in items])
    rows = []
    for person in learners:
        summary = _summarise(course, [_item_progress(i, facts[(person.id, i.id)], now) for i in items])
        rows.append(LearnerCourseProgress(
            person_id=person.id, person=person.name, items_total=summary.items_total,
            items_passed=summary.items_passed, completion_rate=summary.completion_rate, overdue=summary.overdue,
            attempts=summary.attempts, seconds_spent=summary.seconds_spent, last_activity_at=summary.last_activity_at,
        ))
    return rows


def passed_items(session: Session, *, person_id: int) -> set[str]:
    return set(session.scalars(
        select(Result.item_id).where(Result.person_id == person_id, Result.passed.is_(True)).distinct()
    ))
