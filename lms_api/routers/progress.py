"""Progress events and the progress derived from them."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, status

from ..audit import record_change
from ..auth import PrincipalDep
from ..db.tables import CatalogItem, Course
from ..db.types import utcnow
from ..deps import AuditDep, ReadSession, WriteSession
from ..errors import ApiError
from ..policy import not_found, readable_person, require_course_manager, subject_person
from ..schemas.common import ERROR_RESPONSES, Page
from ..schemas.progress import (
    MAX_SELF_REPORTED_SECONDS_PER_DAY,
    SELF_REPORTED,
    CourseProgressSummary,
    PersonProgress,
    ProgressEventCreate,
    ProgressEventPublic,
)
from ..services import progress as svc
from ..tokens import Scope
from .params import CourseId, Limit, Offset, PersonId

router = APIRouter(tags=["progress"], responses=ERROR_RESPONSES)


@router.post("/progress-events", status_code=status.HTTP_201_CREATED)
def post_progress_event(data: ProgressEventCreate, principal: PrincipalDep, session: WriteSession) -> ProgressEventPublic:
    """Learners report `started` and `time_spent` for themselves; the grader (results:write) reports anything."""
    person_id = data.person_id if data.person_id is not None else principal.person_id
    if person_id is None:
        raise ApiError(422, "person_required", "Machine clients must name person_id.")
    if not principal.can(Scope.RESULTS_WRITE):
        if person_id != principal.person_id:
            raise not_found("person", person_id)
        if data.kind not in SELF_REPORTED:
            raise ApiError(403, "grader_only_event", f"Only the grader reports '{data.kind.value}' events.")
        now = utcnow()
        if data.seconds_spent and svc.self_reported_seconds(
            session, person_id=person_id, actor=principal.actor, since=now - timedelta(days=1)
        ) + data.seconds_spent > MAX_SELF_REPORTED_SECONDS_PER_DAY:
            raise ApiError(422, "time_spent_exceeded", "More time than 24 hours reported within 24 hours.")
    subject_person(session, principal, person_id)
    if session.get(CatalogItem, data.item_id) is None:
        raise ApiError(422, "unknown_item", f"No catalog item {data.item_id!r}.")
    event = svc.add_event(session, person_id=person_id, data=data, actor=principal.actor, now=utcnow())
    record_change(session, principal, "create", "progress_event", event.id)
    session.commit()
    return svc.event_public(event)


@router.get("/people/{person_id}/progress-events")
def list_progress_events(
    person_id: PersonId, principal: PrincipalDep, session: ReadSession, audit: AuditDep,
    limit: Limit = 50, offset: Offset = 0,
) -> Page[ProgressEventPublic]:
    readable_person(session, principal, person_id)
    rows, total = svc.list_events(session, person_id=person_id, limit=limit, offset=offset)
    audit.read(principal, "progress_events", person_id)
    return Page(items=[svc.event_public(e) for e in rows], total=total, limit=limit, offset=offset)


@router.get("/people/{person_id}/progress")
def read_person_progress(person_id: PersonId, principal: PrincipalDep, session: ReadSession, audit: AuditDep) -> PersonProgress:
    """Per course: completion rate, overdue items, attempts and time spent per item."""
    person = readable_person(session, principal, person_id)
    audit.read(principal, "progress", person_id)
    return svc.person_progress(session, person=person, now=utcnow())


@router.get("/courses/{course_id}/progress")
def read_course_progress(
    course_id: CourseId, principal: PrincipalDep, session: ReadSession, audit: AuditDep
) -> CourseProgressSummary:
    course = session.get(Course, course_id)
    if course is None:
        raise not_found("course", course_id)
    require_course_manager(session, principal, course_id)
    rows = svc.course_progress(session, course=course, now=utcnow())
    audit.read(principal, "course_progress", course_id)
    return CourseProgressSummary(
        course_id=course.id, title=course.title, learners=len(rows),
        mean_completion_rate=round(sum(r.completion_rate for r in rows) / len(rows), 4) if rows else 0.0,
        learners_with_overdue_items=sum(1 for r in rows if r.overdue), progress=rows,
    )
