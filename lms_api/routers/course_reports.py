"""An instructor's report of a course: result distributions and who is stuck."""

from __future__ import annotations

from fastapi import APIRouter

from ..auth import PrincipalDep
from ..db.tables import Course
from ..db.types import utcnow
from ..deps import AuditDep, ReadSession
from ..policy import not_found, require_course_manager
from ..schemas.common import ERROR_RESPONSES
from ..schemas.course_reports import CourseReport
from ..services.course_reports import course_report
from ..services.progress import course_progress
from .params import CourseId

router = APIRouter(tags=["progress"], responses=ERROR_RESPONSES)


@router.get("/courses/{course_id}/report")
def read_course_report(course_id: CourseId, principal: PrincipalDep, session: ReadSession, audit: AuditDep) -> CourseReport:
    """Best-score distributions per item, completion distribution, and the learners who are stuck (with why)."""
    course = session.get(Course, course_id)
    if course is None:
        raise not_found("course", course_id)
    require_course_manager(session, principal, course_id)
    now = utcnow()
    report = course_report(session, course=course, progress=course_progress(session, course=course, now=now), now=now)
    audit.read(principal, "course_report", course_id)
    return report
