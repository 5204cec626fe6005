"""Results wait here until the LMS has taken them: retried with backoff while it is down or refuses
for a passing reason. The LMS keys results by submission id, so a delivery repeated after a crash
(posted, not yet marked) stores nothing twice."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, update

from practicum.contracts.grade_result import GradeResult
from practicum.graders.delivery import DeliveryError, post_result

from .context import GradingContext
from .database import outbox, results, transaction

BACKOFF_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 300.0


@dataclass(frozen=True)
class DeliveryRound:
    delivered: int
    waiting: int


def deliver_pending(context: GradingContext, *, limit: int = 50, now: float | None = None) -> DeliveryRound:
    settings = context.settings
    now = time.time() if now is None else now
    with transaction(context.engine) as connection:
        due = connection.execute(
            select(outbox.c.grading_id, outbox.c.tries, results.c.grade_result)
            .join(results, results.c.grading_id == outbox.c.grading_id)
            .where(outbox.c.delivered_at.is_(None), outbox.c.next_attempt_at <= now)
            .order_by(outbox.c.next_attempt_at)
            .limit(limit)
        ).all()
    delivered = 0
    for row in due:
        error = None
        if not settings.lms_url:
            error = "no LMS is configured"
        else:
            try:
                post_result(settings.lms_url, settings.lms_token, GradeResult.model_validate_json(row.grade_result), attempts=1, timeout=10.0)
            except DeliveryError as failure:
                error = str(failure)
        with transaction(context.engine) as connection:
            if error is None:
                connection.execute(update(outbox).where(outbox.c.grading_id == row.grading_id).values(delivered_at=datetime.now(UTC), last_error=None))
                delivered += 1
            else:
                wait = min(BACKOFF_SECONDS * 2**row.tries, BACKOFF_MAX_SECONDS)
                connection.execute(
                    update(outbox)
                    .where(outbox.c.grading_id == row.grading_id)
                    .values(tries=row.tries + 1, next_attempt_at=time.time() + wait, last_error=error[:500])
                )
    with transaction(context.engine) as connection:
        waiting = connection.execute(select(func.count()).select_from(outbox).where(outbox.c.delivered_at.is_(None))).scalar_one()
    return DeliveryRound(delivered=delivered, waiting=waiting)
