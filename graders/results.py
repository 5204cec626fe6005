"""Turn an evaluation into the grade result the LMS stores (practicum.contracts.grade_result)."""

from __future__ import annotations

import uuid

from practicum import __version__
from practicum.contracts.grade_result import Direction, GradeResult, ItemKind, TargetOutcome

from .autograde import AutogradeOutcome

# An nbgrader assignment passes with at least this fraction of its points.
ASSIGNMENT_PASS_FRACTION = 0.6


def assignment_result(outcome: AutogradeOutcome, *, submission_id: str | None = None) -> GradeResult:
    fraction = outcome.fraction
    target = TargetOutcome(
        metric="points_fraction",
        threshold=ASSIGNMENT_PASS_FRACTION,
        direction=Direction.AT_LEAST,
        value=fraction,
        met=fraction >= ASSIGNMENT_PASS_FRACTION,
        margin=fraction - ASSIGNMENT_PASS_FRACTION,
    )
    return GradeResult(
        submission_id=submission_id or f"{outcome.course_id}/{outcome.assignment}/{outcome.student}/{uuid.uuid4().hex}",
        learner=outcome.student,
        kind=ItemKind.ASSIGNMENT,
        item_id=f"{outcome.course_id}/{outcome.assignment}",
        course_id=outcome.course_id,
        metrics={"points": outcome.score, "max_points": outcome.max_score, "points_fraction": fraction},
        targets=[target],
        passed=target.met,
        score=fraction,
        code_hash=outcome.code_hash,
        grader_version=__version__,
        started_at=outcome.started_at,
        finished_at=outcome.finished_at,
    )
