"""Grades an instructor gives in the formgrader reach the LMS.

The formgrader writes manual scores into the course's gradebook. Now and then the service looks at
each course's gradebook; when it changed since the last look, a learner's submission whose grading is
complete (no cell still waits for a manual grade) and whose points differ from the last result
recorded for that learner's assignment becomes a grading of its own (``<submission>.manual-<n>``,
reason ``manual``), with its result, the learner's feedback and an LMS delivery, like any other
grading. Only assignments graded through this service are followed (the result says which stored
submission it grades); while a grading of that learner's assignment is queued or running, its
autograde may be merging into the gradebook, so the learner waits for the next look.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from nbgrader.api import Gradebook
from sqlalchemy import Connection, func, select

from practicum.contracts.grade_result import GradeResult
from practicum.graders.autograde import AutogradeOutcome
from practicum.graders.course_copies import GRADEBOOK
from practicum.graders.results import assignment_result

from .assignments import assignment_feedback
from .context import GradingContext
from .database import gradings, lock_key, results, submissions, transaction
from .items import UnknownItem, item_named
from .queue import record_result
from .tasks import feedback_url

Points = tuple[float, float]  # points, max points


class ManualGrades:
    """Follows the courses' gradebooks; remembers what each looked like when it was last read."""

    def __init__(self, context: GradingContext) -> None:
        self.context = context
        self._seen: dict[str, tuple[int, int]] = {}  # course -> the gradebook's (mtime_ns, size) when read

    def sync(self) -> list[str]:
        """Record a grading for every changed, complete formgrader grade; their ids."""
        recorded = []
        for course_id, course in sorted(self.context.settings.courses.items()):
            gradebook = Path(str(course.get("root") or "")) / GRADEBOOK
            try:
                info = os.stat(gradebook)
            except FileNotFoundError:
                continue
            stamp = (info.st_mtime_ns, info.st_size)
            if self._seen.get(course_id) == stamp:
                continue
            ids, waiting = self._sync_course(course_id, gradebook)
            recorded += ids
            if not waiting:  # a learner whose grading runs is looked at again next time, changed or not
                self._seen[course_id] = stamp
        return recorded

    def _sync_course(self, course_id: str, gradebook: Path) -> tuple[list[str], bool]:
        graded = _complete_grades(gradebook, course_id)
        with transaction(self.context.engine) as connection:
            recorded = _latest_points(connection, course_id)
        recorded_ids, waiting = [], False
        for (learner, item_id), points in sorted(graded.items()):
            if recorded.get((learner, item_id), points) == points:  # unchanged, or never graded here
                continue
            with transaction(self.context.engine) as connection:
                grading_id, busy = _record_if_changed(self.context, connection, learner, item_id, points)
            waiting |= busy
            if grading_id:
                recorded_ids.append(grading_id)
        return recorded_ids, waiting


def sync_manual_grades(context: GradingContext) -> list[str]:
    """One look at every course's gradebook (see ``ManualGrades`` for the service's repeated looks)."""
    return ManualGrades(context).sync()


def _complete_grades(gradebook: Path, course_id: str) -> dict[tuple[str, str], Points]:
    with Gradebook(f"sqlite:///{gradebook}", course_id=course_id) as book:
        return {
            (submission.student_id, f"{course_id}/{assignment.name}"): (float(submission.score), float(submission.max_score))
            for assignment in book.assignments
            for submission in book.assignment_submissions(assignment.name)
            if not submission.needs_manual_grade
        }


def _points(grade_result: str) -> Points:
    metrics = GradeResult.model_validate_json(grade_result).metrics
    return metrics.get("points", float("nan")), metrics.get("max_points", float("nan"))


def _latest_points(connection: Connection, course_id: str) -> dict[tuple[str, str], Points]:
    """The points of the newest recorded result of each learner's assignment of the course."""
    rows = connection.execute(
        select(submissions.c.learner, submissions.c.item_id, results.c.grade_result)
        .join(gradings, gradings.c.submission_id == submissions.c.id).join(results, results.c.grading_id == gradings.c.id)
        .where(submissions.c.course_id == course_id).order_by(results.c.recorded_at)
    ).all()
    return {(r.learner, r.item_id): _points(r.grade_result) for r in rows}


def _record_if_changed(
    context: GradingContext, connection: Connection, learner: str, item_id: str, points: Points
) -> tuple[str | None, bool]:
    """The grading recorded (or None), and whether a grading of the learner's assignment is under way.
    Checked again under the learner's lock: another look, or a grading, may have come first."""
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
    if busy or latest is None or _points(latest.grade_result) == points:
        return None, busy is not None
    try:
        item = item_named(context.items, item_id)
    except UnknownItem:  # an assignment no longer released
        return None, False
    count = connection.execute(
        select(func.count()).where(gradings.c.submission_id == latest.submission_id, gradings.c.reason == "manual")
    ).scalar_one()
    grading_id = f"{latest.submission_id}.manual-{count + 1}"
    now = datetime.now(UTC)
    course_id, assignment = item_id.split("/", 1)
    outcome = AutogradeOutcome(course_id=course_id, assignment=assignment, student=learner, score=points[0], max_score=points[1],
                               code_hash=GradeResult.model_validate_json(latest.grade_result).code_hash or "", started_at=now, finished_at=now)
    result = assignment_result(outcome, submission_id=grading_id).model_copy(update={"feedback_url": feedback_url(context, grading_id)})
    connection.execute(gradings.insert().values(id=grading_id, submission_id=latest.submission_id, reason="manual", state="done", tries=0,
                                                queued_at=now, started_at=now, finished_at=now))
    record_result(connection, grading_id, grade_result=result.to_json(), feedback=assignment_feedback(grading_id, item, result).to_json(), now=now)
    return grading_id, False
