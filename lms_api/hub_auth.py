"""Who is calling: a hub API token in the Authorization header, or the OAuth cookie of a browser."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from .deps import HubClientDep, SettingsDep
from .errors import ApiError
from .hub_client import HubIdentity
from .oauth import BrowserLoginRequired

_ASK_FOR_TOKEN = {"WWW-Authenticate": 'Bearer realm="jupyterhub"'}
# Set in the request scope by the pages once a form's XSRF token matched its cookie (pages/xsrf.py).
XSRF_CHECKED = "practicum.lms.xsrf_checked"


def token_from_header(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() not in ("token", "bearer") or not token.strip():
        raise ApiError(
            401, "invalid_authorization_header",
            "Send 'Authorization: token <hub API token>' or 'Authorization: Bearer <hub API token>'.",
            headers=_ASK_FOR_TOKEN,
        )
    return token.strip()


def cookie_auth_allowed(request: Request) -> bool:
    """JupyterHub's XSRF rule: another user's server shares our origin, so its scripts could
    send our cookie; accept the cookie only for page loads, never for scripted or writing requests,
    except a form post whose XSRF token the pages checked (as JupyterHub's `_xsrf`)."""
    if request.scope.get(XSRF_CHECKED) is True:
        return True
    read_only = request.method in ("GET", "HEAD", "OPTIONS")
    fetch_mode = request.headers.get("sec-fetch-mode", "unspecified")
    fetch_site = request.headers.get("sec-fetch-site", "unspecified")
    same_origin_no_cors = fetch_mode == "no-cors" and fetch_site == "same-origin"
    return read_only and (fetch_mode in ("navigate", "unspecified") or same_origin_no_cors)


def wants_html(request: Request) -> bool:
    return request.method in ("GET", "HEAD") and "text/html" in request.headers.get("accept", "")


async def get_current_identity(request: Request, settings: SettingsDep, hub: HubClientDep) -> HubIdentity:
    header_token = token_from_header(request)
    if header_token is not None:
        identity = await hub.identify(header_token)
        if identity is None:
            raise ApiError(
                401, "invalid_token", "JupyterHub does not accept this token (unknown, expired or revoked).",
                headers=_ASK_FOR_TOKEN,
            )
    else:
        cookie_token = request.cookies.get(settings.cookie_name) if cookie_auth_allowed(request) else None
        identity = await hub.identify(cookie_token) if cookie_token else None
        if identity is None:
            if wants_html(request):
                raise BrowserLoginRequired()
            raise ApiError(
                401, "not_authenticated", "Send a JupyterHub API token in the Authorization header.",
                headers=_ASK_FOR_TOKEN,
            )
    if not settings.access_scopes & set(identity.scopes):
        raise ApiError(
            403, "missing_access_scope",
            f"'{identity.name}' may not use this service: needs one of {sorted(settings.access_scopes)}.",
        )
    return identity


CurrentIdentity = Annotated[HubIdentity, Depends(get_current_identity)]
