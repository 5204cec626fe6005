"""OpenAPI docs that work offline: Swagger UI 5 from the installed `fastapi-swagger` package, and a
bearer scheme so "Authorize" takes an LMS token (`lms_...`) or a JupyterHub API token."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from .assets import asset_names

BEARER_SCHEME = {
    "type": "http", "scheme": "bearer",
    "description": "An LMS token (`lms_...`, for machine clients) or a JupyterHub API token (people).",
}
_PUBLIC_PATHS = ("health",)


def add_bearer_scheme(app: FastAPI, prefix: str) -> None:
    """Every operation asks for the bearer scheme (except the health probe)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        schema.setdefault("components", {})["securitySchemes"] = {"bearer": BEARER_SCHEME}
        schema["security"] = [{"bearer": []}]
        for path, operations in schema.get("paths", {}).items():
            if path.removeprefix(prefix.rstrip("/")).strip("/") in _PUBLIC_PATHS:
                for operation in operations.values():
                    operation["security"] = []
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def add_api_docs(app: FastAPI, prefix: str) -> None:
    static = f"{prefix}pages/static/"

    @app.get(f"{prefix}docs", include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        names = asset_names()
        return get_swagger_ui_html(
            openapi_url=f"{prefix}openapi.json", title=f"{app.title} - API docs",
            swagger_js_url=static + names["swagger-ui-bundle"], swagger_css_url=static + names["swagger-ui-css"],
            swagger_favicon_url=static + names["swagger-ui-favicon"],
            swagger_ui_parameters={"persistAuthorization": True, "tryItOutEnabled": True},
        )
