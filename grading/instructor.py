"""The instructor's (hub admin's) controls: see the queue, regrade, redeliver refused results, change an item's attempt limit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from . import outbox as lms_outbox
from .attempts import AttemptLimit, set_limit
from .context import GradingContext
from .database import gradings, outbox, submissions, transaction
from .intake import queue_grading
from .items import item_named


def queue_view(context: GradingContext) -> dict[str, Any]:
    with transaction(context.engine) as connection:
        rows = connection.execute(
            select(gradings.c.id, gradings.c.state, gradings.c.tries, gradings.c.worker, gradings.c.queued_at, gradings.c.error,
                   submissions.c.learner, submissions.c.item_id)
            .join(submissions, submissions.c.id == gradings.c.submission_id)
            .where(gradings.c.state.in_(("queued", "running", "failed")))
            .order_by(gradings.c.queued_at)
        ).all()
        deliveries = lms_outbox.outbox_counts(connection)
        refused = connection.execute(
            select(outbox.c.grading_id, outbox.c.refused_at, outbox.c.last_error, submissions.c.learner, submissions.c.item_id)
            .join(gradings, gradings.c.id == outbox.c.grading_id).join(submissions, submissions.c.id == gradings.c.submission_id)
            .where(outbox.c.delivered_at.is_(None), outbox.c.refused_at.is_not(None))
            .order_by(outbox.c.refused_at)
        ).all()
        counts = dict(connection.execute(select(gradings.c.state, func.count()).group_by(gradings.c.state)).all())
    return {
        "counts": counts,
        "undelivered_results": deliveries["waiting"] + deliveries["refused"],
        "refused_deliveries": [
            {"grading_id": r.grading_id, "learner": r.learner, "item_id": r.item_id, "refused_at": r.refused_at.isoformat(), "error": r.last_error}
            for r in refused
        ],
        "gradings": [
            {"grading_id": r.id, "state": r.state, "tries": r.tries, "worker": r.worker, "queued_at": r.queued_at.isoformat(),
             "error": r.error, "learner": r.learner, "item_id": r.item_id}
            for r in rows
        ],
    }


def regrade(context: GradingContext, *, submission_id: str | None = None, item_id: str | None = None, by: str) -> list[str]:
    """Queue a new grading of one submission, or of every learner's latest submission of an item."""
    if bool(submission_id) == bool(item_id):
        raise ValueError("name either submission_id or item_id")
    now = datetime.now(UTC)
    with transaction(context.engine) as connection:
        if submission_id:
            chosen = connection.execute(select(submissions.c.id).where(submissions.c.id == submission_id)).scalars().all()
            if not chosen:
                raise LookupError(f"no submission {submission_id}")
        else:
            item_named(context.items, item_id or "")
            latest = (
                select(submissions.c.learner, func.max(submissions.c.submitted_at).label("at"))
                .where(submissions.c.item_id == item_id).group_by(submissions.c.learner).subquery()
            )
            chosen = connection.execute(
                select(submissions.c.id).join(latest, (latest.c.learner == submissions.c.learner) & (latest.c.at == submissions.c.submitted_at))
                .where(submissions.c.item_id == item_id)
            ).scalars().all()
        queued = []
        for sid in chosen:
            count = connection.execute(select(func.count()).where(gradings.c.submission_id == sid)).scalar_one()
            grading_id = f"{sid}.regrade-{count}"
            queue_grading(connection, sid, grading_id=grading_id, reason="regrade", now=now)
            queued.append(grading_id)
    return queued


def set_attempt_limit(context: GradingContext, item_id: str, limit: AttemptLimit, *, by: str) -> None:
    item_named(context.items, item_id)
    with transaction(context.engine) as connection:
        set_limit(connection, item_id, limit, by=by, now=datetime.now(UTC))


def redeliver(context: GradingContext, grading_ids: list[str] | None = None) -> list[str]:
    """Send results the LMS refused again (the named ones, or all): after the LMS was fixed."""
    with transaction(context.engine) as connection:
        return lms_outbox.redeliver(connection, grading_ids)
