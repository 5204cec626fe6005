"""Attempt limits: how many gradings a learner may ask for, per UTC day and in total.

The project spec sets them (``attempt_limit``, ``attempts_per_day``); an instructor may change them
for an item (``attempt_limits`` table), which wins over the spec.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import Connection, func, select

from .database import attempt_limits, submissions


@dataclass(frozen=True)
class AttemptLimit:
    total: int | None
    per_day: int | None


@dataclass(frozen=True)
class AttemptsLeft:
    total: int | None  # None: no limit
    today: int | None
    resets_at: datetime  # the next UTC midnight

    def to_json(self) -> dict[str, object]:
        return {"total": self.total, "today": self.today, "resets_at": self.resets_at.isoformat()}


class AttemptLimitReached(RuntimeError):
    def __init__(self, message: str, left: AttemptsLeft) -> None:
        super().__init__(message)
        self.left = left


def effective_limit(connection: Connection, item_id: str, default: AttemptLimit) -> AttemptLimit:
    row = connection.execute(select(attempt_limits.c.total, attempt_limits.c.per_day).where(attempt_limits.c.item_id == item_id)).first()
    return AttemptLimit(total=row.total, per_day=row.per_day) if row else default


def attempts_left(connection: Connection, learner: str, item_id: str, limit: AttemptLimit, now: datetime) -> AttemptsLeft:
    day_start = datetime.combine(now.astimezone(UTC).date(), time(), tzinfo=UTC)
    mine = (submissions.c.learner == learner) & (submissions.c.item_id == item_id)
    total = connection.execute(select(func.count()).where(mine)).scalar_one()
    today = connection.execute(select(func.count()).where(mine & (submissions.c.submitted_at >= day_start))).scalar_one()
    return AttemptsLeft(
        total=None if limit.total is None else max(0, limit.total - total),
        today=None if limit.per_day is None else max(0, limit.per_day - today),
        resets_at=day_start + timedelta(days=1),
    )


def check_attempt_allowed(left: AttemptsLeft, item_id: str) -> None:
    if left.total == 0:
        raise AttemptLimitReached(f"no attempts left at {item_id}: every allowed attempt has been used", left)
    if left.today == 0:
        raise AttemptLimitReached(
            f"no attempts left at {item_id} today; the next one is allowed from {left.resets_at:%Y-%m-%d %H:%M} UTC", left
        )


def after_one_more(left: AttemptsLeft) -> AttemptsLeft:
    return AttemptsLeft(
        total=None if left.total is None else left.total - 1,
        today=None if left.today is None else left.today - 1,
        resets_at=left.resets_at,
    )


def set_limit(connection: Connection, item_id: str, limit: AttemptLimit, *, by: str, now: datetime) -> None:
    connection.execute(attempt_limits.delete().where(attempt_limits.c.item_id == item_id))
    connection.execute(attempt_limits.insert().values(item_id=item_id, total=limit.total, per_day=limit.per_day, set_by=by, set_at=now))
