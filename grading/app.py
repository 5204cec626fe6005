"""Run the grading service: the hub service's HTTP side, the local worker pool (embedded default) or
the Celery publisher (at scale), and the outbox's deliverer."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable

from jupyterhub.services.auth import HubOAuth
from tornado.httpserver import HTTPServer

from .context import GradingContext
from .manual_grades import ManualGrades
from .outbox import deliver_pending
from .service import Service, make_app
from .settings import GradingSettings
from .worker import LocalPool

log = logging.getLogger("practicum.grading")


def publisher(settings: GradingSettings) -> Callable[[str], None]:
    """What happens once a grading is queued: local workers poll the table; Celery gets a message."""
    if settings.executor != "celery":
        return lambda grading_id: None
    from .celery_tasks import publish  # Celery only where it is the executor

    return lambda grading_id: publish(settings, grading_id)


async def serve(settings: GradingSettings) -> None:
    context = GradingContext(settings)
    context.engine  # noqa: B018 - make the tables before the first request
    hub_auth = HubOAuth(allow_token_in_url=False, cache_max_age=60)
    service = Service(context, hub_auth, on_queued=publisher(settings))
    server = HTTPServer(make_app(service), max_body_size=settings.max_upload_bytes, idle_connection_timeout=3600)
    host, port = settings.listen
    server.listen(port, host)
    pool = LocalPool(settings, settings.workers) if settings.executor == "local" and settings.workers > 0 else None
    log.info("grading service on %s:%d%s, %s", host, port, settings.service_prefix,
             f"{settings.workers} local workers" if pool else f"executor {settings.executor}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(_deliver(context, stop))]
    if settings.courses:
        tasks.append(asyncio.create_task(_follow_manual_grades(context, stop)))
    if settings.executor == "celery":
        tasks.append(asyncio.create_task(_republish(context, stop)))
    try:
        while not stop.is_set():
            if pool:
                pool.keep_alive()
            try:
                await asyncio.wait_for(stop.wait(), timeout=1.0)
            except TimeoutError:
                pass
    finally:
        server.stop()
        for task in tasks:
            task.cancel()
        if pool:
            pool.stop()
        context.close()


async def _deliver(context: GradingContext, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await asyncio.to_thread(deliver_pending, context)
        except Exception:  # the database briefly unavailable: the next round tries again
            log.exception("delivering results failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=context.settings.delivery_seconds)
        except TimeoutError:
            pass


async def _follow_manual_grades(context: GradingContext, stop: asyncio.Event) -> None:
    follower = ManualGrades(context)
    while not stop.is_set():
        try:
            recorded = await asyncio.to_thread(follower.sync)
            if recorded:
                log.info("recorded %d formgrader grade(s): %s", len(recorded), ", ".join(recorded))
        except Exception:  # a gradebook being written, or the database briefly unavailable: the next round
            log.exception("reading the formgrader's grades failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=context.settings.manual_grades_seconds)
        except TimeoutError:
            pass


async def _republish(context: GradingContext, stop: asyncio.Event) -> None:
    """Celery messages can be lost (a crash between commit and publish): queued work is published again
    now and then; a grading claimed twice is graded once (queue.claim)."""
    from .celery_tasks import republish_stale

    while not stop.is_set():
        try:
            await asyncio.to_thread(republish_stale, context)
        except Exception:
            log.exception("publishing queued gradings failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=max(10.0, context.settings.lease_seconds))
        except TimeoutError:
            pass
