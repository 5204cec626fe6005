"""A tiny real JupyterHub stand-in for the gateway: /hub/api/user (token -> user) and OAuth code exchange."""

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

SERVICE = "mlflow"
CLIENT_ID = f"service-{SERVICE}"
SERVICE_TOKEN = "gateway-service-token"
CALLBACK_URL = f"/services/{SERVICE}/oauth_callback"
ACCESS_SCOPES = [f"access:services!service={SERVICE}", "access:services"]


@dataclass
class FakeHub:
    api_url: str = ""
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    # OAuth code -> (PKCE challenge, access token it yields)
    codes: dict[str, tuple[str, str]] = field(default_factory=dict)

    def add_user(self, name: str, token: str, *, scopes: list[str] | None = None, kind: str = "user") -> str:
        self.tokens[token] = {
            "kind": kind, "name": name, "admin": False, "groups": [],
            "scopes": ACCESS_SCOPES if scopes is None else scopes,
        }
        return token

    def answer(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, dict[str, Any]]:
        if (method, path) == ("GET", "/hub/api/user"):
            scheme, _, token = headers.get("Authorization", "").partition(" ")
            model = self.tokens.get(token) if scheme == "token" else None
            return (200, model) if model else (403, {"status": 403, "message": "Forbidden"})
        if (method, path) == ("POST", "/hub/api/oauth2/token"):
            form = {key: values[0] for key, values in parse_qs(body.decode()).items()}
            expected = {"client_id": CLIENT_ID, "client_secret": SERVICE_TOKEN,
                        "grant_type": "authorization_code", "redirect_uri": CALLBACK_URL}
            if any(form.get(k) != v for k, v in expected.items()) or form.get("code") not in self.codes:
                return 400, {"error": "invalid_grant"}
            challenge, access_token = self.codes.pop(form["code"])
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            if base64.urlsafe_b64encode(digest).decode().rstrip("=") != challenge:
                return 400, {"error": "invalid_grant"}
            return 200, {"access_token": access_token, "token_type": "Bearer"}
        return 404, {"status": 404, "message": "Not Found"}


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
