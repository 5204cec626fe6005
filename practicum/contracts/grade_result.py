"""The grade result a grader posts to the LMS (one per submission; idempotent by its id).

It carries numbers and verdicts only: no hidden labels, no hidden tests.
"""

from __future__ import annotations

import math
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SCHEMA_VERSION = "1"


class Direction(StrEnum):
    AT_LEAST = "at_least"  # higher is better: met when value >= threshold
    AT_MOST = "at_most"  # lower is better: met when value <= threshold


class ItemKind(StrEnum):
    PROJECT = "project"
    ASSIGNMENT = "assignment"


class TargetOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str = Field(min_length=1, max_length=100)
    threshold: float
    direction: Direction
    value: float
    met: bool
    # How far past (positive) or short of (negative) the threshold, in the metric's units.
    margin: float

    @field_validator("threshold", "value", "margin")
    @classmethod
    def _finite(cls, number: float) -> float:
        if not math.isfinite(number):
            raise ValueError("must be a finite number")
        return number

    @model_validator(mode="after")
    def _consistent(self) -> TargetOutcome:
        expected_margin = self.value - self.threshold if self.direction is Direction.AT_LEAST else self.threshold - self.value
        if not math.isclose(self.margin, expected_margin, rel_tol=1e-9, abs_tol=1e-9):
            raise ValueError("margin does not match value, threshold and direction")
        if self.met != (expected_margin >= 0):
            raise ValueError("met does not match value, threshold and direction")
        return self


class GradeResult(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal["1"] = SCHEMA_VERSION
    submission_id: str = Field(min_length=1, max_length=200, description="idempotency key")
    learner: str = Field(min_length=1, max_length=200, description="JupyterHub user name")
    kind: ItemKind
    item_id: str = Field(min_length=1, max_length=200, description="project id, or course_id/assignment")
    course_id: str | None = Field(default=None, max_length=200)
    metrics: dict[str, float] = Field(default_factory=dict)
    targets: list[TargetOutcome] = Field(default_factory=list)
    passed: bool
    score: float = Field(ge=0.0, le=1.0, description="overall score, 0..1")
    mlflow_run_id: str | None = Field(default=None, max_length=64)
    dataset_version: str | None = Field(default=None, max_length=100)
    code_hash: str | None = Field(default=None, max_length=128)
    grader_version: str = Field(min_length=1, max_length=50)
    started_at: datetime
    finished_at: datetime
    feedback_url: str | None = Field(default=None, max_length=2000)

    @field_validator("metrics")
    @classmethod
    def _finite_metrics(cls, metrics: dict[str, float]) -> dict[str, float]:
        for name, value in metrics.items():
            if not name or len(name) > 100:
                raise ValueError("metric names must have 1 to 100 characters")
            if not math.isfinite(value):
                raise ValueError(f"metric {name!r} must be a finite number")
        return metrics

    @field_validator("score")
    @classmethod
    def _finite_score(cls, score: float) -> float:
        if not math.isfinite(score):
            raise ValueError("must be a finite number")
        return score

    @model_validator(mode="after")
    def _ordered_times(self) -> GradeResult:
        if self.finished_at < self.started_at:
            raise ValueError("finished_at is before started_at")
        return self

    def to_json(self) -> str:
        return self.model_dump_json()
