from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from practicum.lms_api.app import create_app
from practicum.lms_api.settings import Settings, get_settings

PREFIX = "/services/lms/"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(service_prefix=PREFIX, database_url=f"sqlite:///{tmp_path / 'lms.sqlite'}")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_health_answers_under_the_service_prefix_without_auth(client: TestClient) -> None:
    response = client.get(f"{PREFIX}health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"]


def test_health_also_answers_at_the_bare_path_for_direct_probes(client: TestClient) -> None:
    assert client.get("/health").json()["status"] == "ok"


def test_openapi_and_docs_live_under_the_prefix(client: TestClient) -> None:
    schema = client.get(f"{PREFIX}openapi.json").json()
    assert f"{PREFIX}health" in schema["paths"] and f"{PREFIX}me" in schema["paths"]
    assert client.get(f"{PREFIX}docs").status_code == 200
    assert client.get("/openapi.json").status_code == 404


def test_unknown_route_gets_the_error_envelope(client: TestClient) -> None:
    response = client.get(f"{PREFIX}no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not Found"}}


def test_settings_are_read_from_the_environment_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTERHUB_SERVICE_NAME", "lms")
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/services/lms/")
    monkeypatch.setenv("JUPYTERHUB_SERVICE_URL", "http://10.0.0.5:9123")
    monkeypatch.setenv("JUPYTERHUB_API_URL", "http://hub:8081/hub/api")
    monkeypatch.setenv("JUPYTERHUB_BASE_URL", "/jh/")
    monkeypatch.setenv("JUPYTERHUB_OAUTH_ACCESS_SCOPES", '["access:services!service=lms"]')
    monkeypatch.delenv("JUPYTERHUB_CLIENT_ID", raising=False)
    monkeypatch.delenv("JUPYTERHUB_OAUTH_CALLBACK_URL", raising=False)
    monkeypatch.delenv("JUPYTERHUB_PUBLIC_HUB_URL", raising=False)
    monkeypatch.delenv("JUPYTERHUB_HOST", raising=False)
    settings = get_settings()
    assert (settings.bind_host, settings.bind_port) == ("10.0.0.5", 9123)
    assert settings.client_id == "service-lms"
    assert settings.oauth_callback_url == "/services/lms/oauth_callback"
    assert settings.oauth_authorize_url == "/jh/hub/api/oauth2/authorize"
    assert settings.oauth_token_url == "http://hub:8081/hub/api/oauth2/token"
    assert settings.access_scopes == {"access:services!service=lms"}

    monkeypatch.setenv("JUPYTERHUB_PUBLIC_HUB_URL", "https://lab.example.org/jh/hub/")
    assert get_settings().oauth_authorize_url == "https://lab.example.org/jh/hub/api/oauth2/authorize"


def test_settings_defaults_without_hub_environment() -> None:
    settings = get_settings({})
    assert settings.service_prefix == "/"
    assert (settings.bind_host, settings.bind_port) == ("127.0.0.1", 8090)
    assert settings.database_url.startswith("sqlite:///")
    assert settings.access_scopes == {"access:services", "access:services!service=lms"}


def test_module_help_says_what_it_is() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "practicum.lms_api", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert "JupyterHub" in result.stdout and "JUPYTERHUB_SERVICE_URL" in result.stdout
