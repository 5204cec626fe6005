"""A tiny real JupyterHub stand-in: /hub/api/user and /hub/api/oauth2/token on a free local port."""

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

CLIENT_ID = "service-lms"
SERVICE_TOKEN = "service-secret-token"
CALLBACK_URL = "/services/lms/oauth_callback"


@dataclass
class FakeHub:
    api_url: str = ""
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    # code -> (PKCE challenge, access token it yields)
    codes: dict[str, tuple[str, str]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)

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
        return 404, {"status": 404, "message": "Not Found"}

    def _token_for_code(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        expected = {"client_id": CLIENT_ID, "client_secret": SERVICE_TOKEN,
                    "grant_type": "authorization_code", "redirect_uri": CALLBACK_URL}
        if any(form.get(key) != value for key, value in expected.items()) or form.get("code") not in self.codes:
            return 400, {"error": "invalid_grant"}
        challenge, access_token = self.codes.pop(form["code"])
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        if base64.urlsafe_b64encode(digest).decode().rstrip("=") != challenge:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        return 200, {"access_token": access_token, "token_type": "Bearer"}


@contextmanager
def running_fake_hub() -> Iterator[FakeHub]:
    hub = FakeHub()

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


def lms_settings_for(hub: FakeHub, **overrides: Any) -> Any:
    from practicum.lms_api.settings import Settings

    values: dict[str, Any] = dict(
        hub_api_url=hub.api_url, api_token=SERVICE_TOKEN, client_id=CLIENT_ID,
        service_prefix="/services/lms/", oauth_callback_url=CALLBACK_URL,
    )
    values.update(overrides)
    return Settings(**values)
