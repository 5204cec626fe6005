"""The scheduled job at scale on Celery: beat sends `practicum.lms.scheduled_round` every
$PRACTICUM_LMS_BEAT_SECONDS (900 s); a worker runs the same `scheduled_round` as the
app's in-process loop (turn that off: PRACTICUM_LMS_REMINDER_INTERVAL_SECONDS=0 on the LMS pods).

    celery -A practicum.lms_api.celery_beat beat      # exactly one beat
    celery -A practicum.lms_api.celery_beat worker -Q practicum-lms

Two rounds at once are safe (reminder keys are unique), so a duplicated beat sends nothing twice.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery

from .db.engine import Database
from .scheduled import scheduled_round
from .settings import get_settings

QUEUE = "practicum-lms"
TASK = "practicum.lms.scheduled_round"

app = Celery("practicum.lms_api")
app.conf.update(
    broker_url=os.environ.get("PRACTICUM_LMS_BROKER_URL") or "amqp://guest:guest@127.0.0.1:5672//",
    task_default_queue=QUEUE,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    beat_schedule={
        "lms-reminders-and-retention": {
            "task": TASK,
            "schedule": float(os.environ.get("PRACTICUM_LMS_BEAT_SECONDS") or 900.0),
            "options": {"queue": QUEUE, "expires": 600},
        }
    },
)


@app.task(name=TASK)
def scheduled(**_: Any) -> dict[str, Any]:
    settings = get_settings()
    db = Database(settings.database_url)
    try:
        return scheduled_round(db, settings)
    finally:
        db.dispose()
