from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from lms_fake_hub import FakeHub, lms_settings_for, running_fake_hub

from practicum.lms_api.app import create_app

PREFIX = "/services/lms/"
ALICE_TOKEN = "alice-api-token"
ALICE = {
    "kind": "user", "name": "alice", "admin": False, "groups": ["learners"], "roles": ["user"],
    "scopes": ["access:services!service=lms", "read:users:name!user=alice"],
}
BROWSER = {"Accept": "text/html,application/xhtml+xml", "Sec-Fetch-Mode": "navigate"}


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[FakeHub]:
    with running_fake_hub() as fake_hub:
        fake_hub.tokens[ALICE_TOKEN] = ALICE
        fake_hub.database_url = f"sqlite:///{tmp_path / 'lms.sqlite'}"  # type: ignore[attr-defined]
        yield fake_hub


def lms_client(hub: FakeHub, **settings: Any) -> TestClient:
    settings.setdefault("database_url", hub.database_url)  # type: ignore[attr-defined]
    app = create_app(lms_settings_for(hub, **settings))
    return TestClient(app, base_url="https://lab.example.org", follow_redirects=False)


@pytest.fixture
def client(hub: FakeHub) -> Iterator[TestClient]:
    with lms_client(hub) as test_client:
        yield test_client


@pytest.mark.parametrize("scheme", ["token", "Bearer"])
def test_me_returns_the_hub_identity_of_the_token(client: TestClient, scheme: str) -> None:
    response = client.get(f"{PREFIX}me", headers={"Authorization": f"{scheme} {ALICE_TOKEN}"})
    assert response.status_code == 200
    assert response.json() == {
        "name": "alice", "kind": "user", "groups": ["learners"], "admin": False,
        "scopes": ["access:services!service=lms", "read:users:name!user=alice"],
    }


def test_me_identifies_services_too(hub: FakeHub, client: TestClient) -> None:
    hub.tokens["grader-token"] = {"kind": "service", "name": "grader", "scopes": ["access:services"]}
    body = client.get(f"{PREFIX}me", headers={"Authorization": "token grader-token"}).json()
    assert (body["kind"], body["name"], body["groups"], body["admin"]) == ("service", "grader", [], False)


def test_bad_token_gets_401_json(client: TestClient) -> None:
    response = client.get(f"{PREFIX}me", headers={"Authorization": "token not-a-real-token"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"


def test_malformed_authorization_header_gets_401_json(client: TestClient) -> None:
    response = client.get(f"{PREFIX}me", headers={"Authorization": f"Basic {ALICE_TOKEN}"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_authorization_header"


def test_api_client_without_token_gets_401_json_not_a_redirect(client: TestClient) -> None:
    response = client.get(f"{PREFIX}me", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert "WWW-Authenticate" in response.headers


def test_token_without_the_service_access_scope_gets_403(hub: FakeHub, client: TestClient) -> None:
    hub.tokens["narrow-token"] = {**ALICE, "scopes": ["read:users:name!user=alice"]}
    response = client.get(f"{PREFIX}me", headers={"Authorization": "token narrow-token"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "missing_access_scope"


def test_identity_is_cached_so_the_hub_is_asked_once(hub: FakeHub, client: TestClient) -> None:
    for _ in range(3):
        assert client.get(f"{PREFIX}me", headers={"Authorization": f"token {ALICE_TOKEN}"}).status_code == 200
    assert hub.user_calls() == 1
    cache_keys = list(client.app.state.hub_client._identity_cache)  # type: ignore[attr-defined]
    assert cache_keys and all(ALICE_TOKEN not in key for key in cache_keys)


def test_expired_cache_entries_ask_the_hub_again(hub: FakeHub) -> None:
    with lms_client(hub, identity_cache_seconds=0) as client:
        for _ in range(2):
            client.get(f"{PREFIX}me", headers={"Authorization": f"token {ALICE_TOKEN}"})
    assert hub.user_calls() == 2


def test_unreachable_hub_gets_502_json(hub: FakeHub) -> None:
    with lms_client(hub, hub_api_url="http://127.0.0.1:9/hub/api") as client:
        response = client.get(f"{PREFIX}me", headers={"Authorization": f"token {ALICE_TOKEN}"})
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "hub_unavailable"


def start_browser_login(client: TestClient, path: str = f"{PREFIX}me?view=full") -> dict[str, str]:
    response = client.get(path, headers=BROWSER)
    assert response.status_code == 302
    state_cookie = response.headers["set-cookie"]
    assert all(flag in state_cookie for flag in ("HttpOnly", "Secure", f"Path={PREFIX}"))
    location = urlsplit(response.headers["location"])
    assert location.path == "/hub/api/oauth2/authorize"
    return {key: values[0] for key, values in parse_qs(location.query).items()}


def test_browser_without_login_is_redirected_to_the_hub_authorize_endpoint(client: TestClient) -> None:
    params = start_browser_login(client)
    assert params["client_id"] == "service-lms"
    assert params["redirect_uri"] == f"{PREFIX}oauth_callback"
    assert params["response_type"] == "code"
    assert params["code_challenge_method"] == "S256" and params["code_challenge"]
    assert client.cookies.get("service-lms-oauth-state") == params["state"]


def test_oauth_callback_sets_the_token_cookie_and_returns_to_the_page(hub: FakeHub, client: TestClient) -> None:
    params = start_browser_login(client)
    hub.codes["the-code"] = (params["code_challenge"], ALICE_TOKEN)

    response = client.get(f"{PREFIX}oauth_callback", params={"code": "the-code", "state": params["state"]})

    assert response.status_code == 302
    assert response.headers["location"] == f"{PREFIX}me?view=full"
    token_cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("service-lms="))
    assert f"service-lms={ALICE_TOKEN}" in token_cookie
    assert all(flag in token_cookie for flag in ("HttpOnly", "Secure", f"Path={PREFIX}"))
    page = client.get(response.headers["location"], headers=BROWSER)
    assert page.status_code == 200 and page.json()["name"] == "alice"


def test_oauth_callback_refuses_a_state_this_browser_did_not_start(hub: FakeHub, client: TestClient) -> None:
    params = start_browser_login(client)
    hub.codes["the-code"] = (params["code_challenge"], ALICE_TOKEN)
    response = client.get(f"{PREFIX}oauth_callback", params={"code": "the-code", "state": "forged"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "oauth_state_mismatch"
    assert "service-lms" not in client.cookies


def test_oauth_callback_reports_a_code_the_hub_rejects(client: TestClient) -> None:
    params = start_browser_login(client)
    response = client.get(f"{PREFIX}oauth_callback", params={"code": "unknown", "state": params["state"]})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "oauth_code_rejected"


def test_login_cookie_is_not_accepted_for_scripted_requests(hub: FakeHub, client: TestClient) -> None:
    params = start_browser_login(client)
    hub.codes["the-code"] = (params["code_challenge"], ALICE_TOKEN)
    client.get(f"{PREFIX}oauth_callback", params={"code": "the-code", "state": params["state"]})
    scripted = client.get(f"{PREFIX}me", headers={"Sec-Fetch-Mode": "cors", "Sec-Fetch-Site": "same-origin"})
    assert scripted.status_code == 401
