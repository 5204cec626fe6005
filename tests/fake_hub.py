"""A tiny real JupyterHub stand-in for one hub service: /hub/api/user (token -> user model), the
OAuth code exchange (/hub/api/oauth2/token, with PKCE) and adding users to a group with the service's
own token (POST /hub/api/groups/NAME/users), on a free local port."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class FakeHub:
    service: str
    service_token: str
    api_url: str = ""
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    # OAuth code -> (PKCE challenge, access token it yields)
    codes: dict[str, tuple[str, str]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    group_members: dict[str, set[str]] = field(default_factory=dict)

    @property
    def client_id(self) -> str:
        return f"service-{self.service}"

    @property
    def callback_url(self) -> str:
        return f"/services/{self.service}/oauth_callback"

    @property
    def access_scopes(self) -> list[str]:
        return [f"access:services!service={self.service}", "access:services"]

    def add_user(self, name: str, token: str, *, scopes: list[str] | None = None, kind: str = "user") -> str:
        self.tokens[token] = {"kind": kind, "name": name, "admin": False, "groups": [],
                              "scopes": self.access_scopes if scopes is None else scopes}
        return token

    def user_calls(self) -> int:
        return sum(1 for method, path in self.requests if (method, path) == ("GET", "/hub/api/user"))

    def answer(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, dict[str, Any]]:
        self.requests.append((method, path))
        if (method, path) == ("GET", "/hub/api/user"):
            scheme, _, token = headers.get("Authorization", "").partition(" ")
            model = self.tokens.get(token) if scheme == "token" else None
            return (200, model) if model else (403, {"status": 403, "message": "Forbidden"})
        if (method, path) == ("POST", "/hub/api/oauth2/token"):
            form = {key: values[0] for key, values in parse_qs(body.decode()).items()}
            return self._token_for_code(form)
        if method == "POST" and path.startswith("/hub/api/groups/") and path.endswith("/users"):
            if headers.get("Authorization", "") != f"token {self.service_token}":
                return 403, {"status": 403, "message": "Forbidden"}
            group = path.removeprefix("/hub/api/groups/").removesuffix("/users")
            self.group_members.setdefault(group, set()).update(json.loads(body or b"{}").get("users", []))
            return 200, {"name": group, "users": sorted(self.group_members[group])}
        return 404, {"status": 404, "message": "Not Found"}

    def _token_for_code(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        expected = {"client_id": self.client_id, "client_secret": self.service_token,
                    "grant_type": "authorization_code", "redirect_uri": self.callback_url}
        if any(form.get(key) != value for key, value in expected.items()) or form.get("code") not in self.codes:
            return 400, {"error": "invalid_grant"}
        challenge, access_token = self.codes.pop(form["code"])
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        if base64.urlsafe_b64encode(digest).decode().rstrip("=") != challenge:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        return 200, {"access_token": access_token, "token_type": "Bearer"}


@contextmanager
def running_fake_hub(service: str, service_token: str) -> Iterator[FakeHub]:
    hub = FakeHub(service, service_token)

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, payload = hub.answer(self.command, self.path, self.headers, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _reply

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hub.api_url = f"http://127.0.0.1:{server.server_address[1]}/hub/api"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
