"""Drive a running hub through its REST API: users, groups, sandboxes, kernels.

Used by `practicum demo`, the benchmarks and the tests, so all three exercise the
hub the way a person's browser does (through the proxy, with tokens).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx
import websocket


class HubError(RuntimeError):
    pass


@dataclass(frozen=True)
class CodeResult:
    status: str
    stdout: str
    stderr: str
    error: str = ""
    outputs: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class HubClient:
    def __init__(self, hub_api_url: str, public_url: str, token: str, timeout: float = 30.0):
        self.hub_api_url = hub_api_url.rstrip("/")
        self.public_url = public_url.rstrip("/")
        self.token = token
        self._http = httpx.Client(headers={"Authorization": f"token {token}"}, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _api(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        response = self._http.request(method, f"{self.hub_api_url}{path}", **kwargs)  # type: ignore[arg-type]
        if response.status_code >= 400:
            raise HubError(f"{method} {path}: HTTP {response.status_code} {response.text[:300]}")
        return response

    def ensure_user(self, name: str) -> dict:
        existing = self._http.get(f"{self.hub_api_url}/users/{quote(name)}")
        if existing.status_code == 200:
            return existing.json()
        return self._api("POST", f"/users/{quote(name)}").json()

    def add_to_group(self, group: str, users: list[str]) -> None:
        if self._http.get(f"{self.hub_api_url}/groups/{quote(group)}").status_code == 404:
            self._api("POST", f"/groups/{quote(group)}")
        self._api("POST", f"/groups/{quote(group)}/users", json={"users": users})

    def user(self, name: str) -> dict:
        return self._api("GET", f"/users/{quote(name)}").json()

    def start_server(self, name: str, profile: str | None = None, timeout: float = 60.0) -> float:
        """Start the user's sandbox; returns seconds until it answered."""
        started = time.monotonic()
        options = {"profile": profile} if profile else {}
        self._api("POST", f"/users/{quote(name)}/server", json=options)
        while time.monotonic() - started < timeout:
            server = self.user(name).get("servers", {}).get("")
            if server and server.get("ready"):
                return time.monotonic() - started
            if server is None and time.monotonic() - started > 2:
                raise HubError(f"the server of {name} failed to start (see the hub log)")
            time.sleep(0.1)
        raise HubError(f"the server of {name} was not ready after {timeout:.0f} s")

    def stop_server(self, name: str, timeout: float = 30.0) -> None:
        self._api("DELETE", f"/users/{quote(name)}/server")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "" not in self.user(name).get("servers", {}):
                return
            time.sleep(0.1)
        raise HubError(f"the server of {name} did not stop within {timeout:.0f} s")

    def server_api(self, name: str, method: str, path: str, **kwargs: object) -> httpx.Response:
        """Call the user's Jupyter server API through the proxy."""
        url = f"{self.public_url}/user/{quote(name)}/api{path}"
        response = self._http.request(method, url, **kwargs)  # type: ignore[arg-type]
        if response.status_code >= 400:
            raise HubError(f"{method} {url}: HTTP {response.status_code} {response.text[:300]}")
        return response

    def run_code(self, name: str, code: str, timeout: float = 60.0) -> CodeResult:
        """Run ``code`` in a fresh kernel of the user's server; the kernel is shut down after."""
        kernel_id = self.server_api(name, "POST", "/kernels", json={"name": "python3"}).json()["id"]
        try:
            return self._execute(name, kernel_id, code, timeout)
        finally:
            try:
                self.server_api(name, "DELETE", f"/kernels/{kernel_id}")
            except (HubError, httpx.HTTPError):
                pass

    def _execute(self, name: str, kernel_id: str, code: str, timeout: float) -> CodeResult:
        ws_url = self.public_url.replace("http", "ws", 1) + f"/user/{quote(name)}/api/kernels/{kernel_id}/channels"
        ws = websocket.create_connection(ws_url, header=[f"Authorization: token {self.token}"], timeout=timeout)
        try:
            msg_id = uuid.uuid4().hex
            ws.send(json.dumps(_execute_request(msg_id, code)))
            stdout, stderr, error, outputs = [], [], "", []
            status = ""
            idle = False
            deadline = time.monotonic() + timeout
            while not (idle and status):
                if time.monotonic() > deadline:
                    raise HubError(f"code did not finish within {timeout:.0f} s")
                msg = json.loads(ws.recv())
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = msg["msg_type"], msg["content"]
                if kind == "stream":
                    (stdout if content["name"] == "stdout" else stderr).append(content["text"])
                elif kind in ("execute_result", "display_data"):
                    outputs.append(content.get("data", {}))
                elif kind == "error":
                    error = f"{content['ename']}: {content['evalue']}"
                elif kind == "execute_reply":
                    status = content["status"]
                elif kind == "status" and content["execution_state"] == "idle":
                    idle = True
            return CodeResult(status, "".join(stdout), "".join(stderr), error, outputs)
        finally:
            ws.close()


def _execute_request(msg_id: str, code: str) -> dict:
    return {
        "header": {
            "msg_id": msg_id,
            "username": "practicum",
            "session": uuid.uuid4().hex,
            "msg_type": "execute_request",
            "version": "5.3",
        },
        "parent_header": {},
        "metadata": {},
        "content": {
            "code": code,
            "silent": False,
            "store_history": False,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        },
        "channel": "shell",
        "buffers": [],
    }
