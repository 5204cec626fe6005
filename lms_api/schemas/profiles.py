from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from practicum.contracts.capabilities import Dimension, Level, RoleTarget

from .common import Fraction, InputModel, ItemIdStr, Name, Slug, Text, Timestamp

LevelNumber = Annotated[int, Field(ge=0, le=4)]


class EvidenceKind(StrEnum):
    INTERVIEW = "interview"
    RESULT = "result"
    QUIZ = "quiz"
    RUBRIC = "rubric"


class InterviewImport(InputModel):
    """HR's interview assessment: it initialises (or resets) the assessed dimensions of a profile."""

    person: Name = Field(description="JupyterHub user name (HR tokens: a person of their organisation; admins: created if new)")
    organisation: Slug | None = Field(default=None, description="organisation slug (HR tokens: their own)")
    team: Name | None = None
    display_name: Name | None = None
    role_target: RoleTarget | None = None
    assessed_at: Timestamp
    assessor: Name
    levels: dict[Dimension, Level | LevelNumber] = Field(min_length=1)
    notes: Annotated[Text, Field(max_length=2000)] = ""


class EvidenceCreate(InputModel):
    """A quiz or rubric grade. Give `item_id` (its level and weights apply) or both `level` and `weights`."""

    kind: Literal["quiz", "rubric"]
    item_id: ItemIdStr | None = None
    score: Fraction
    passed: bool | None = Field(default=None, description="default: score >= 0.5")
    level: Annotated[int, Field(ge=1, le=4)] | None = None
    weights: dict[Dimension, Fraction] | None = None
    note: Annotated[Text, Field(max_length=2000)] = ""
    observed_at: Timestamp | None = None


class EvidencePublic(BaseModel):
    id: int
    kind: EvidenceKind
    item_id: str | None
    result_id: int | None
    score: float | None
    passed: bool | None
    level: float | None
    weights: dict[str, float]
    note: str
    recorded_by: str
    observed_at: datetime
    links: dict[str, str]


class ChangePublic(BaseModel):
    id: int
    dimension: str
    before: float
    after: float
    delta: float
    rule: str
    changed_at: datetime
    evidence: EvidencePublic


class DimensionPublic(BaseModel):
    dimension: str
    title: str
    value: float
    level: Level
    target: int | None
    gap: float | None
    changes: list[ChangePublic] = Field(description="latest changes first; full history at /profile/history")


class ProfilePublic(BaseModel):
    person_id: int
    person: str
    organisation_id: int | None
    role_target: RoleTarget | None
    updated_at: datetime | None
    dimensions: list[DimensionPublic]


class EvidenceRecorded(BaseModel):
    person_id: int
    evidence: EvidencePublic
    changes: list[ChangePublic]
