from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

SCORE_BINS = 10  # [0, 0.1), [0.1, 0.2), ... [0.9, 1.0]


class ScoreDistribution(BaseModel):
    item_id: str
    title: str
    kind: str
    learners_with_results: int
    learners_passed: int
    mean_best_score: float | None
    best_score_bins: list[int] = Field(description=f"learners per best score in {SCORE_BINS} equal bins from 0 to 1")


class StuckLearner(BaseModel):
    person_id: int
    person: str
    completion_rate: float
    last_activity_at: datetime | None
    reasons: list[str]


class CourseReport(BaseModel):
    course_id: str
    title: str
    learners: int
    completion_bins: list[int] = Field(description=f"learners per completion rate in {SCORE_BINS} bins from 0 to 1")
    scores: list[ScoreDistribution]
    stuck: list[StuckLearner]
