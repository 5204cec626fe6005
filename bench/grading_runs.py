"""Run the grading service's local workers over a batch of submissions, for the benches that time it."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Row, select

from practicum.grading.context import GradingContext
from practicum.grading.database import gradings, results, transaction
from practicum.grading.worker import LocalPool


def grade_batch(context: GradingContext, workers: int, submit_all: Callable[[], None]) -> tuple[float, list[Row]]:
    """Seconds from the first submission until every grading is done or failed, and each recorded
    grading's queued / started / recorded times with its grade result."""
    pool = LocalPool(context.settings, workers)
    started = time.monotonic()
    submit_all()
    pool.keep_alive()
    try:
        while True:
            with transaction(context.engine) as connection:
                if not connection.execute(select(gradings.c.id).where(gradings.c.state.not_in(("done", "failed"))).limit(1)).first():
                    break
            time.sleep(0.2)
        elapsed = time.monotonic() - started
    finally:
        pool.stop()
    with transaction(context.engine) as connection:
        rows = connection.execute(
            select(gradings.c.queued_at, gradings.c.started_at, results.c.recorded_at, results.c.grade_result)
            .join(results, results.c.grading_id == gradings.c.id)
        ).all()
    return elapsed, list(rows)
