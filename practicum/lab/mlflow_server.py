"""The lab's MLflow tracking server: MLflow's basic-auth app, below the hub service's prefix.

Nobody but MLflow's admin (the grader, the LMS, the gateway) knows an MLflow password: learners
reach MLflow only through the hub-authenticated gateway (``practicum.tracking``), which signs them
in as their own MLflow user. ``default_permission = NO_PERMISSIONS``: a user sees only what they
created (MLflow makes the creator of an experiment its MANAGE owner) or were granted.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from practicum.contracts.tracking import MLFLOW_ADMIN_USERNAME, MLFLOW_PREFIX

from .layout import StateLayout, venv_bin
from .secrets import LabSecrets

AUTH_CONFIG = """\
# Written by `practicum up`; MLflow reads it through MLFLOW_AUTH_CONFIG_PATH.
# The admin's password comes from MLFLOW_AUTH_ADMIN_PASSWORD (the lab's secrets.json).
[mlflow]
default_permission = NO_PERMISSIONS
database_uri = sqlite:///{database}
admin_username = {admin}
authorization_function = mlflow.server.auth:authenticate_request_basic_auth
grant_default_workspace_access = false
# Each request's PBKDF2 check costs ~0.25 s on 2 cores; a successful check is remembered this long
# (one worker: a password reset through the API takes effect at once).
auth_cache_ttl_seconds = 300
"""


def auth_config_path(layout: StateLayout) -> Path:
    return layout.mlflow / "basic_auth.ini"


def write_auth_config(layout: StateLayout) -> Path:
    path = auth_config_path(layout)
    path.write_text(AUTH_CONFIG.format(database=layout.mlflow / "basic_auth.db", admin=MLFLOW_ADMIN_USERNAME))
    return path


def mlflow_url(ip: str, port: int) -> str:
    """MLflow's address for its admin (grader, LMS, gateway): everything lives below the prefix."""
    return f"http://{ip}:{port}{MLFLOW_PREFIX}"


def mlflow_command(layout: StateLayout, ip: str, port: int) -> list[str]:
    return [
        str(venv_bin() / "mlflow"),
        "server",
        "--app-name", "basic-auth",
        "--backend-store-uri", f"sqlite:///{layout.mlflow / 'mlflow.db'}",
        "--artifacts-destination", str(layout.mlflow / "artifacts"),
        "--serve-artifacts",
        # The UI, REST API and artifacts below /services/mlflow: the gateway passes paths through.
        "--static-prefix", MLFLOW_PREFIX,
        "--host", ip,
        "--port", str(port),
        "--workers", "1",
    ]


def mlflow_environment(base: Mapping[str, str], layout: StateLayout, secrets: LabSecrets) -> dict[str, str]:
    env = {k: v for k, v in base.items() if not k.startswith(("MLFLOW_TRACKING_", "MLFLOW_AUTH_"))}
    return {
        **env,
        "MLFLOW_AUTH_CONFIG_PATH": str(write_auth_config(layout)),
        "MLFLOW_AUTH_ADMIN_USERNAME": MLFLOW_ADMIN_USERNAME,
        "MLFLOW_AUTH_ADMIN_PASSWORD": secrets.mlflow_admin_password,
        "MLFLOW_FLASK_SERVER_SECRET_KEY": secrets.mlflow_flask_secret,
        # Routes without an authorization rule are refused rather than served.
        "MLFLOW_BASIC_AUTH_FAIL_CLOSED": "true",
        "MLFLOW_SERVER_ENABLE_GRAPHQL_AUTH": "true",
        # MLflow's job runner starts a pool of workers the lab does not use.
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }


def mlflow_admin_environment(secrets: LabSecrets) -> dict[str, str]:
    """What a grading process needs to record runs and grant learners READ (MLflow's client reads these)."""
    return {"MLFLOW_TRACKING_USERNAME": MLFLOW_ADMIN_USERNAME, "MLFLOW_TRACKING_PASSWORD": secrets.mlflow_admin_password}
