"""Deliver a grade result to the LMS over HTTP: retried, idempotent by submission id."""

from __future__ import annotations

import time

import httpx

from practicum.contracts.grade_result import GradeResult


class DeliveryError(RuntimeError):
    pass


class DeliveryRefused(DeliveryError):
    """The LMS answered and said no (a 4xx other than 408 and 429): sending the same result again
    cannot succeed until someone changes the LMS (its catalog, the token) or the result."""


def post_result(lms_url: str, token: str, result: GradeResult, *, attempts: int = 4, timeout: float = 15.0) -> dict:
    """POST the result to `{lms_url}results`; safe to repeat (the LMS keys results by submission id)."""
    url = lms_url.rstrip("/") + "/results"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    last_error = ""
    for attempt in range(attempts):
        try:
            response = httpx.post(url, content=result.to_json(), headers=headers, timeout=timeout)
        except httpx.HTTPError as exc:
            last_error = f"{type(exc).__name__}: {exc}"
        else:
            if response.status_code in (200, 201):
                return response.json()
            if response.status_code < 500 and response.status_code not in (408, 429):
                raise DeliveryRefused(f"the LMS refused the result: HTTP {response.status_code} {response.text[:300]}")
            last_error = f"HTTP {response.status_code}"
        if attempt + 1 < attempts:
            time.sleep(min(0.5 * 2**attempt, 5.0))
    raise DeliveryError(f"the LMS did not take the result after {attempts} attempts: {last_error}")
