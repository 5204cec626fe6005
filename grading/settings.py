"""The grading service's settings: read once from the environment (the hub gives a service its own part)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from practicum.sandbox.limits import MIB

ENV_PREFIX = "PRACTICUM_GRADING_"
Executor = Literal["local", "celery"]


@dataclass(frozen=True, kw_only=True)
class GradingSettings:
    state_dir: Path
    database_url: str
    datasets_dir: Path  # a dataset build with public/ and hidden/
    projects_dir: Path
    sandbox: Literal["bubblewrap", "none"] = "bubblewrap"
    executor: Executor = "local"
    # Local worker processes the service starts (embedded default); 0 when workers run elsewhere (Celery).
    workers: int = 2
    broker_url: str = ""
    celery_queue: str = "practicum-grading"
    tracking_uri: str = ""  # MLflow, where each graded attempt becomes a run (signed in as the grader)
    lms_url: str = ""  # the LMS's base URL; results wait in the outbox while it is unset or down
    lms_token: str = field(default="", repr=False)
    public_url: str = ""  # where learners reach this service (for feedback links in the LMS)
    listen_url: str = "http://127.0.0.1:8092"
    service_prefix: str = "/services/grading/"
    max_upload_bytes: int = 1024 * MIB
    lease_seconds: float = 60.0
    max_tries: int = 3
    poll_seconds: float = 0.5
    delivery_seconds: float = 2.0
    manual_grades_seconds: float = 15.0  # how often the courses' gradebooks are read for the formgrader's grades
    # nbgrader courses graded here: course id -> {"root": course folder, "uid": the uid that owns it (0: leave)}.
    courses: dict[str, dict[str, object]] = field(default_factory=dict)
    exchange_inbound_dir: str = ""  # <course>/<learner>/ inbounds (contracts.exchange)
    nbgrader: str = "nbgrader"
    # What nbgrader's kernels need to run in the sandboxed grading kernel (JUPYTER_PATH, its settings).
    nbgrader_env: dict[str, str] = field(default_factory=dict)
    # Who may see the queue, regrade and change limits besides hub admins (hub services, e.g. the lab's CLI).
    admin_services: frozenset[str] = frozenset({"practicum-lab"})

    @property
    def store_dir(self) -> Path:
        return self.state_dir / "blobs"

    @property
    def listen(self) -> tuple[str, int]:
        parts = urlsplit(self.listen_url)
        return parts.hostname or "127.0.0.1", parts.port or 80

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GradingSettings:
        env = os.environ if env is None else env

        def get(name: str, default: str = "") -> str:
            return env.get(ENV_PREFIX + name, default)

        missing = [ENV_PREFIX + n for n in ("STATE_DIR", "DATASETS", "PROJECTS") if not get(n)]
        if missing:
            raise ValueError(f"the grading service needs {', '.join(missing)}")
        state_dir = Path(get("STATE_DIR"))
        executor = get("EXECUTOR", "local")
        if executor not in ("local", "celery"):
            raise ValueError(f"{ENV_PREFIX}EXECUTOR must be local or celery, not {executor!r}")
        sandbox = get("SANDBOX", "bubblewrap")
        if sandbox not in ("bubblewrap", "none"):
            raise ValueError(f"{ENV_PREFIX}SANDBOX must be bubblewrap or none, not {sandbox!r}")
        return cls(
            state_dir=state_dir,
            database_url=get("DATABASE_URL") or f"sqlite:///{state_dir / 'grading.sqlite'}",
            datasets_dir=Path(get("DATASETS")),
            projects_dir=Path(get("PROJECTS")),
            sandbox=sandbox,  # type: ignore[arg-type]
            executor=executor,  # type: ignore[arg-type]
            workers=int(get("WORKERS", "2")),
            broker_url=get("BROKER_URL"),
            celery_queue=get("CELERY_QUEUE", "practicum-grading"),
            tracking_uri=get("TRACKING_URI"),
            lms_url=get("LMS_URL"),
            lms_token=get("LMS_TOKEN"),
            public_url=get("PUBLIC_URL"),
            listen_url=env.get("JUPYTERHUB_SERVICE_URL") or cls.listen_url,
            service_prefix=env.get("JUPYTERHUB_SERVICE_PREFIX") or cls.service_prefix,
            max_upload_bytes=int(get("MAX_UPLOAD_BYTES", str(1024 * MIB))),
            lease_seconds=float(get("LEASE_SECONDS", "60")),
            max_tries=int(get("MAX_TRIES", "3")),
            poll_seconds=float(get("POLL_SECONDS", "0.5")),
            delivery_seconds=float(get("DELIVERY_SECONDS", "2")),
            manual_grades_seconds=float(get("MANUAL_GRADES_SECONDS", "15")),
            courses=json.loads(get("COURSES") or "{}"),
            exchange_inbound_dir=get("EXCHANGE_INBOUND"),
            nbgrader=get("NBGRADER") or "nbgrader",
            nbgrader_env=json.loads(get("NBGRADER_ENV") or "{}"),
        )

    def to_env(self) -> dict[str, str]:
        """The environment that makes ``from_env`` give these settings back (for workers it starts)."""
        return {
            ENV_PREFIX + "STATE_DIR": str(self.state_dir),
            ENV_PREFIX + "DATABASE_URL": self.database_url,
            ENV_PREFIX + "DATASETS": str(self.datasets_dir),
            ENV_PREFIX + "PROJECTS": str(self.projects_dir),
            ENV_PREFIX + "SANDBOX": self.sandbox,
            ENV_PREFIX + "EXECUTOR": self.executor,
            ENV_PREFIX + "WORKERS": str(self.workers),
            ENV_PREFIX + "BROKER_URL": self.broker_url,
            ENV_PREFIX + "CELERY_QUEUE": self.celery_queue,
            ENV_PREFIX + "TRACKING_URI": self.tracking_uri,
            ENV_PREFIX + "LMS_URL": self.lms_url,
            ENV_PREFIX + "LMS_TOKEN": self.lms_token,
            ENV_PREFIX + "PUBLIC_URL": self.public_url,
            ENV_PREFIX + "MAX_UPLOAD_BYTES": str(self.max_upload_bytes),
            ENV_PREFIX + "LEASE_SECONDS": str(self.lease_seconds),
            ENV_PREFIX + "MAX_TRIES": str(self.max_tries),
            ENV_PREFIX + "POLL_SECONDS": str(self.poll_seconds),
            ENV_PREFIX + "DELIVERY_SECONDS": str(self.delivery_seconds),
            ENV_PREFIX + "MANUAL_GRADES_SECONDS": str(self.manual_grades_seconds),
            ENV_PREFIX + "COURSES": json.dumps(self.courses),
            ENV_PREFIX + "EXCHANGE_INBOUND": self.exchange_inbound_dir,
            ENV_PREFIX + "NBGRADER": self.nbgrader,
            ENV_PREFIX + "NBGRADER_ENV": json.dumps(self.nbgrader_env),
        }
