"""LMS settings, read from the environment JupyterHub gives a managed service."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import make_url

DEFAULT_DATABASE_URL = "sqlite:///practicum_lms.sqlite"


def _as_path_prefix(path: str) -> str:
    """'services/lms' -> '/services/lms/'; '' -> '/'."""
    inner = path.strip("/")
    return f"/{inner}/" if inner else "/"


@dataclass(frozen=True, kw_only=True)
class Settings:
    service_name: str = "lms"
    hub_api_url: str = "http://127.0.0.1:8081/hub/api"
    api_token: str = field(default="", repr=False)
    service_prefix: str = "/"
    service_url: str = "http://127.0.0.1:8090"
    client_id: str = "service-lms"
    oauth_callback_url: str = ""
    hub_base_url: str = "/"
    # Origin of the hub as browsers see it; "" means same origin as this service (behind CHP).
    hub_host: str = ""
    public_hub_url: str = ""
    public_url: str = ""
    access_scopes: frozenset[str] = field(default_factory=frozenset)
    database_url: str = DEFAULT_DATABASE_URL
    identity_cache_seconds: float = 60.0
    # Bring the database to the newest schema when the app starts.
    migrate_on_startup: bool = True
    # Seconds between outbox delivery rounds in the app; 0 turns the background deliverer off.
    webhook_interval_seconds: float = 2.0
    webhook_max_attempts: int = 12
    webhook_backoff_seconds: float = 2.0
    webhook_backoff_max_seconds: float = 3600.0
    webhook_timeout_seconds: float = 10.0
    # Hosts (as written in webhook URLs, optionally host:port) an admin allows although they resolve to
    # internal addresses (loopback, private, ...); everything else must be public (see outbound.py).
    webhook_allowed_hosts: frozenset[str] = field(default_factory=frozenset)
    # Reads are audited through a buffer flushed this often (writes are audited in their transaction).
    # Small batches: a flush holds the GIL while it prepares its rows, and at 1 s (1,500 rows under load)
    # that pause alone pushed the PostgreSQL read p99 from about 45 to 60-75 ms (bench/lms_profile_reads.py).
    audit_flush_seconds: float = 0.1
    max_body_bytes: int = 1_048_576
    # Where HR's links to evidence point (the MLflow UI), and an optional xAPI LRS.
    mlflow_public_url: str = ""
    lrs_url: str = ""
    lrs_username: str = ""
    lrs_password: str = field(default="", repr=False)
    # Where the LMS keeps its own files (the badge issuer key); "" = the SQLite database's folder, else
    # ~/.practicum/lms (at scale, mount the key from a secret and name it in badge_key_file).
    state_dir: str = ""
    badge_key_file: str = ""  # "" = <state_dir>/lms_badge_issuer_ed25519.pem
    badge_issuer_name: str = "Practicum"
    # Reminders: the scheduler's round (0 turns it off), what counts as inactive and due soon, quiet hours
    # (local hours of `quiet_timezone`, or of a person's own time zone; start == end: none) and the digest day.
    reminder_interval_seconds: float = 900.0
    reminder_inactive_days: int = 14
    reminder_due_soon_days: int = 2
    quiet_start_hour: int = 21
    quiet_end_hour: int = 7
    quiet_timezone: str = "UTC"
    digest_weekday: int = 0  # Monday
    # E-mail over SMTP ("" host: no e-mail). smtp_tls: none | starttls | ssl.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "practicum-lms@localhost"
    smtp_tls: str = "none"
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_timeout_seconds: float = 10.0
    # Retention, applied by the scheduler: audit entries and finished webhook deliveries older than this
    # many days are deleted (0 keeps them forever).
    audit_retention_days: int = 365
    delivery_retention_days: int = 90

    def __post_init__(self) -> None:
        prefix = _as_path_prefix(self.service_prefix)
        object.__setattr__(self, "service_prefix", prefix)
        if not self.oauth_callback_url:
            object.__setattr__(self, "oauth_callback_url", f"{prefix}oauth_callback")
        if self.smtp_tls not in ("none", "starttls", "ssl"):
            raise ValueError(f"smtp_tls must be none, starttls or ssl, not {self.smtp_tls!r}")
        if not (0 <= self.quiet_start_hour <= 23 and 0 <= self.quiet_end_hour <= 23):
            raise ValueError("quiet hours are hours of the day, 0..23")
        if not self.access_scopes:
            default_scopes = {"access:services", f"access:services!service={self.service_name}"}
            object.__setattr__(self, "access_scopes", frozenset(default_scopes))

    @property
    def bind_host(self) -> str:
        return urlsplit(self.service_url).hostname or "127.0.0.1"

    @property
    def bind_port(self) -> int:
        parts = urlsplit(self.service_url)
        return parts.port or (443 if parts.scheme == "https" else 80)

    @property
    def oauth_authorize_url(self) -> str:
        """Where browsers start the hub's OAuth flow (JupyterHub: /hub/api/oauth2/authorize)."""
        if self.public_hub_url:
            return self.public_hub_url.rstrip("/") + "/api/oauth2/authorize"
        base = _as_path_prefix(self.hub_base_url)
        return f"{self.hub_host.rstrip('/')}{base}hub/api/oauth2/authorize"

    @property
    def oauth_token_url(self) -> str:
        return self.hub_api_url.rstrip("/") + "/oauth2/token"

    @property
    def state_path(self) -> Path:
        if self.state_dir:
            return Path(self.state_dir)
        url = make_url(self.database_url)
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            return Path(url.database).resolve().parent
        return Path.home() / ".practicum" / "lms"

    @property
    def badge_key_path(self) -> Path:
        return Path(self.badge_key_file) if self.badge_key_file else self.state_path / "lms_badge_issuer_ed25519.pem"

    @property
    def cookie_name(self) -> str:
        return self.client_id


