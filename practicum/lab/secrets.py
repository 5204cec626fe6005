"""Passwords and tokens of one lab: made once, kept in the state folder (mode 600)."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class LabSecrets:
    user_password: str
    admin_password: str
    lab_api_token: str

    @classmethod
    def generate(cls) -> LabSecrets:
        return cls(
            # Short enough to type, long enough not to guess; the hub asks for at least 8.
            user_password=secrets.token_urlsafe(9),
            admin_password=secrets.token_urlsafe(32),
            lab_api_token=secrets.token_hex(32),
        )


def load_or_create_secrets(path: Path) -> LabSecrets:
    if path.exists():
        return LabSecrets(**json.loads(path.read_text()))
    created = LabSecrets.generate()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(asdict(created), handle, indent=2)
    return created
