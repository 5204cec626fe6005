"""Puts the pages, their static files and the offline API docs on the app."""

from __future__ import annotations

from fastapi import FastAPI

from ..settings import Settings
from . import assets, routes
from .api_docs import add_api_docs, add_bearer_scheme
from .xsrf import xsrf_key


def install_pages(app: FastAPI, settings: Settings) -> None:
    prefix = settings.service_prefix
    app.state.pages_xsrf_key = xsrf_key(settings)
    app.include_router(assets.router, prefix=prefix.rstrip("/"))
    app.include_router(routes.router, prefix=prefix.rstrip("/"))
    add_api_docs(app, prefix)
    add_bearer_scheme(app, prefix)
