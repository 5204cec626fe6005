"""The values a hub configuration is built from: one typed object, stored as JSON.

The lab writes it; ``jupyterhub_config.py`` reads it and passes it to the shared
configuration functions. Nothing here starts or imports anything else.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from practicum.contracts.tracking import MLFLOW_PREFIX

SETTINGS_ENV = "PRACTICUM_HUB_SETTINGS"


@dataclass(frozen=True)
class CourseService:
    """One nbgrader course: its formgrader runs as a hub service for its instructors."""

    course_id: str
    root: str
    port: int
    instructors: tuple[str, ...] = ()
    # The formgrader's sandbox launch spec (practicum.sandbox.serve); empty: an unconfined process.
    launch_spec: str = ""
    # Hub users the lab puts in the learners' group (the course file's roster).
    roster: tuple[str, ...] = ()
    # Learners may join the learners' group themselves, through the LMS (course file: enrolment: self).
    self_enrolment: bool = False
    # The formgrader server's Jupyter config folder (its CSP); a sandboxed formgrader finds it as ~/.jupyter.
    config_dir: str = ""

    @property
    def service_name(self) -> str:
        return f"formgrader-{self.course_id}"

    @property
    def instructor_group(self) -> str:
        return f"formgrade-{self.course_id}"

    @property
    def student_group(self) -> str:
        return f"nbgrader-{self.course_id}"


@dataclass(frozen=True)
class HubSettings:
    lab_id: str
    state_dir: str
    python: str
    ip: str = "127.0.0.1"
    port: int = 8000
    hub_port: int = 8081
    proxy_api_port: int = 8001
    lms_port: int = 8090
    lms_database_url: str = ""
    # Hosts the LMS may deliver webhooks to although they are internal (loopback, private ranges).
    lms_webhook_allowed_hosts: tuple[str, ...] = ()
    grading_port: int = 8092
    # The grading service's own settings (practicum.grading.settings), as its environment.
    grading_environment: dict[str, str] = field(default_factory=dict)
    # MLflow itself (basic-auth app, --static-prefix MLFLOW_PREFIX), for its admin only: the grader,
    # the LMS and the gateway. Learners reach it through the gateway (hub service "mlflow").
    mlflow_url: str = "http://127.0.0.1:5000" + MLFLOW_PREFIX
    mlflow_gateway_port: int = 5001
    mlflow_admin_password: str = ""
    proxy_command: tuple[str, ...] = ("configurable-http-proxy",)
    public_datasets_dir: str = ""
    exchange_dir: str = ""
    # The learners' own nbgrader inbounds: <course>/<learner>/ (see hub_config.sandbox).
    exchange_inbound_dir: str = ""
    sandbox_jupyter_etc: str = ""
    sandbox_uid_registry: str = ""
    sandbox_spec_dir: str = ""
    sandbox_cgroup_prefix: str = "lab"
    sandbox: str = "bubblewrap"
    code_dirs: tuple[str, ...] = ()
    # Folders inside code_dirs that sandboxes see empty (the instructor references' bytecode caches).
    hidden_code_dirs: tuple[str, ...] = ()
    masked_files: tuple[str, ...] = ()
    gpus: tuple[str, ...] = ()
    gpu_groups: tuple[str, ...] = ("gpu-users",)
    courses: tuple[CourseService, ...] = ()
    admin_users: tuple[str, ...] = ("admin",)
    user_password: str = ""
    admin_password: str = ""
    lab_api_token: str = ""
    lms_api_token: str = ""
    cull_idle_seconds: int = 3600
    spawn_timeout_seconds: int = 60

    @property
    def public_url(self) -> str:
        return f"http://{self.ip}:{self.port}"

    @property
    def hub_api_url(self) -> str:
        return f"http://{self.ip}:{self.hub_port}/hub/api"

    @property
    def lms_url(self) -> str:
        return f"http://{self.ip}:{self.lms_port}"

    @property
    def grading_url(self) -> str:
        return f"http://{self.ip}:{self.grading_port}"

    @property
    def mlflow_gateway_url(self) -> str:
        """Where the hub's proxy sends /services/mlflow/ (the gateway service's url)."""
        return f"http://{self.ip}:{self.mlflow_gateway_port}"

    @property
    def sandbox_mlflow_tracking_uri(self) -> str:
        """MLFLOW_TRACKING_URI of a learner's kernel: the gateway, directly (egress to its port only)."""
        return self.mlflow_gateway_url + MLFLOW_PREFIX

    @property
    def mlflow_public_url(self) -> str:
        """The MLflow UI in a browser, through the hub's proxy and the gateway."""
        return f"{self.public_url}{MLFLOW_PREFIX}/"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> HubSettings:
        raw = json.loads(text)
        raw["courses"] = tuple(
            CourseService(**{**c, "instructors": tuple(c.get("instructors", ())), "roster": tuple(c.get("roster", ()))})
            for c in raw.get("courses", ())
        )
        for key in ("lms_webhook_allowed_hosts", "proxy_command", "code_dirs", "hidden_code_dirs", "masked_files", "gpus", "gpu_groups", "admin_users"):
            if key in raw:
                raw[key] = tuple(raw[key])
        return cls(**raw)

    @classmethod
    def load(cls, path: str | Path) -> HubSettings:
        return cls.from_json(Path(path).read_text())


@dataclass(frozen=True)
class SSOSettings:
    """The company's OpenID Connect / OAuth2 identity provider, for a real deployment."""

    client_id: str
    client_secret: str
    authorize_url: str
    token_url: str
    userdata_url: str
    callback_url: str
    username_claim: str = "preferred_username"
    groups_claim: str = "groups"
    allowed_groups: tuple[str, ...] = ()
    admin_groups: tuple[str, ...] = ()
    scope: tuple[str, ...] = field(default=("openid", "profile", "email", "groups"))
