"""A person's page: results with feedback, the capability profile explained, the learning path,
unfinished and overdue work. Learners see their own; instructors, HR and admins whom the API lets them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit import AuditBuffer
from ..db.engine import Database
from ..db.tables import Course, Enrollment
from ..principal import Principal
from ..routers.learning_paths import read_learning_path
from ..routers.profiles import read_profile_history
from ..routers.progress import read_person_progress
from ..routers.results import list_person_results
from ..schemas.progress import ItemStatus
from ..services.notices import notice_public
from ..services.notices import notices as notice_rows
from ..settings import Settings
from . import charts
from .navigation import navigation

RESULTS_SHOWN = 50
NOTICES_SHOWN = 20
HISTORY_SHOWN = 500


def person_context(
    db: Database, principal: Principal, person_id: int, profile: dict[str, Any], settings: Settings, audit: AuditBuffer
) -> dict[str, Any]:
    """`profile` is the document `GET /people/{id}/profile` returns (read, and authorized, by the caller)."""
    with db.read() as session:
        nav = navigation(session, principal)
        progress = read_person_progress(person_id=person_id, principal=principal, session=session, audit=audit)
        results = list_person_results(
            person_id=person_id, principal=principal, session=session, settings=settings, audit=audit,
            limit=RESULTS_SHOWN, offset=0,
        )
        if results.total > RESULTS_SHOWN:  # the newest ones
            results = list_person_results(
                person_id=person_id, principal=principal, session=session, settings=settings, audit=audit,
                limit=RESULTS_SHOWN, offset=results.total - RESULTS_SHOWN,
            )
        path = read_learning_path(person_id=person_id, principal=principal, session=session, audit=audit, limit=5)
        own = principal.person_id == person_id
        notices, _ = (notice_rows(session, person_id=person_id, unread_only=True, limit=NOTICES_SHOWN, offset=0)
                      if own else ([], 0))
        open_courses = _open_courses(session, person_id) if own else []
        changes = read_profile_history(
            person_id=person_id, principal=principal, session=session, settings=settings, audit=audit,
            dimension=None, limit=HISTORY_SHOWN, offset=0,
        )
    titles = {d["dimension"]: d["title"] for d in profile["dimensions"]}
    by_dimension: dict[str, list[Any]] = {d: [] for d in titles}
    for change in reversed(changes.items):
        by_dimension.setdefault(change.dimension, []).append(change)
    items = [(course, item) for course in progress.courses for item in course.items]
    return {
        "title": f"{progress.person}: learning record",
        "nav": nav,
        "own_page": own,
        "notices": [notice_public(n) for n in notices],
        "open_courses": open_courses,
        "person": progress.person,
        "person_id": person_id,
        "profile": profile,
        "role_target": profile["role_target"],
        "history": by_dimension,
        "history_total": changes.total,
        "results": list(reversed(results.items)),
        "results_total": results.total,
        "path": path,
        "courses": progress.courses,
        "unfinished": [(c, i) for c, i in items if i.status is not ItemStatus.PASSED],
        "overdue": [(c, i) for c, i in items if i.overdue],
        "radar": charts.radar(profile["dimensions"]),
        "history_chart": charts.history(
            [{"dimension": c.dimension, "changed_at": c.changed_at.isoformat(), "after": c.after} for c in changes.items],
            titles,
        ),
    }


def _open_courses(session: Session, person_id: int) -> list[tuple[str, str]]:
    """(id, title) of the courses open to self-enrolment that the person is not a learner of yet."""
    theirs = select(Enrollment.course_id).where(Enrollment.person_id == person_id, Enrollment.role == "learner")
    rows = session.execute(
        select(Course.id, Course.title).where(Course.enrolment == "self", Course.id.not_in(theirs)).order_by(Course.id)
    ).all()
    return [(course_id, title) for course_id, title in rows]
