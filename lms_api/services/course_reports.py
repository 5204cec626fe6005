"""What an instructor reads about a course: result distributions per item and who is stuck.

Built on the course's progress rows (`progress.course_progress`) and one aggregate of best scores
per learner and item; only learners enrolled in the course count.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ..db.tables import CatalogItem, Course, Enrollment, Result
from ..schemas.course_reports import SCORE_BINS, CourseReport, ScoreDistribution, StuckLearner
from ..schemas.progress import LearnerCourseProgress

# A learner is stuck when unfinished work is overdue, when many attempts have not finished the
# course, or when they have not been active for a while with work left.
STUCK_ATTEMPTS = 3
STUCK_IDLE = timedelta(days=14)


def bin_of(fraction: float) -> int:
    return min(SCORE_BINS - 1, max(0, int(fraction * SCORE_BINS)))


def histogram(fractions: list[float]) -> list[int]:
    bins = [0] * SCORE_BINS
    for fraction in fractions:
        bins[bin_of(fraction)] += 1
    return bins


def stuck_reasons(row: LearnerCourseProgress, now: datetime) -> list[str]:
    if row.items_passed >= row.items_total:
        return []
    reasons = []
    if row.overdue:
        reasons.append(f"overdue: {', '.join(row.overdue)}")
    if row.attempts >= STUCK_ATTEMPTS:
        reasons.append(f"{row.attempts} attempts, {row.items_passed} of {row.items_total} items passed")
    if row.last_activity_at is not None and now - row.last_activity_at >= STUCK_IDLE:
        reasons.append(f"no activity for {(now - row.last_activity_at).days} days")
    return reasons


def score_distributions(session: Session, *, course_id: str) -> list[ScoreDistribution]:
    best = (
        select(Result.item_id, Result.person_id, func.max(Result.score).label("score"),
               func.max(case((Result.passed.is_(True), 1), else_=0)).label("passed"))
        .join(Enrollment, (Enrollment.person_id == Result.person_id) & (Enrollment.course_id == Result.course_id))
        .where(Result.course_id == course_id, Enrollment.role == "learner")
        .group_by(Result.item_id, Result.person_id)
    )
    scores: dict[str, list[float]] = defaultdict(list)
    passed: dict[str, int] = defaultdict(int)
    for item_id, _person_id, score, item_passed in session.connection().execute(best):
        scores[item_id].append(float(score))
        passed[item_id] += int(item_passed)
    items = session.execute(
        select(CatalogItem.id, CatalogItem.title, CatalogItem.kind).where(CatalogItem.course_id == course_id)
        .order_by(CatalogItem.position, CatalogItem.id)
    ).all()
    return [
        ScoreDistribution(
            item_id=item_id, title=title, kind=kind, learners_with_results=len(scores[item_id]),
            learners_passed=passed[item_id],
            mean_best_score=round(sum(scores[item_id]) / len(scores[item_id]), 4) if scores[item_id] else None,
            best_score_bins=histogram(scores[item_id]),
        )
        for item_id, title, kind in items
    ]


def course_report(
    session: Session, *, course: Course, progress: list[LearnerCourseProgress], now: datetime
) -> CourseReport:
    stuck = []
    for row in progress:
        reasons = stuck_reasons(row, now)
        if reasons:
            stuck.append(StuckLearner(
                person_id=row.person_id, person=row.person, completion_rate=row.completion_rate,
                last_activity_at=row.last_activity_at, reasons=reasons,
            ))
    return CourseReport(
        course_id=course.id, title=course.title, learners=len(progress),
        completion_bins=histogram([row.completion_rate for row in progress]),
        scores=score_distributions(session, course_id=course.id), stuck=stuck,
    )
