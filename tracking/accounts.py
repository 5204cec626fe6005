"""Each hub user's MLflow account: a random password the gateway alone knows, and a personal experiment.

The passwords live in one JSON file under the lab's state folder (mode 600 in a mode 700 folder),
never in a sandbox. The file is the gateway's memory, not the source of truth: on the first
request of a user after the gateway starts, the gateway (as MLflow's admin) creates the MLflow user
or resets its password to the stored one, so a recreated auth database or a lost file heals itself.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tornado.httpclient import AsyncHTTPClient, HTTPRequest, HTTPResponse

from practicum.contracts.tracking import learner_experiment

from .settings import GatewaySettings

log = logging.getLogger("practicum.tracking")


class TrackingUnavailable(Exception):
    """MLflow did not answer the gateway's administration calls as expected."""


class PasswordFile:
    """user -> password, kept in ``path`` (mode 600); written atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._passwords: dict[str, str] = self._load()

    def _load(self) -> dict[str, str]:
        try:
            raw = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        users = raw.get("users", {}) if isinstance(raw, dict) else {}
        return {str(k): str(v) for k, v in users.items()}

    def password_for(self, user: str) -> str:
        if user not in self._passwords:
            self._passwords[user] = secrets.token_urlsafe(32)
            self._save()
        return self._passwords[user]

    def _save(self) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"version": 1, "users": self._passwords}, handle, indent=1)
        os.replace(tmp, self.path)


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@dataclass(frozen=True)
class Reply:
    code: int
    body: dict[str, Any]

    @property
    def error_code(self) -> str:
        return str(self.body.get("error_code", ""))


class MlflowAccounts:
    """Provisions hub users in MLflow on first sight and hands out their Basic credentials."""

    def __init__(self, settings: GatewaySettings, client: AsyncHTTPClient, passwords: PasswordFile) -> None:
        self.settings = settings
        self.client = client
        self.passwords = passwords
        self._ready: set[str] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        self._admin = basic(settings.admin_username, settings.admin_password)

    async def authorization_for(self, user: str) -> str:
        """The Authorization header that makes MLflow see ``user``; provisions them if needed."""
        password = self.passwords.password_for(user)
        if user not in self._ready:
            async with self._locks.setdefault(user, asyncio.Lock()):
                if user not in self._ready:
                    await self._provision(user, password)
                    self._ready.add(user)
        return basic(user, password)

    def forget(self, user: str) -> None:
        """MLflow refused the stored password: provision again on the next request."""
        self._ready.discard(user)

    async def _provision(self, user: str, password: str) -> None:
        created = await self._call("POST", "/api/2.0/mlflow/users/create", {"username": user, "password": password})
        if created.code != 200:
            if created.error_code != "RESOURCE_ALREADY_EXISTS":
                raise TrackingUnavailable(f"creating MLflow user {user!r}: HTTP {created.code} {created.body}")
            reset = await self._call(
                "PATCH", "/api/2.0/mlflow/users/update-password", {"username": user, "password": password}
            )
            if reset.code != 200:
                raise TrackingUnavailable(f"resetting MLflow user {user!r}: HTTP {reset.code} {reset.body}")
        else:
            log.info("created MLflow user %s", user)
        await self._personal_experiment(user, basic(user, password))

    async def _personal_experiment(self, user: str, as_user: str) -> None:
        """Create ``learners/<user>`` as the learner, so MLflow makes them its owner (MANAGE)."""
        name = learner_experiment(user)
        found = await self._call("GET", f"/api/2.0/mlflow/experiments/get-by-name?experiment_name={quote(name, safe='')}", as_user=as_user)
        if found.code == 200:
            experiment = found.body.get("experiment", {})
            if experiment.get("lifecycle_stage") == "deleted":
                await self._call(
                    "POST", "/api/2.0/mlflow/experiments/restore", {"experiment_id": experiment["experiment_id"]},
                    as_user=as_user,
                )
            return
        if found.code == 403:
            log.warning("experiment %r exists and %s may not read it: left as it is", name, user)
            return
        created = await self._call("POST", "/api/2.0/mlflow/experiments/create", {"name": name}, as_user=as_user)
        if created.code != 200 and created.error_code != "RESOURCE_ALREADY_EXISTS":
            raise TrackingUnavailable(f"creating experiment {name!r}: HTTP {created.code} {created.body}")

    async def _call(self, method: str, path: str, payload: dict[str, Any] | None = None, *, as_user: str | None = None) -> Reply:
        base = self.settings.upstream_url.rstrip("/")
        request = HTTPRequest(
            base + path,
            method=method,
            headers={"Authorization": as_user or self._admin, "Content-Type": "application/json"},
            body=json.dumps(payload) if payload is not None else None,
            connect_timeout=self.settings.connect_timeout_seconds,
            request_timeout=60,
            follow_redirects=False,
        )
        response: HTTPResponse = await self.client.fetch(request, raise_error=False)
        if response.code == 599:
            raise TrackingUnavailable(f"MLflow at {base} did not answer: {response.error}")
        try:
            body = json.loads(response.body or b"{}")
        except ValueError:
            body = {"message": (response.body or b"")[:200].decode(errors="replace")}
        return Reply(response.code, body if isinstance(body, dict) else {})

