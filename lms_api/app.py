"""The LMS application, served under the hub's service prefix (CHP forwards the full path)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from .errors import install_error_handlers
from .hub_client import HubClient
from .oauth import BrowserLoginRequired, OAuthStateStore, handle_browser_login_required
from .routers import health, me, oauth_callback
from .routers.health import package_version
from .settings import Settings, get_settings

HUB_TIMEOUT_SECONDS = 10.0


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    prefix = settings.service_prefix  # always starts and ends with "/"

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # trust_env=False: the hub is reached directly, never through HTTP(S)_PROXY.
        async with httpx.AsyncClient(timeout=HUB_TIMEOUT_SECONDS, trust_env=False) as http:
            app.state.hub_client = HubClient(settings, http)
            yield

    app = FastAPI(
        title="Practicum LMS",
        version=package_version(),
        lifespan=lifespan,
        openapi_url=f"{prefix}openapi.json",
        docs_url=f"{prefix}docs",
        swagger_ui_oauth2_redirect_url=f"{prefix}docs/oauth2-redirect",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.oauth_states = OAuthStateStore()
    install_error_handlers(app)
    app.add_exception_handler(BrowserLoginRequired, handle_browser_login_required)

    router_prefix = prefix.rstrip("/")
    for router in (health.router, me.router, oauth_callback.router):
        app.include_router(router, prefix=router_prefix)
    if router_prefix:
        # Probes that reach the process directly (not through CHP) use the bare path.
        app.include_router(health.router, include_in_schema=False)
    return app
