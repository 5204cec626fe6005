"""XSRF tokens for the pages' forms (JupyterHub's `_xsrf` rule).

Other users' servers share the hub's origin, so a script there could post a form with our cookie.
A form carries a token derived from the browser's LMS cookie (HMAC with a key only the service
holds): a page of another origin or path cannot read it (cookie reads by scripts are refused, see
`hub_auth.cookie_auth_allowed`, and the pages may not be framed), so it cannot forge one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from fastapi import Request

from ..errors import ApiError
from ..hub_auth import XSRF_CHECKED
from ..settings import Settings

FIELD = "_xsrf"


def xsrf_key(settings: Settings) -> bytes:
    """Stable across workers when the service has its hub token (always, under JupyterHub)."""
    if settings.api_token:
        return hashlib.sha256(b"practicum-lms-xsrf\0" + settings.api_token.encode()).digest()
    return secrets.token_bytes(32)


def xsrf_token(key: bytes, cookie: str) -> str:
    digest = hmac.new(key, cookie.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def form_token(request: Request) -> str:
    """The token the page's forms carry ("" for callers without the cookie: they send a header)."""
    cookie = request.cookies.get(request.app.state.settings.cookie_name)
    return xsrf_token(request.app.state.pages_xsrf_key, cookie) if cookie else ""


def check_form(request: Request, form: dict[str, str]) -> None:
    """Let the cookie authenticate this form post if its token matches; callers with an Authorization
    header need none (a header cannot be sent across origins without the page's consent)."""
    if request.headers.get("authorization"):
        return
    cookie = request.cookies.get(request.app.state.settings.cookie_name)
    sent = form.get(FIELD, "")
    if not cookie or not sent or not hmac.compare_digest(sent, xsrf_token(request.app.state.pages_xsrf_key, cookie)):
        raise ApiError(403, "xsrf_mismatch", "This form is stale or was not sent from the LMS's own page; reload it.")
    request.scope[XSRF_CHECKED] = True