def _scopes_from_env(env: Mapping[str, str]) -> frozenset[str]:
    raw = env.get("JUPYTERHUB_OAUTH_ACCESS_SCOPES") or env.get("JUPYTERHUB_OAUTH_SCOPES")
    return frozenset(json.loads(raw)) if raw else frozenset()


def get_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from `env` (default: the process environment, read now)."""
    env = os.environ if env is None else env
    service_name = env.get("JUPYTERHUB_SERVICE_NAME") or "lms"
    return Settings(
        service_name=service_name,
        hub_api_url=env.get("JUPYTERHUB_API_URL") or Settings.hub_api_url,
        api_token=env.get("JUPYTERHUB_API_TOKEN", ""),
        service_prefix=env.get("JUPYTERHUB_SERVICE_PREFIX") or "/",
        service_url=env.get("JUPYTERHUB_SERVICE_URL") or Settings.service_url,
        client_id=env.get("JUPYTERHUB_CLIENT_ID") or f"service-{service_name}",
        oauth_callback_url=env.get("JUPYTERHUB_OAUTH_CALLBACK_URL", ""),
        hub_base_url=env.get("JUPYTERHUB_BASE_URL") or "/",
        hub_host=env.get("JUPYTERHUB_HOST", ""),
        public_hub_url=env.get("JUPYTERHUB_PUBLIC_HUB_URL", ""),
        public_url=env.get("JUPYTERHUB_PUBLIC_URL", ""),
        access_scopes=_scopes_from_env(env),
        database_url=env.get("PRACTICUM_LMS_DATABASE_URL") or DEFAULT_DATABASE_URL,
        webhook_allowed_hosts=frozenset(
            h.strip() for h in env.get("PRACTICUM_LMS_WEBHOOK_ALLOWED_HOSTS", "").split(",") if h.strip()
        ),
        webhook_interval_seconds=float(env.get("PRACTICUM_LMS_WEBHOOK_INTERVAL") or Settings.webhook_interval_seconds),
        mlflow_public_url=env.get("PRACTICUM_LMS_MLFLOW_URL") or env.get("MLFLOW_TRACKING_URI", ""),
        lrs_url=env.get("PRACTICUM_LMS_LRS_URL", ""),
        lrs_username=env.get("PRACTICUM_LMS_LRS_USERNAME", ""),
        lrs_password=env.get("PRACTICUM_LMS_LRS_PASSWORD", ""),
        **_optional(env),
    )


# Settings read from PRACTICUM_LMS_<NAME> when set (the field's type converts them).
_OPTIONAL = (
    "state_dir", "badge_key_file", "badge_issuer_name", "reminder_interval_seconds", "reminder_inactive_days",
    "reminder_due_soon_days", "quiet_start_hour", "quiet_end_hour", "quiet_timezone", "digest_weekday", "smtp_host",
    "smtp_port", "smtp_from", "smtp_tls", "smtp_username", "smtp_password", "smtp_timeout_seconds",
    "audit_retention_days", "delivery_retention_days",
)


def _optional(env: Mapping[str, str]) -> dict[str, object]:
    values: dict[str, object] = {}
    for name in _OPTIONAL:
        raw = env.get(f"PRACTICUM_LMS_{name.upper()}")
        if raw is None or raw == "":
            continue
        kind = type(getattr(Settings, name))
        try:
            values[name] = kind(raw)
        except ValueError as exc:
            raise ValueError(f"PRACTICUM_LMS_{name.upper()}={raw!r} is not a valid {kind.__name__}") from exc
    return values
