"""Talks to the JupyterHub REST API: who owns a token, and OAuth code exchange."""

from __future__ import annotations

import hashlib
import time
from typing import Any, Literal
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from .errors import ApiError
from .settings import Settings


class HubIdentity(BaseModel):
    """The hub's answer to `GET /hub/api/user` for a token."""

    name: str
    kind: Literal["user", "service"]
    groups: list[str] = []
    admin: bool = False
    scopes: list[str] = []

    @classmethod
    def from_hub_model(cls, model: dict[str, Any]) -> HubIdentity:
        return cls(
            name=model["name"],
            kind=model.get("kind", "user"),
            groups=model.get("groups") or [],
            admin=bool(model.get("admin", False)),
            scopes=model.get("scopes") or [],
        )


def token_cache_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class HubClient:
    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self._settings = settings
        self._http = http
        # sha256(token) -> (expires at, identity); raw tokens are never kept.
        self._identity_cache: dict[str, tuple[float, HubIdentity]] = {}

    async def identify(self, token: str) -> HubIdentity | None:
        """The token's owner, or None when the hub does not accept the token."""
        key = token_cache_key(token)
        now = time.monotonic()
        cached = self._identity_cache.get(key)
        if cached and cached[0] > now:
            return cached[1]
        response = await self._request(
            "GET", self._settings.hub_api_url.rstrip("/") + "/user",
            headers={"Authorization": f"token {token}"},
        )
        if response.status_code in (401, 403, 404):
            return None
        self._raise_unless_ok(response)
        identity = HubIdentity.from_hub_model(response.json())
        self._identity_cache = {k: v for k, v in self._identity_cache.items() if v[0] > now}
        self._identity_cache[key] = (now + self._settings.identity_cache_seconds, identity)
        return identity

    async def exchange_code(self, code: str, code_verifier: str | None) -> str:
        """Finish the OAuth login: trade the authorization code for an access token."""
        form = {
            "client_id": self._settings.client_id,
            "client_secret": self._settings.api_token,
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self._settings.oauth_callback_url,
        }
        if code_verifier:
            form["code_verifier"] = code_verifier
        response = await self._request("POST", self._settings.oauth_token_url, data=form)
        if 400 <= response.status_code < 500:
            raise ApiError(400, "oauth_code_rejected", "The hub rejected the login code; log in again.")
        self._raise_unless_ok(response)
        return str(response.json()["access_token"])

    async def add_to_group(self, group: str, user: str) -> None:
        """Add ``user`` to the hub group ``group`` with the LMS's own token (self-enrolment)."""
        response = await self._request(
            "POST", self._settings.hub_api_url.rstrip("/") + f"/groups/{quote(group, safe='')}/users",
            headers={"Authorization": f"token {self._settings.api_token}"}, json={"users": [user]},
        )
        if response.status_code == 403:
            raise ApiError(403, "enrolment_closed", f"The hub does not let the LMS enrol learners in {group}.")
        self._raise_unless_ok(response)

    async def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiError(502, "hub_unavailable", f"JupyterHub did not answer: {exc!r}") from exc

    @staticmethod
    def _raise_unless_ok(response: httpx.Response) -> None:
        if response.status_code != 200:
            raise ApiError(
                502, "hub_unavailable", f"JupyterHub answered {response.status_code} to {response.url.path}"
            )
