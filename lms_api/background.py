"""Work the app does on a timer: deliver the webhook outbox, flush audited reads."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import httpx
from fastapi.concurrency import run_in_threadpool

from .audit import AuditBuffer
from .db.engine import Database
from .db.types import utcnow
from .services.webhooks import RetryPolicy, deliver_due

log = logging.getLogger("practicum.lms_api")


async def every(seconds: float, work: Callable[[], object], name: str) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await run_in_threadpool(work)
        except Exception:  # keep the loop alive; the next round retries
            log.exception("background task %s failed", name)


def delivery_round(db: Database, http: httpx.Client, policy: RetryPolicy, allowed_hosts: frozenset[str]) -> None:
    with db.write() as session:
        deliver_due(session, http, utcnow(), policy, allowed_hosts=allowed_hosts)


def audit_round(db: Database, audit: AuditBuffer) -> None:
    audit.flush(db)
