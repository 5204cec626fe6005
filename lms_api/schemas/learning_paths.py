from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from practicum.contracts.capabilities import RoleTarget


class GapPublic(BaseModel):
    dimension: str
    value: float
    target: int
    gap: float


class Contribution(BaseModel):
    dimension: str
    gap: float
    expected_gain: float


class Recommendation(BaseModel):
    rank: int
    item_id: str
    kind: str
    course_id: str
    title: str
    level: int
    expected_gain: float
    reason: str
    addresses: list[Contribution]
    prerequisite_for: list[str]


class LearningPath(BaseModel):
    person_id: int
    role_target: RoleTarget | None
    generated_at: datetime
    gaps: list[GapPublic]
    recommendations: list[Recommendation]
    note: str
