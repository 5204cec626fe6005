"""Turn an evaluation into the grade result the LMS stores (practicum.contracts.grade_result)."""

from __future__ import annotations

import math
import uuid

from practicum import __version__
from practicum.contracts.grade_result import Direction, GradeResult, ItemKind, TargetOutcome

from .autograde import AutogradeOutcome
from .protocols.annotation_agreement import AnnotationAgreement

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


def with_annotation_agreement(result: GradeResult, agreement: AnnotationAgreement) -> GradeResult:
    """An assignment's result with the annotation practice's agreement figures: it passes when its points
    and both agreement targets (sensitivity, false marks per scan) are met. Aggregates only."""
    targets = [
        TargetOutcome(metric="annotation_sensitivity", threshold=agreement.target_sensitivity, direction=Direction.AT_LEAST,
                      value=agreement.sensitivity, met=agreement.sensitivity >= agreement.target_sensitivity,
                      margin=agreement.sensitivity - agreement.target_sensitivity),
        TargetOutcome(metric="annotation_false_marks_per_scan", threshold=agreement.target_false_marks_per_scan,
                      direction=Direction.AT_MOST, value=agreement.false_marks_per_scan,
                      met=agreement.false_marks_per_scan <= agreement.target_false_marks_per_scan,
                      margin=agreement.target_false_marks_per_scan - agreement.false_marks_per_scan),
    ]
    metrics = {f"annotation_{name}": value for name, value in agreement.metrics.items() if math.isfinite(value)}
    return result.model_copy(update={
        "metrics": {**result.metrics, **metrics},
        "targets": [*result.targets, *targets],
        "passed": result.passed and all(t.met for t in targets),
    })
