"""One grading, as any worker runs it (a local worker process, or a Celery worker: on Kubernetes the
grading-worker pods): claim it, unpack the stored archive, grade the model in the grading sandbox (or
autograde the assignment), record the MLflow run, the result, the learner's feedback and the LMS delivery.

The learner's code runs only in the sandbox ``grade_model`` starts; this process holds the lease.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path

from practicum import __version__
from practicum.contracts.grade_result import GradeResult, ItemKind
from practicum.graders.autograde import AutogradeError
from practicum.graders.mlflow_records import GRADING_ID_TAG
from practicum.graders.project_grading import grade_model

from . import queue
from .archives import BadSubmission, unpack_submission
from .assignments import assignment_feedback, grade_assignment
from .context import GradingContext
from .feedback import learner_feedback
from .items import GradableItem, item_named

log = logging.getLogger("practicum.grading")


def grade_next(context: GradingContext, worker: str, *, grading_id: str | None = None) -> str | None:
    """Claim and grade one grading (the oldest, or ``grading_id``); its id, or None if none was claimable."""
    claimed = queue.claim(context.engine, worker, context.settings.lease_seconds, grading_id=grading_id)
    if claimed is None:
        return None
    stop = threading.Event()
    renewer = threading.Thread(target=_keep_lease, args=(context, claimed, stop), daemon=True)
    renewer.start()
    try:
        grade_claimed(context, claimed)
    except Exception as error:  # the grader's own failure: retried (the learner's failures are results)
        state = queue.give_up_or_retry(context.engine, claimed, context.settings.max_tries, f"{type(error).__name__}: {error}")
        log.exception("grading %s (try %d) failed; %s", claimed.grading_id, claimed.try_number, state)
    finally:
        stop.set()
        renewer.join()
    return claimed.grading_id


def grade_claimed(context: GradingContext, claimed: queue.Claim) -> bool:
    item = item_named(context.items, claimed.item_id)
    if item.kind is ItemKind.ASSIGNMENT:
        return _grade_assignment(context, claimed, item)
    settings = context.settings
    with tempfile.TemporaryDirectory(prefix="practicum-submission-") as tmp:
        try:
            model_dir = unpack_submission(context.store.verified_path(claimed.blob), Path(tmp) / "submission")
        except BadSubmission as error:  # checked at intake: only a changed store gets here
            raise RuntimeError(f"the stored submission cannot be unpacked: {error}") from None
        evaluation = grade_model(
            item.spec,
            model_dir,
            settings.datasets_dir,
            sandbox=settings.sandbox,
            tracking_uri=settings.tracking_uri or None,
            learner=claimed.learner,
            run_tags={GRADING_ID_TAG: claimed.grading_id, "practicum.submission_id": claimed.submission_id},
        )
    feedback = learner_feedback(claimed.grading_id, item.title, evaluation, __version__)
    result = evaluation.to_grade_result(learner=claimed.learner, submission_id=claimed.grading_id, feedback_url=feedback_url(context, claimed.grading_id))
    recorded = queue.finish(context.engine, claimed, grade_result=result.to_json(), feedback=feedback.to_json())
    if not recorded:
        log.info("grading %s was recorded by another try; this one's result is dropped", claimed.grading_id)
    return recorded


def _grade_assignment(context: GradingContext, claimed: queue.Claim, item: GradableItem) -> bool:
    url = feedback_url(context, claimed.grading_id)
    try:
        result = grade_assignment(context.settings, item, claimed.learner, context.store.verified_path(claimed.blob), claimed.grading_id)
        result = result.model_copy(update={"feedback_url": url})
        feedback = assignment_feedback(claimed.grading_id, item, result)
    except AutogradeError as error:  # the notebook's fault (not JSON, too big, too slow): a result with no points
        now = datetime.now(UTC)
        result = GradeResult(
            submission_id=claimed.grading_id, learner=claimed.learner, kind=ItemKind.ASSIGNMENT, item_id=item.item_id,
            course_id=item.course_id, passed=False, score=0.0, grader_version=__version__, started_at=now, finished_at=now, feedback_url=url,
        )
        feedback = assignment_feedback(claimed.grading_id, item, result).model_copy(update={"error": str(error).splitlines()[0][:300]})
    return queue.finish(context.engine, claimed, grade_result=result.to_json(), feedback=feedback.to_json())


def feedback_url(context: GradingContext, grading_id: str) -> str | None:
    base = context.settings.public_url
    return f"{base.rstrip('/')}/gradings/{grading_id}" if base else None


def _keep_lease(context: GradingContext, claimed: queue.Claim, stop: threading.Event) -> None:
    interval = max(0.2, context.settings.lease_seconds / 3)
    while not stop.wait(interval):
        if not queue.renew(context.engine, claimed, context.settings.lease_seconds):
            log.warning("grading %s is no longer this worker's (its lease ran out)", claimed.grading_id)
            return
