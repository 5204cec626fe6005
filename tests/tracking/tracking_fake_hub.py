"""The fake hub (tests/fake_hub.py) as the MLflow gateway service sees it, and the gateway's environment."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from fake_hub import FakeHub
from fake_hub import running_fake_hub as _running_fake_hub

SERVICE = "mlflow"
CLIENT_ID = f"service-{SERVICE}"
SERVICE_TOKEN = "gateway-service-token"
CALLBACK_URL = f"/services/{SERVICE}/oauth_callback"
ACCESS_SCOPES = [f"access:services!service={SERVICE}", "access:services"]


@contextmanager
def running_fake_hub() -> Iterator[FakeHub]:
    with _running_fake_hub(SERVICE, SERVICE_TOKEN) as hub:
        yield hub


def gateway_environment(hub: FakeHub, port: int) -> dict[str, str]:
    """What JupyterHub gives the managed service "mlflow"."""
    return {
        "JUPYTERHUB_SERVICE_NAME": SERVICE,
        "JUPYTERHUB_API_TOKEN": SERVICE_TOKEN,
        "JUPYTERHUB_API_URL": hub.api_url,
        "JUPYTERHUB_BASE_URL": "/",
        "JUPYTERHUB_CLIENT_ID": CLIENT_ID,
        "JUPYTERHUB_SERVICE_PREFIX": f"/services/{SERVICE}/",
        "JUPYTERHUB_SERVICE_URL": f"http://127.0.0.1:{port}",
        "JUPYTERHUB_OAUTH_CALLBACK_URL": CALLBACK_URL,
        "JUPYTERHUB_OAUTH_ACCESS_SCOPES": json.dumps(ACCESS_SCOPES),
    }
