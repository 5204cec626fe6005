"""The grading queue at scale: Celery on RabbitMQ (or Redis) carries grading ids to workers on many
machines; each runs the same task code as a local worker (``tasks.grade_next``).

The database stays the record of what is queued: a message only says "grade this one". Messages are
acknowledged after the task (``acks_late``) and given back when a worker dies mid-task
(``reject_on_worker_lost``); a redelivered grading whose lease is still held is retried after the
lease, and one already graded is a no-op. Start workers with

    PRACTICUM_GRADING_... celery -A practicum.grading.celery_tasks worker -Q practicum-grading --concurrency 2
"""

from __future__ import annotations

import os
import time
from functools import cache

from celery import Celery
from sqlalchemy import select

from .context import GradingContext
from .database import gradings, transaction
from .settings import ENV_PREFIX, GradingSettings
from .tasks import grade_next
from .worker import worker_name

app = Celery("practicum.grading")
app.conf.update(
    broker_url=os.environ.get(ENV_PREFIX + "BROKER_URL") or "amqp://guest:guest@127.0.0.1:5672//",
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,  # a grading takes minutes: do not hold messages another worker could take
    task_default_queue=os.environ.get(ENV_PREFIX + "CELERY_QUEUE") or "practicum-grading",
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


@cache
def _context() -> GradingContext:
    return GradingContext(GradingSettings.from_env())


@app.task(name="practicum.grading.grade", bind=True, max_retries=None)
def grade(self, grading_id: str) -> str:  # type: ignore[no-untyped-def]
    context = _context()
    if grade_next(context, worker_name(), grading_id=grading_id) is not None:
        return "graded"
    with transaction(context.engine) as connection:
        state = connection.execute(select(gradings.c.state).where(gradings.c.id == grading_id)).scalar_one_or_none()
    if state in ("queued", "running"):  # another worker holds it: look again once its lease could have run out
        raise self.retry(countdown=context.settings.lease_seconds)
    return state or "unknown"


def publish(settings: GradingSettings, grading_id: str) -> None:
    if settings.broker_url:
        app.conf.broker_url = settings.broker_url
    grade.apply_async(args=[grading_id], queue=settings.celery_queue)


def republish_stale(context: GradingContext) -> int:
    """Publish again the gradings queued for longer than a lease, or running past their lease."""
    now = time.time()
    with transaction(context.engine) as connection:
        stale = connection.execute(
            select(gradings.c.id, gradings.c.state, gradings.c.queued_at, gradings.c.lease_until).where(gradings.c.state.in_(("queued", "running")))
        ).all()
    chosen = [
        row.id for row in stale
        if (row.state == "running" and (row.lease_until or 0) < now)
        or (row.state == "queued" and now - row.queued_at.timestamp() > context.settings.lease_seconds)
    ]
    for grading_id in chosen:
        publish(context.settings, grading_id)
    return len(chosen)
