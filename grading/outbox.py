"""Results wait here until the LMS has taken them: retried with backoff while it is down or busy
(no answer, 5xx, 408, 429). A result the LMS refuses (another 4xx: an item missing from its catalog,
a revoked token, a result it finds invalid) is held with the LMS's answer, not retried, and shown in
the instructor's queue until they redeliver it. The LMS keys results by submission id, so a delivery
repeated after a crash (posted, not yet marked) stores nothing twice."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, func, select, update

from practicum.contracts.grade_result import GradeResult
from practicum.graders.delivery import DeliveryError, DeliveryRefused, post_result

from .context import GradingContext
from .database import outbox, results, transaction

BACKOFF_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 300.0


@dataclass(frozen=True)
class DeliveryRound:
    delivered: int
    waiting: int  # not yet delivered and not refused
    refused: int  # held: the LMS refused them


def deliver_pending(context: GradingContext, *, limit: int = 50, now: float | None = None) -> DeliveryRound:
    settings = context.settings
    now = time.time() if now is None else now
    with transaction(context.engine) as connection:
        due = connection.execute(
            select(outbox.c.grading_id, outbox.c.tries, results.c.grade_result)
            .join(results, results.c.grading_id == outbox.c.grading_id)
            .where(outbox.c.delivered_at.is_(None), outbox.c.refused_at.is_(None), outbox.c.next_attempt_at <= now)
            .order_by(outbox.c.next_attempt_at)
            .limit(limit)
        ).all()
    delivered = 0
    for row in due:
        error, refused = None, False
        if not settings.lms_url:
            error = "no LMS is configured"
        else:
            try:
                post_result(settings.lms_url, settings.lms_token, GradeResult.model_validate_json(row.grade_result), attempts=1, timeout=10.0)
            except DeliveryRefused as refusal:
                error, refused = str(refusal), True
            except DeliveryError as failure:
                error = str(failure)
        mark = update(outbox).where(outbox.c.grading_id == row.grading_id)
        with transaction(context.engine) as connection:
            if error is None:
                connection.execute(mark.values(delivered_at=datetime.now(UTC), last_error=None))
                delivered += 1
            elif refused:
                connection.execute(mark.values(tries=row.tries + 1, refused_at=datetime.now(UTC), last_error=error[:500]))
            else:
                wait = min(BACKOFF_SECONDS * 2**row.tries, BACKOFF_MAX_SECONDS)
                connection.execute(mark.values(tries=row.tries + 1, next_attempt_at=time.time() + wait, last_error=error[:500]))
    with transaction(context.engine) as connection:
        counts = outbox_counts(connection)
    return DeliveryRound(delivered=delivered, waiting=counts["waiting"], refused=counts["refused"])


def outbox_counts(connection: Connection) -> dict[str, int]:
    undelivered = outbox.c.delivered_at.is_(None)
    waiting = connection.execute(select(func.count()).where(undelivered, outbox.c.refused_at.is_(None))).scalar_one()
    refused = connection.execute(select(func.count()).where(undelivered, outbox.c.refused_at.is_not(None))).scalar_one()
    return {"waiting": waiting, "refused": refused}


def redeliver(connection: Connection, grading_ids: list[str] | None) -> list[str]:
    """Send held (refused) results again at the next round: those named, or all of them."""
    held = select(outbox.c.grading_id).where(outbox.c.delivered_at.is_(None), outbox.c.refused_at.is_not(None))
    if grading_ids is not None:
        held = held.where(outbox.c.grading_id.in_(grading_ids))
    chosen = list(connection.execute(held).scalars())
    if grading_ids is not None and (unknown := sorted(set(grading_ids) - set(chosen))):
        raise LookupError(f"no refused delivery of {', '.join(unknown)}")
    if chosen:
        connection.execute(update(outbox).where(outbox.c.grading_id.in_(chosen)).values(refused_at=None, tries=0, next_attempt_at=time.time()))
    return chosen
