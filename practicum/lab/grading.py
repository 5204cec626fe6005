"""The lab's grading service: its settings, and the LMS token it posts results with."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import select

from practicum.contracts.tracking import MLFLOW_ADMIN_USERNAME
from practicum.grading.settings import GradingSettings
from practicum.lms_api.db.engine import Database
from practicum.lms_api.db.migrate import upgrade_database
from practicum.lms_api.db.tables import ApiToken
from practicum.lms_api.services.tokens import create_token
from practicum.lms_api.tokens import Scope, hash_token

from . import sandboxes
from .layout import REPO_ROOT, StateLayout, venv_bin
from .secrets import LabSecrets

LMS_TOKEN_NAME = "grading-service"


def results_token(layout: StateLayout) -> str:
    """The grading service's ``results:write`` token of the lab's LMS: made once, kept while it is valid.

    The LMS database is brought to its schema first (the lab synced its catalog before: results name catalog items)."""
    layout.grading.mkdir(parents=True, exist_ok=True, mode=0o700)
    kept = layout.grading / "lms-token"
    url = layout.lms_database_url
    upgrade_database(url)
    db = Database(url)
    try:
        if kept.exists():
            token = kept.read_text().strip()
            with db.write() as session:
                row = session.execute(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).scalar_one_or_none()
            if row is not None and row.revoked_at is None:
                return token
        with db.write() as session:
            _, token = create_token(session, name=LMS_TOKEN_NAME, scopes=[Scope.RESULTS_WRITE], organisation_id=None, created_by="practicum up")
            session.commit()
    finally:
        db.dispose()
    fd = os.open(kept.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token)
    os.replace(kept.with_suffix(".tmp"), kept)
    return token


def local_workers() -> int:
    """One worker more than cores, up to 4: a grading waits on its kernels' starts (bench/assignment_throughput.py
    on 2 cores: 2 workers 1.60x nbgrader's submissions per minute, 3 workers 1.96x, 4 workers 1.82x)."""
    return min(4, (os.cpu_count() or 2) + 1)


def grading_environment(
    layout: StateLayout, secrets: LabSecrets, *, public_datasets: Path, sandbox: str, mlflow_url: str, lms_url: str, public_url: str,
    course_ids: list[str],
    scorers: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, str]:
    """What the hub gives the grading service: the lab's build (hidden split beside the public one), MLflow
    as its admin, the LMS with its own token, and the courses whose assignments it autogrades (with the
    sandboxed grading kernel, as `practicum autograde` does)."""
    sandboxed = sandbox == "bubblewrap"
    settings = GradingSettings(
        state_dir=layout.grading,
        database_url=f"sqlite:///{layout.grading / 'grading.sqlite'}",
        datasets_dir=public_datasets.resolve().parent,
        projects_dir=REPO_ROOT / "projects",
        sandbox="bubblewrap" if sandbox == "bubblewrap" else "none",
        workers=local_workers(),
        tracking_uri=mlflow_url,
        lms_url=lms_url,
        lms_token=results_token(layout),
        public_url=public_url,
        courses={
            course_id: {"root": str(layout.courses / course_id), "uid": sandboxes.course_uid(layout, course_id) if sandboxed else 0,
                        "scored_by": dict((scorers or {}).get(course_id, {}))}
            for course_id in course_ids
        },
        exchange_inbound_dir=str(layout.exchange_inbound),
        nbgrader=str(venv_bin() / "nbgrader"),
        nbgrader_env=sandboxes.grading_environment(layout) if sandboxed else {},
    )
    return {**settings.to_env(), "MLFLOW_TRACKING_USERNAME": MLFLOW_ADMIN_USERNAME, "MLFLOW_TRACKING_PASSWORD": secrets.mlflow_admin_password}
