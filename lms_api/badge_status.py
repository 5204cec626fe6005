"""Fetching an issuer's revocation list for `badge verify --online`: the URL is checked like a webhook
target (no internal addresses unless allowed), called at the checked address, and read bounded."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import httpx

from .outbound import TargetRefused, check_target, pinned_request

MAX_LIST_BYTES = 5_000_000


class StatusUnavailable(Exception):
    """The revocation list could not be read: one line says why."""


def fetch_revocation_list(url: str, *, allowed_hosts: Iterable[str] = (), timeout: float = 10.0) -> Any:
    try:
        target = check_target(url, allowed_hosts)
    except TargetRefused as exc:
        raise StatusUnavailable(f"revocation list {url[:200]} not fetched: {exc.reason}") from exc
    request_url, headers, extensions = pinned_request(target)
    body = bytearray()
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as http, http.stream(
            "GET", request_url, headers={**headers, "Accept": "application/json"}, extensions=extensions
        ) as response:
            if response.status_code != 200:
                raise StatusUnavailable(f"revocation list {url[:200]} answered HTTP {response.status_code}")
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_LIST_BYTES:
                    raise StatusUnavailable(f"revocation list {url[:200]} is larger than {MAX_LIST_BYTES} bytes")
    except httpx.HTTPError as exc:
        raise StatusUnavailable(f"revocation list {url[:200]} unreachable: {type(exc).__name__}") from exc
    try:
        return json.loads(body)
    except ValueError as exc:
        raise StatusUnavailable(f"revocation list {url[:200]} is not JSON") from exc
