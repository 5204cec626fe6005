"""The project spec (projects/<id>/project.yaml): what a project asks and how it is judged."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from .capabilities import Dimension
from .grade_result import Direction

SPEC_VERSION = "1"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatasetRef(_Strict):
    name: str
    version: str
    splits: tuple[str, ...] = ("train", "val", "test")


class Target(_Strict):
    metric: str
    threshold: float
    direction: Direction
    reason: str = Field(min_length=1, description="why this threshold: measurements of reference and baseline")

    def met_by(self, value: float) -> bool:
        return value >= self.threshold if self.direction is Direction.AT_LEAST else value <= self.threshold

    def margin(self, value: float) -> float:
        return value - self.threshold if self.direction is Direction.AT_LEAST else self.threshold - value


class Resources(_Strict):
    cpus: float = Field(gt=0)
    memory: str
    gpu: Literal["none", "optional", "required"] = "none"
    time_limit_seconds: int = Field(gt=0)


class ProjectSpec(_Strict):
    spec_version: Literal["1"] = SPEC_VERSION
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    scenario: str
    dataset: DatasetRef
    task: Literal["nodule_detection", "glucose_forecasting", "complication_risk"] = Field(
        description="the evaluation protocol graders apply (graders.protocols.<task>)"
    )
    evaluation: dict[str, Any] = Field(default_factory=dict, description="options of the protocol, e.g. the label")
    input_format: str
    output_format: str
    metrics: tuple[str, ...]
    targets: tuple[Target, ...]
    capabilities: dict[Dimension, float]
    resources: Resources
    attempt_limit: int = Field(ge=1, description="gradings a learner may ask for in total")
    attempts_per_day: int | None = Field(default=None, ge=1, description="gradings a learner may ask for per UTC day")

    @field_validator("capabilities")
    @classmethod
    def _weights_in_range(cls, weights: dict[Dimension, float]) -> dict[Dimension, float]:
        if not weights or any(not 0 < w <= 1 for w in weights.values()):
            raise ValueError("each capability weight must be in (0, 1]")
        return weights

    @field_validator("targets")
    @classmethod
    def _targets_name_metrics(cls, targets: tuple[Target, ...], info: object) -> tuple[Target, ...]:
        metrics = getattr(info, "data", {}).get("metrics", ())
        unknown = [t.metric for t in targets if t.metric not in metrics]
        if unknown:
            raise ValueError(f"targets name metrics the project does not report: {unknown}")
        return targets


def load_project_spec(path: Path) -> ProjectSpec:
    return ProjectSpec.model_validate(yaml.safe_load(path.read_text()))
