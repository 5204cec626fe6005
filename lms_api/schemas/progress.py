from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field

from .common import MAX_ID, InputModel, ItemIdStr, Timestamp


class ProgressKind(StrEnum):
    STARTED = "started"
    SUBMITTED = "submitted"
    COMPLETED = "completed"
    PASSED = "passed"
    FAILED = "failed"
    TIME_SPENT = "time_spent"


# What learners may report about themselves; the rest comes from the grader.
SELF_REPORTED = frozenset({ProgressKind.STARTED, ProgressKind.TIME_SPENT})


class ProgressEventCreate(InputModel):
    person_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = Field(default=None, description="default: the caller")
    item_id: ItemIdStr
    kind: ProgressKind
    occurred_at: Timestamp | None = None
    seconds_spent: Annotated[int, Field(ge=0, le=7 * 24 * 3600)] = 0


class ProgressEventPublic(BaseModel):
    id: int
    person_id: int
    item_id: str
    kind: ProgressKind
    occurred_at: datetime
    seconds_spent: int
    result_id: int | None
    recorded_by: str


class ItemStatus(StrEnum):
    NOT_STARTED = "not_started"
    STARTED = "started"
    SUBMITTED = "submitted"
    FAILED = "failed"
    PASSED = "passed"


class ItemProgress(BaseModel):
    item_id: str
    kind: str
    title: str
    status: ItemStatus
    attempts: int
    attempt_limit: int | None
    best_score: float | None
    seconds_spent: int
    due_at: datetime | None
    overdue: bool
    last_activity_at: datetime | None


class CourseProgress(BaseModel):
    course_id: str
    title: str
    items_total: int
    items_passed: int
    completion_rate: float
    overdue: list[str]
    attempts: int
    seconds_spent: int
    last_activity_at: datetime | None
    items: list[ItemProgress]


class PersonProgress(BaseModel):
    person_id: int
    person: str
    courses: list[CourseProgress]


class LearnerCourseProgress(BaseModel):
    person_id: int
    person: str
    items_total: int
    items_passed: int
    completion_rate: float
    overdue: list[str]
    attempts: int
    seconds_spent: int
    last_activity_at: datetime | None


class CourseProgressSummary(BaseModel):
    course_id: str
    title: str
    learners: int
    mean_completion_rate: float
    learners_with_overdue_items: int
    progress: list[LearnerCourseProgress]
