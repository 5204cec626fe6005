"""What `practicum up` starts, on which ports, from which folders: embedded defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from .layout import REPO_ROOT, StateLayout, default_state_dir


@dataclass(frozen=True)
class Ports:
    public: int = 8000
    hub_api: int = 8081
    proxy_api: int = 8001
    mlflow: int = 5000
    mlflow_gateway: int = 5001
    lms: int = 8090
    grading: int = 8092
    formgrader_base: int = 8100

    @classmethod
    def from_base(cls, public: int) -> Ports:
        """All ports next to the public one, so two labs can run side by side with one flag."""
        return cls(
            public=public,
            hub_api=public + 1,
            proxy_api=public + 2,
            lms=public + 3,
            mlflow=public + 4,
            mlflow_gateway=public + 5,
            grading=public + 6,
            formgrader_base=public + 10,
        )

    def named(self, course_count: int) -> dict[str, int]:
        """Every port the lab binds, by what binds it."""
        ports = {
            "JupyterHub (public)": self.public,
            "JupyterHub (hub API)": self.hub_api,
            "proxy API": self.proxy_api,
            "MLflow": self.mlflow,
            "MLflow gateway": self.mlflow_gateway,
            "LMS API": self.lms,
            "grading service": self.grading,
        }
        for i in range(course_count):
            ports[f"formgrader #{i + 1}"] = self.formgrader_base + i
        return ports


@dataclass(frozen=True)
class LabSettings:
    state_dir: Path = field(default_factory=default_state_dir)
    ip: str = "127.0.0.1"
    ports: Ports = Ports()
    datasets_dir: Path | None = None
    courses_dir: Path = REPO_ROOT / "courses"
    sandbox: str = "auto"  # "bubblewrap", "none", or "auto" (bubblewrap where installed)
    cull_idle_seconds: int = 3600
    ready_timeout_seconds: float = 120.0
    # Internal hosts the LMS may send webhooks to ($PRACTICUM_LMS_WEBHOOK_ALLOWED_HOSTS, comma-separated);
    # none by default: webhooks go to outside addresses only.
    webhook_allowed_hosts: tuple[str, ...] = ()

    @property
    def layout(self) -> StateLayout:
        return StateLayout(Path(self.state_dir))

    @property
    def public_datasets_dir(self) -> Path:
        return self.datasets_dir or self.layout.root / "datasets" / "public"

    @classmethod
    def from_env(cls, **overrides: object) -> LabSettings:
        """Defaults, then PRACTICUM_* environment variables, then explicit overrides."""
        settings = cls()
        env = os.environ
        if "PRACTICUM_PORT" in env:
            settings = replace(settings, ports=Ports.from_base(int(env["PRACTICUM_PORT"])))
        if "PRACTICUM_DATASETS_DIR" in env:
            settings = replace(settings, datasets_dir=Path(env["PRACTICUM_DATASETS_DIR"]))
        if env.get("PRACTICUM_LMS_WEBHOOK_ALLOWED_HOSTS"):
            hosts = tuple(h.strip() for h in env["PRACTICUM_LMS_WEBHOOK_ALLOWED_HOSTS"].split(",") if h.strip())
            settings = replace(settings, webhook_allowed_hosts=hosts)
        if env.get("PRACTICUM_COURSES_DIR"):
            settings = replace(settings, courses_dir=Path(env["PRACTICUM_COURSES_DIR"]))
        if "PRACTICUM_SANDBOX" in env:
            settings = replace(settings, sandbox=env["PRACTICUM_SANDBOX"])
        clean = {k: v for k, v in overrides.items() if v is not None}
        return replace(settings, **clean)  # type: ignore[arg-type]
