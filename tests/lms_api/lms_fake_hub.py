"""The fake hub (tests/fake_hub.py) as the LMS service sees it, and LMS settings pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fake_hub import FakeHub
from fake_hub import running_fake_hub as _running_fake_hub

SERVICE = "lms"
SERVICE_TOKEN = "service-secret-token"
CLIENT_ID = f"service-{SERVICE}"
CALLBACK_URL = f"/services/{SERVICE}/oauth_callback"


@contextmanager
def running_fake_hub() -> Iterator[FakeHub]:
    with _running_fake_hub(SERVICE, SERVICE_TOKEN) as hub:
        yield hub


def lms_settings_for(hub: FakeHub, **overrides: Any) -> Any:
    from practicum.lms_api.settings import Settings

    values: dict[str, Any] = dict(
        hub_api_url=hub.api_url, api_token=SERVICE_TOKEN, client_id=CLIENT_ID,
        service_prefix="/services/lms/", oauth_callback_url=CALLBACK_URL,
    )
    values.update(overrides)
    return Settings(**values)


__all__ = ["CALLBACK_URL", "CLIENT_ID", "SERVICE_TOKEN", "FakeHub", "lms_settings_for", "running_fake_hub"]
