from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from practicum.contracts.capabilities import RoleTarget


class ProfileRow(BaseModel):
    person_id: int
    person: str
    display_name: str | None
    team_id: int | None
    role_target: RoleTarget | None
    values: dict[str, float]
    total_gap: float | None
    updated_at: datetime | None


class ProgressRow(BaseModel):
    person_id: int
    person: str
    course_id: str
    items_total: int
    items_passed: int
    completion_rate: float
    overdue: list[str]
    attempts: int
    seconds_spent: int
    last_activity_at: datetime | None


class CohortRow(BaseModel):
    team_id: int | None
    team: str
    headcount: int
    mean_values: dict[str, float]
    mean_completion_rate: float
    results_total: int
    results_passed: int
    meeting_role_target: int
