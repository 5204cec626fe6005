"""The LMS's scheduled job: a reminder round, then retention. One function for every way it runs:
the app's in-process loop (embedded default), `practicum lms reminders run` (a Kubernetes CronJob),
and the Celery beat task in `celery_beat.py`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .db.engine import Database
from .db.types import utcnow
from .mailer import Mailer
from .services.reminders import run_reminders
from .services.retention import apply_retention
from .settings import Settings


def scheduled_round(db: Database, settings: Settings, now: datetime | None = None,
                    mailer: Mailer | None = None) -> dict[str, Any]:
    now = now or utcnow()
    reminders = run_reminders(db, settings, now, mailer)
    with db.write() as session:
        retention = apply_retention(
            session, audit_days=settings.audit_retention_days, delivery_days=settings.delivery_retention_days, now=now
        )
        session.commit()
    return {"at": now.isoformat(), "reminders": reminders.to_json(), "retention": retention}
