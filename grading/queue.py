"""The queue is the ``gradings`` table: a worker claims a grading with a lease, renews it while it works,
and finishes it with its result in one transaction. A worker that dies stops renewing: once its lease
runs out the grading is claimed again (another try), and the result's primary key keeps it to one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from .database import gradings, outbox, results, submissions, transaction


@dataclass(frozen=True)
class Claim:
    grading_id: str
    submission_id: str
    learner: str
    item_id: str
    blob: str
    try_number: int
    worker: str


def _claimable(now: float):  # type: ignore[no-untyped-def]
    return or_(gradings.c.state == "queued", and_(gradings.c.state == "running", gradings.c.lease_until < now))


def claim(engine: Engine, worker: str, lease_seconds: float, *, grading_id: str | None = None) -> Claim | None:
    """Claim the oldest claimable grading (or ``grading_id``), or None when there is none."""
    now = time.time()
    with transaction(engine) as connection:
        query = select(gradings.c.id).where(_claimable(now))
        query = query.where(gradings.c.id == grading_id) if grading_id else query.order_by(gradings.c.queued_at).limit(1)
        row = connection.execute(query.with_for_update(skip_locked=True)).first()
        if row is None:
            return None
        connection.execute(
            update(gradings)
            .where(gradings.c.id == row.id)
            .values(state="running", worker=worker, lease_until=now + lease_seconds, tries=gradings.c.tries + 1, started_at=datetime.now(UTC))
        )
        found = connection.execute(
            select(gradings.c.id, gradings.c.submission_id, gradings.c.tries, submissions.c.learner, submissions.c.item_id, submissions.c.blob)
            .join(submissions, submissions.c.id == gradings.c.submission_id)
            .where(gradings.c.id == row.id)
        ).one()
    return Claim(found.id, found.submission_id, found.learner, found.item_id, found.blob, found.tries, worker)


def renew(engine: Engine, claimed: Claim, lease_seconds: float) -> bool:
    """Extend the lease; False when the grading is no longer this worker's."""
    with transaction(engine) as connection:
        done = connection.execute(
            update(gradings)
            .where(gradings.c.id == claimed.grading_id, gradings.c.worker == claimed.worker, gradings.c.state == "running")
            .values(lease_until=time.time() + lease_seconds)
        )
    return done.rowcount == 1


def finish(engine: Engine, claimed: Claim, *, grade_result: str, feedback: str) -> bool:
    """Record the result and queue its delivery to the LMS; False when another try recorded one first."""
    now = datetime.now(UTC)
    try:
        with transaction(engine) as connection:
            record_result(connection, claimed.grading_id, grade_result=grade_result, feedback=feedback, now=now)
            connection.execute(update(gradings).where(gradings.c.id == claimed.grading_id).values(state="done", finished_at=now, lease_until=None))
    except IntegrityError:
        return False
    return True


def record_result(connection: Connection, grading_id: str, *, grade_result: str, feedback: str, now: datetime) -> None:
    """A grading's result, and its delivery to the LMS queued in the outbox (one transaction with the caller's)."""
    connection.execute(results.insert().values(grading_id=grading_id, grade_result=grade_result, feedback=feedback, recorded_at=now))
    connection.execute(outbox.insert().values(grading_id=grading_id, tries=0, next_attempt_at=time.time()))


def give_up_or_retry(engine: Engine, claimed: Claim, max_tries: int, error: str) -> str:
    """After a failure of the grader itself (not the learner's model): queue it again, or mark it failed."""
    state = "failed" if claimed.try_number >= max_tries else "queued"
    with transaction(engine) as connection:
        connection.execute(
            update(gradings)
            .where(gradings.c.id == claimed.grading_id, gradings.c.worker == claimed.worker, gradings.c.state == "running")
            .values(state=state, lease_until=None, error=error[:500], finished_at=datetime.now(UTC) if state == "failed" else None)
        )
    return state
