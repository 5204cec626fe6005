"""The grading service from the learner's side (``practicum submit`` in the sandbox, a notebook) and
the instructor's (``practicum grading ...``): HTTP calls with a hub token, nothing else."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from .archives import pack_submission

URL_ENV = "PRACTICUM_GRADING_URL"  # hub_config.services.GRADING_URL_ENV: set in every learner's sandbox
TOKEN_ENV = "JUPYTERHUB_API_TOKEN"  # the learner's server token, in every sandbox
FINAL_STATES = ("done", "failed")


class GradingClientError(RuntimeError):
    """The service refused or could not be reached; the message says why (and what is left to try)."""

    def __init__(self, message: str, status: int | None = None, payload: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.payload = payload or {}


class GradingClient:
    def __init__(self, url: str | None = None, token: str | None = None, *, timeout: float = 600.0) -> None:
        self.url = (url or os.environ.get(URL_ENV) or "").rstrip("/") + "/"
        self.token = token or os.environ.get(TOKEN_ENV) or ""
        if self.url == "/":
            raise GradingClientError(f"no grading service: give --url or set ${URL_ENV} (every lab sandbox has it)")
        if not self.token:
            raise GradingClientError(f"no hub token: give --token or set ${TOKEN_ENV} (every lab sandbox has it)")
        self._http = httpx.Client(base_url=self.url, headers={"Authorization": f"token {self.token}"}, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GradingClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise GradingClientError(f"the grading service at {self.url} cannot be reached: {error}") from None
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        if response.status_code >= 400:
            message = payload.get("error", {}).get("message") or f"HTTP {response.status_code}"
            raise GradingClientError(message, response.status_code, payload.get("error", {}))
        return payload

    def submit_project(self, item_id: str, model_dir: Path, notebook: Path | None = None) -> dict[str, Any]:
        archive = pack_submission(Path(model_dir), notebook)
        return self._call("POST", "submissions", params={"item": item_id}, content=archive,
                          headers={"Content-Type": "application/x-tar"})

    def submit_assignment(self, item_id: str) -> dict[str, Any]:
        """Ask for the grading of your newest nbgrader submission of ``COURSE/ASSIGNMENT``."""
        return self._call("POST", "submissions", params={"item": item_id})

    def submissions(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "submissions")["submissions"])

    def grading(self, grading_id: str) -> dict[str, Any]:
        return self._call("GET", f"gradings/{grading_id}", headers={"Accept": "application/json"})

    def attempts_left(self, item_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"attempts/{item_id}")["attempts_left"])

    def wait(self, grading_id: str, *, timeout: float = 3600.0, every: float = 1.0,
             on_state: Callable[[str, float], None] | None = None) -> dict[str, Any]:
        """Poll until the grading is done (or failed); ``on_state`` hears each new state."""
        started, last = time.monotonic(), ""
        while True:
            view = self.grading(grading_id)
            if view["state"] != last and on_state:
                on_state(view["state"], time.monotonic() - started)
            last = view["state"]
            if last in FINAL_STATES:
                return view
            if time.monotonic() - started > timeout:
                raise GradingClientError(f"grading {grading_id} is still {last} after {timeout:.0f} s")
            time.sleep(every)

    # --- instructors (hub admins, or the lab's own service token) ---

    def queue(self) -> dict[str, Any]:
        return self._call("GET", "queue")

    def regrade(self, *, submission_id: str | None = None, item_id: str | None = None) -> list[str]:
        body = {"submission_id": submission_id} if submission_id else {"item_id": item_id}
        return list(self._call("POST", "regrade", json=body)["queued"])

    def redeliver(self, grading_ids: list[str] | None = None) -> list[str]:
        body = {"grading_ids": grading_ids} if grading_ids else {}
        return list(self._call("POST", "redeliver", json=body)["redelivering"])

    def set_limit(self, item_id: str, *, total: int | None, per_day: int | None) -> dict[str, Any]:
        return self._call("PUT", f"limits/{item_id}", json={"total": total, "per_day": per_day})
