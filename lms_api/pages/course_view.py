"""An instructor's course page: the cohort's progress, overdue work, result distributions, who is
stuck, and the rubric grading form (posted through the API's own evidence route function)."""

from __future__ import annotations

from typing import Any

from ..audit import AuditBuffer
from ..db.engine import Database
from ..db.tables import Course
from ..db.types import utcnow
from ..principal import Principal
from ..routers.progress import read_course_progress
from ..services.catalog import list_items
from ..services.course_reports import course_report
from . import charts
from .navigation import navigation

ROWS_PER_PAGE = 100
STUCK_SHOWN = 100


def course_context(
    db: Database, principal: Principal, course_id: str, audit: AuditBuffer, *, page: int
) -> dict[str, Any]:
    with db.read() as session:
        summary = read_course_progress(course_id=course_id, principal=principal, session=session, audit=audit)
        nav = navigation(session, principal)
        course = session.get(Course, course_id)
        assert course is not None  # read_course_progress answered 404 otherwise
        report = course_report(session, course=course, progress=summary.progress, now=utcnow())
        items = [(i.id, i.title) for i in list_items(session, course_id=course_id)]
    pages = max(1, -(-len(summary.progress) // ROWS_PER_PAGE))
    page = min(max(page, 1), pages)
    overdue_by_item: dict[str, int] = {}
    for row in summary.progress:
        for item_id in row.overdue:
            overdue_by_item[item_id] = overdue_by_item.get(item_id, 0) + 1
    scores = [s.model_dump() for s in report.scores]
    return {
        "title": f"{summary.title}: cohort",
        "nav": nav,
        "course": summary,
        "report": report,
        "rows": summary.progress[(page - 1) * ROWS_PER_PAGE: page * ROWS_PER_PAGE],
        "page": page,
        "pages": pages,
        "overdue_learners": [r for r in summary.progress if r.overdue][:STUCK_SHOWN],
        "overdue_by_item": overdue_by_item,
        "stuck": report.stuck[:STUCK_SHOWN],
        "items": items,
        "bin_labels": charts.BIN_LABELS,
        "completion_chart": charts.bars(charts.BIN_LABELS, report.completion_bins, x_title="completion", y_title="learners"),
        "scores_chart": charts.score_bars(scores),
    }
