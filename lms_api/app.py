"""The LMS application, served under the hub's service prefix (CHP forwards the full path)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import httpx
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError

from .audit import AuditBuffer
from .auth import HubPeopleCache
from .background import audit_round, delivery_round, every
from .badge_credential import BadgeIssuer
from .body_limit import BodyLimitMiddleware
from .db.engine import Database
from .db.loop_reader import loop_reader_for
from .db.migrate import upgrade_database
from .errors import error_response, install_error_handlers
from .hub_client import HubClient
from .oauth import BrowserLoginRequired, OAuthStateStore, handle_browser_login_required
from .pages.mounting import install_pages
from .routers import (
    audit_log,
    badges,
    capabilities,
    course_reports,
    courses,
    enrollments,
    health,
    hr,
    learning_paths,
    me,
    oauth_callback,
    organisations,
    people,
    privacy,
    profiles,
    progress,
    reminders,
    results,
    scim,
    tokens,
    webhooks,
    xapi,
)
from .routers.health import package_version
from .scheduled import scheduled_round
from .services.profile_reads import RenderedChanges
from .services.webhooks import RetryPolicy
from .settings import Settings, get_settings

HUB_TIMEOUT_SECONDS = 10.0
log = logging.getLogger("practicum.lms_api")

# FastAPI tries the routers in this order, route by route: the hottest (HR's profile reads, the
# grader's result posts) come first. No two routers share a path, so the order changes nothing else.
ROUTERS = (
    profiles.router, results.router, health.router, me.router, oauth_callback.router, organisations.router,
    people.router, courses.router, enrollments.router, progress.router, capabilities.router,
    learning_paths.router, course_reports.router, hr.router, webhooks.router, xapi.router, tokens.router, audit_log.router, scim.router,
    badges.router, reminders.router, privacy.router,
)


async def _handle_data_error(_request: Request, _exc: Exception) -> JSONResponse:
    return error_response(422, "invalid_data", "The database cannot store a value in this request.")


async def _handle_unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "internal_error", "Something went wrong on our side; it has been logged.")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    prefix = settings.service_prefix  # always starts and ends with "/"
    policy = RetryPolicy(
        max_attempts=settings.webhook_max_attempts, backoff_seconds=settings.webhook_backoff_seconds,
        backoff_max_seconds=settings.webhook_backoff_max_seconds,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_startup:
            await run_in_threadpool(upgrade_database, settings.database_url)
        db = Database(settings.database_url)
        app.state.badge_issuer = await run_in_threadpool(BadgeIssuer.from_settings, settings)
        reader = loop_reader_for(db.engine)
        await reader.open()
        audit = AuditBuffer()
        app.state.database, app.state.audit, app.state.loop_reader = db, audit, reader
        app.state.hub_people = HubPeopleCache(settings.identity_cache_seconds)
        app.state.rendered_changes = RenderedChanges()
        app.state.retry_policy = policy
        # trust_env=False: the hub is reached directly, never through HTTP(S)_PROXY.
        async with httpx.AsyncClient(timeout=HUB_TIMEOUT_SECONDS, trust_env=False) as http:
            # No proxies from the environment: a proxy would connect wherever the name resolves then,
            # past the address check of outbound.py.
            webhook_http = httpx.Client(
                timeout=settings.webhook_timeout_seconds, follow_redirects=False, trust_env=False
            )
            app.state.hub_client = HubClient(settings, http)
            app.state.webhook_http = webhook_http
            tasks = [asyncio.create_task(every(settings.audit_flush_seconds, lambda: audit_round(db, audit), "audit"))]
            if settings.webhook_interval_seconds > 0:
                tasks.append(asyncio.create_task(every(
                    settings.webhook_interval_seconds, lambda: delivery_round(db, webhook_http, policy, settings.webhook_allowed_hosts), "webhooks"
                )))
            if settings.reminder_interval_seconds > 0:
                tasks.append(asyncio.create_task(every(
                    settings.reminder_interval_seconds, lambda: scheduled_round(db, settings), "reminders"
                )))
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                    with suppress(asyncio.CancelledError):
                        await task
                await run_in_threadpool(audit.flush, db)
                webhook_http.close()
                await reader.close()
                db.dispose()

    app = FastAPI(
        title="Practicum LMS",
        version=package_version(),
        description=(
            "People, courses, progress, grade results, capability profiles, learning paths and the HR API "
            "of the Practicum lab. Humans authenticate through JupyterHub (token or OAuth cookie); machine "
            "clients send `Authorization: Bearer lms_...` scoped tokens. Errors: `{\"error\": {\"code\", \"message\"}}`."
        ),
        lifespan=lifespan,
        openapi_url=f"{prefix}openapi.json",
        docs_url=None,  # served by the pages, with Swagger UI from an installed package (offline)
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.oauth_states = OAuthStateStore()
    install_error_handlers(app)
    app.add_exception_handler(BrowserLoginRequired, handle_browser_login_required)
    app.add_exception_handler(scim.ScimError, scim.handle_scim_error)
    app.add_exception_handler(DataError, _handle_data_error)
    app.add_exception_handler(Exception, _handle_unexpected)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)

    router_prefix = prefix.rstrip("/")
    for router in ROUTERS:
        app.include_router(router, prefix=router_prefix)
    install_pages(app, settings)
    if router_prefix:
        # Probes that reach the process directly (not through CHP) use the bare path.
        app.include_router(health.router, include_in_schema=False)
    return app
