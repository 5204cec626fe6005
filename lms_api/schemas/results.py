from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from practicum.contracts.grade_result import ItemKind


class ResultPublic(BaseModel):
    id: int
    submission_id: str
    person_id: int
    learner: str
    item_id: str
    course_id: str
    kind: ItemKind
    passed: bool
    score: float
    attempt: int
    metrics: dict[str, float]
    targets: list[dict[str, Any]]
    mlflow_run_id: str | None
    mlflow_run_url: str | None
    dataset_version: str | None
    code_hash: str | None
    grader_version: str
    feedback_url: str | None
    started_at: datetime
    finished_at: datetime
    received_at: datetime
    profile_changes: int
