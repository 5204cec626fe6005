"""Templates, the headers every page carries, and errors as pages (not JSON) for browsers."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..errors import ApiError
from .assets import asset_names
from .xsrf import FIELD, form_token

TEMPLATES = Path(__file__).parent / "templates"

# Scripts only from this service (the JSON a chart draws is data, not script); plotly.js styles its
# SVG inline. Never framed: a same-origin frame would let another user's server read the page.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # the pages show personal records
}


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True), undefined=StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, auto_reload=False,
    )
    env.filters["percent"] = lambda value: "-" if value is None else f"{value * 100:.0f}%"
    env.filters["number"] = lambda value, digits=2: "-" if value is None else f"{value:.{digits}f}"
    env.filters["when"] = lambda value: "-" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")
    env.filters["day"] = lambda value: "-" if value is None else value.strftime("%Y-%m-%d")
    return env


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    prefix = request.app.state.settings.service_prefix
    html = environment().get_template(template).render(
        prefix=prefix, static=f"{prefix}pages/static/", assets=asset_names(), xsrf_field=FIELD,
        xsrf=form_token(request), **context,
    )
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)


class PageRoute(APIRoute):
    """A page route: an `ApiError` (404, 403, ...) is answered with an error page of that status."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except ApiError as exc:
                context = {"title": "Not available" if exc.status_code in (403, 404) else "Error", "nav": None,
                           "error": exc}
                return render(request, "error.html", context, status_code=exc.status_code)

        return page_handler
