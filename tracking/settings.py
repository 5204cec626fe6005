"""The gateway's settings, read once from the environment JupyterHub gives a service."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from practicum.contracts.tracking import MLFLOW_ADMIN_USERNAME, MLFLOW_PREFIX

UPSTREAM_ENV = "PRACTICUM_TRACKING_UPSTREAM"
USERS_FILE_ENV = "PRACTICUM_TRACKING_USERS_FILE"
MAX_BODY_ENV = "PRACTICUM_TRACKING_MAX_BODY_BYTES"

# Models and checkpoints are large, but not unbounded: uploads and downloads above this are cut.
DEFAULT_MAX_BODY_BYTES = 4 * 1024**3


@dataclass(frozen=True)
class GatewaySettings:
    # MLflow's address for the admin, with its --static-prefix (the hub service prefix).
    upstream_url: str
    admin_password: str
    users_file: Path
    admin_username: str = MLFLOW_ADMIN_USERNAME
    # Where the hub's proxy sends /services/mlflow/ (JUPYTERHUB_SERVICE_URL).
    listen_url: str = "http://127.0.0.1:5001"
    service_prefix: str = MLFLOW_PREFIX + "/"
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    connect_timeout_seconds: float = 10.0
    # A whole transfer (a multi-GB model over a slow link) must fit in it.
    request_timeout_seconds: float = 3600.0

    def __post_init__(self) -> None:
        upstream = urlsplit(self.upstream_url)
        if upstream.scheme not in ("http", "https") or not upstream.netloc:
            raise ValueError(f"{UPSTREAM_ENV} must be an http(s) URL, not {self.upstream_url!r}")
        if upstream.path.rstrip("/") != self.service_prefix.rstrip("/"):
            raise ValueError(
                f"MLflow must run with --static-prefix {self.service_prefix.rstrip('/')} (the hub service's prefix) "
                f"so that paths pass through unchanged; {UPSTREAM_ENV} is {self.upstream_url!r}"
            )
        if not self.admin_password:
            raise ValueError("MLFLOW_TRACKING_PASSWORD (the MLflow admin's password) is empty")

    @property
    def upstream_origin(self) -> str:
        parts = urlsplit(self.upstream_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def listen(self) -> tuple[str, int]:
        parts = urlsplit(self.listen_url)
        return parts.hostname or "127.0.0.1", parts.port or 80

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GatewaySettings:
        env = os.environ if env is None else env
        missing = [name for name in (UPSTREAM_ENV, USERS_FILE_ENV, "MLFLOW_TRACKING_PASSWORD") if not env.get(name)]
        if missing:
            raise ValueError(f"the MLflow gateway needs {', '.join(missing)}")
        return cls(
            upstream_url=env[UPSTREAM_ENV],
            admin_username=env.get("MLFLOW_TRACKING_USERNAME") or MLFLOW_ADMIN_USERNAME,
            admin_password=env["MLFLOW_TRACKING_PASSWORD"],
            users_file=Path(env[USERS_FILE_ENV]),
            listen_url=env.get("JUPYTERHUB_SERVICE_URL") or cls.listen_url,
            service_prefix=env.get("JUPYTERHUB_SERVICE_PREFIX") or cls.service_prefix,
            max_body_bytes=int(env.get(MAX_BODY_ENV) or DEFAULT_MAX_BODY_BYTES),
        )
