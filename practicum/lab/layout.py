"""Where the lab's code, tools and state live on disk."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
STATE_ENV = "PRACTICUM_STATE_DIR"


def default_state_dir() -> Path:
    return Path(os.environ.get(STATE_ENV, REPO_ROOT / ".lab"))


def venv_bin() -> Path:
    return Path(sys.executable).parent


def proxy_binary() -> Path:
    """JupyterHub's proxy, installed by `npm ci` into the checkout ($PRACTICUM_PROXY overrides)."""
    default = REPO_ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
    return Path(os.environ.get("PRACTICUM_PROXY", default))


@dataclass(frozen=True)
class StateLayout:
    """The folders of one lab's state (all under one root, never mounted in sandboxes)."""

    root: Path

    @property
    def lab_file(self) -> Path:
        return self.root / "lab.json"

    @property
    def secrets_file(self) -> Path:
        return self.root / "secrets.json"

    @property
    def hub_settings_file(self) -> Path:
        return self.root / "hub" / "settings.json"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def hub(self) -> Path:
        return self.root / "hub"

    @property
    def mlflow(self) -> Path:
        return self.root / "mlflow"

    @property
    def homes(self) -> Path:
        return self.root / "homes"

    @property
    def courses(self) -> Path:
        return self.root / "courses"

    @property
    def exchange(self) -> Path:
        return self.root / "exchange"

    @property
    def exchange_inbound(self) -> Path:
        """Each learner's own nbgrader inbound: <course>/<learner>/ (only theirs is in their sandbox)."""
        return self.root / "exchange-inbound"

    @property
    def sandbox_jupyter_etc(self) -> Path:
        return self.root / "sandbox-etc-jupyter"

    @property
    def sandbox_specs(self) -> Path:
        """The launch specs of sandboxes (root only: they name host paths)."""
        return self.hub / "sandboxes"

    @property
    def sandbox_uids(self) -> Path:
        return self.hub / "sandbox-uids.json"

    @property
    def grading_kernels(self) -> Path:
        """The sandboxed grading kernelspec and its settings (on JUPYTER_PATH of graders only)."""
        return self.root / "grading-kernels"

    @property
    def formgrader_homes(self) -> Path:
        return self.root / "formgrader-homes"

    @property
    def grading(self) -> Path:
        """The grading service's database, stored submissions and LMS token (root only)."""
        return self.root / "grading"

    @property
    def lms(self) -> Path:
        return self.root / "lms"

    @property
    def lms_database_url(self) -> str:
        return f"sqlite:///{self.lms / 'lms.sqlite'}"

    def create(self) -> None:
        for folder in (self.root, self.logs, self.hub, self.mlflow, self.homes, self.courses, self.lms):
            folder.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)
        # Released assignments: written by the courses' formgraders, read-only in learners' sandboxes.
        self.exchange.mkdir(parents=True, exist_ok=True)
        self.exchange.chmod(0o755)
        for folder in (self.exchange_inbound, self.formgrader_homes):
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o755)
        self.sandbox_specs.mkdir(parents=True, exist_ok=True)
        self.sandbox_specs.chmod(0o700)
