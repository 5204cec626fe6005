from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

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


# Time one event may report (12 h), and what a learner may report in any 24 hours (24 h: no more
# time than has passed).
MAX_EVENT_SECONDS = 12 * 3600
MAX_SELF_REPORTED_SECONDS_PER_DAY = 24 * 3600
_DURATION = re.compile(r"^PT(?=\d)(?:(\d{1,2})H)?(?:(\d{1,4})M)?(?:(\d{1,6})(?:\.\d{1,3})?S)?$")


def duration_seconds(text: str) -> int:
    """Whole seconds of an ISO 8601 duration of hours, minutes and seconds ("PT1H30M", "PT45S"), the
    form xAPI's `result.duration` uses; at most `MAX_EVENT_SECONDS`."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError("must be an ISO 8601 duration such as PT1H30M (hours, minutes, seconds)")
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total > MAX_EVENT_SECONDS:
        raise ValueError(f"must be at most PT{MAX_EVENT_SECONDS // 3600}H")
    return total


class ProgressEventCreate(InputModel):
    person_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = Field(default=None, description="default: the caller")
    item_id: ItemIdStr
    kind: ProgressKind
    occurred_at: Timestamp | None = None
    seconds_spent: Annotated[int, Field(ge=0, le=MAX_EVENT_SECONDS)] = 0
    duration: Annotated[str, Field(max_length=40, description="ISO 8601, e.g. PT25M (instead of seconds_spent)")] | None = None

    @model_validator(mode="after")
    def _one_duration(self) -> ProgressEventCreate:
        if self.duration is not None:
            if self.seconds_spent:
                raise ValueError("give seconds_spent or duration, not both")
            self.seconds_spent = duration_seconds(self.duration)
        return self


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
