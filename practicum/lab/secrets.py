"""Passwords and tokens of one lab: made once, kept in the state folder (mode 600)."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, fields
from pathlib import Path


def _long_secret() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class LabSecrets:
    user_password: str
    admin_password: str
    lab_api_token: str
    # MLflow's admin (the grader, the LMS and the MLflow gateway sign in as it).
    mlflow_admin_password: str = ""
    # Flask's secret key of MLflow's basic-auth app (CSRF tokens of its own forms).
    mlflow_flask_secret: str = ""

    @classmethod
    def generate(cls) -> LabSecrets:
        return cls(
            # Short enough to type, long enough not to guess; the hub asks for at least 8.
            user_password=secrets.token_urlsafe(9),
            admin_password=_long_secret(),
            lab_api_token=secrets.token_hex(32),
            mlflow_admin_password=_long_secret(),
            mlflow_flask_secret=_long_secret(),
        )


# Fields added after the first labs were made: generated when a secrets file lacks them.
_ADDED_LATER = ("mlflow_admin_password", "mlflow_flask_secret")


def load_or_create_secrets(path: Path) -> LabSecrets:
    if path.exists():
        raw = json.loads(path.read_text())
        known = {f.name for f in fields(LabSecrets)}
        loaded = LabSecrets(**{k: v for k, v in raw.items() if k in known})
        missing = {name: _long_secret() for name in _ADDED_LATER if not getattr(loaded, name)}
        if missing:
            loaded = LabSecrets(**{**asdict(loaded), **missing})
            _write(path, loaded, replace=True)
        return loaded
    created = LabSecrets.generate()
    _write(path, created, replace=False)
    return created


def _write(path: Path, value: LabSecrets, *, replace: bool) -> None:
    target = path.with_name(f".{path.name}.tmp") if replace else path
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if replace else os.O_EXCL)
    fd = os.open(target, flags, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(asdict(value), handle, indent=2)
    if replace:
        os.replace(target, path)
