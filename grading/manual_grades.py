"""Grades an instructor gives in the formgrader reach the LMS.

The formgrader writes manual scores into the course's gradebook. Now and then the service reads each
course's gradebook; a learner's submission whose grading is complete (no cell still waits for a
manual grade) and whose points differ from the last result recorded for that learner's assignment
becomes a grading of its own (``<submission>.manual-<n>``, reason ``manual``), with its result, the
learner's feedback and an LMS delivery, like any other grading. Only assignments graded through this
service are followed (the result says which stored submission it grades); while a grading of that
learner's assignment is queued or running, its autograde may be merging into the gradebook, so the
learner waits for the next round.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from nbgrader.api import Gradebook
from sqlalchemy import Connection, func, select

from practicum.contracts.grade_result import GradeResult
from practicum.graders.autograde import AutogradeOutcome
from practicum.graders.results import assignment_result

from .assignments import assignment_feedback
from .context import GradingContext
from .database import gradings, lock_key, outbox, results, submissions, transaction
from .items import UnknownItem, item_named
from .tasks import feedback_url


def sync_manual_grades(context: GradingContext) -> list[str]:
    """Record a grading for every changed, complete formgrader grade; their ids."""
    recorded = []
    for course_id, course in sorted(context.settings.courses.items()):
        gradebook = Path(str(course.get("root") or "")) / "gradebook.db"
        if not gradebook.is_file():
            continue
        for learner, assignment, points, max_points in _complete_grades(gradebook, course_id):
            with transaction(context.engine) as connection:
                grading_id = _record_if_changed(context, connection, learner, f"{course_id}/{assignment}", points, max_points)
            if grading_id:
                recorded.append(grading_id)
    return recorded


def _complete_grades(gradebook: Path, course_id: str) -> Iterator[tuple[str, str, float, float]]:
    with Gradebook(f"sqlite:///{gradebook}", course_id=course_id) as book:
        found = [
            (submission.student_id, assignment.name, float(submission.score), float(submission.max_score))
            for assignment in book.assignments
            for submission in book.assignment_submissions(assignment.name)
            if not submission.needs_manual_grade
        ]
    yield from found


def _record_if_changed(context: GradingContext, connection: Connection, learner: str, item_id: str, points: float, max_points: float) -> str | None:
    lock_key(connection, f"manual:{learner}:{item_id}")
    of_learner = (submissions.c.learner == learner) & (submissions.c.item_id == item_id)
    busy = connection.execute(
        select(gradings.c.id).join(submissions, submissions.c.id == gradings.c.submission_id)
        .where(of_learner, gradings.c.state.in_(("queued", "running"))).limit(1)
    ).first()
    latest = connection.execute(
        select(gradings.c.submission_id, results.c.grade_result).join(results, results.c.grading_id == gradings.c.id)
        .join(submissions, submissions.c.id == gradings.c.submission_id).where(of_learner)
        .order_by(results.c.recorded_at.desc()).limit(1)
    ).first()
    if busy or latest is None:
        return None
    previous = GradeResult.model_validate_json(latest.grade_result)
    if (previous.metrics.get("points"), previous.metrics.get("max_points")) == (points, max_points):
        return None
    try:
        item = item_named(context.items, item_id)
    except UnknownItem:  # an assignment no longer released
        return None
    count = connection.execute(
        select(func.count()).where(gradings.c.submission_id == latest.submission_id, gradings.c.reason == "manual")
    ).scalar_one()
    grading_id = f"{latest.submission_id}.manual-{count + 1}"
    now = datetime.now(UTC)
    course_id, assignment = item_id.split("/", 1)
    outcome = AutogradeOutcome(course_id=course_id, assignment=assignment, student=learner, score=points, max_score=max_points,
                               code_hash=previous.code_hash or "", started_at=now, finished_at=now)
    result = assignment_result(outcome, submission_id=grading_id).model_copy(update={"feedback_url": feedback_url(context, grading_id)})
    feedback = assignment_feedback(grading_id, item, result)
    connection.execute(gradings.insert().values(id=grading_id, submission_id=latest.submission_id, reason="manual", state="done", tries=0,
                                                queued_at=now, started_at=now, finished_at=now))
    connection.execute(results.insert().values(grading_id=grading_id, grade_result=result.to_json(), feedback=feedback.to_json(), recorded_at=now))
    connection.execute(outbox.insert().values(grading_id=grading_id, tries=0, next_attempt_at=time.time()))
    return grading_id
