"""Browser login through the hub's OAuth provider (authorization code + PKCE), as HubOAuth does."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from .settings import Settings

STATE_MAX_AGE_SECONDS = 600


@dataclass(frozen=True)
class PendingLogin:
    next_url: str
    code_verifier: str
    expires_at: float


class OAuthStateStore:
    """Logins in flight, by state id. In memory: the service runs one worker, as HubOAuth assumes."""

    def __init__(self) -> None:
        self._pending: dict[str, PendingLogin] = {}

    def start(self, next_url: str, code_verifier: str) -> str:
        now = time.monotonic()
        self._pending = {k: v for k, v in self._pending.items() if v.expires_at > now}
        state = secrets.token_urlsafe(16)
        self._pending[state] = PendingLogin(next_url, code_verifier, now + STATE_MAX_AGE_SECONDS)
        return state

    def finish(self, state: str) -> PendingLogin | None:
        pending = self._pending.pop(state, None)
        return pending if pending and pending.expires_at > time.monotonic() else None


class BrowserLoginRequired(Exception):
    """Raised by auth for page loads without credentials; answered with a redirect to the hub."""


def state_cookie_name(settings: Settings) -> str:
    return f"{settings.cookie_name}-oauth-state"


def is_https(request: Request, settings: Settings) -> bool:
    return request.url.scheme == "https" or settings.public_url.startswith("https:")


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge), RFC 7636."""
    verifier = secrets.token_urlsafe(32)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def redirect_to_hub_login(request: Request, settings: Settings, states: OAuthStateStore) -> Response:
    verifier, challenge = pkce_pair()
    next_url = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    state = states.start(next_url, verifier)
    query = urlencode({
        "client_id": settings.client_id,
        "redirect_uri": settings.oauth_callback_url,
        "response_type": "code",
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    })
    response = RedirectResponse(f"{settings.oauth_authorize_url}?{query}", status_code=302)
    response.set_cookie(
        state_cookie_name(settings), state, max_age=STATE_MAX_AGE_SECONDS, path=settings.service_prefix,
        httponly=True, secure=is_https(request, settings), samesite="lax",
    )
    return response


def set_token_cookie(response: Response, token: str, request: Request, settings: Settings) -> None:
    response.set_cookie(
        settings.cookie_name, token, path=settings.service_prefix,
        httponly=True, secure=is_https(request, settings), samesite="lax",
    )


async def handle_browser_login_required(request: Request, _exc: Exception) -> Response:
    return redirect_to_hub_login(request, request.app.state.settings, request.app.state.oauth_states)
