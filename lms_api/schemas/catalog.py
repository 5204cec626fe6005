from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field

from practicum.contracts.capabilities import Dimension
from practicum.contracts.grade_result import ItemKind

from .common import Fraction, InputModel, ItemIdStr, Name, Slug, Text, Timestamp

Title = Annotated[str, Field(min_length=1, max_length=300)]
Description = Annotated[Text, Field(max_length=5000)]
ItemLevel = Annotated[int, Field(ge=1, le=4)]


class Enrolment(StrEnum):
    SELF = "self"  # learners may enrol themselves
    ROSTER = "roster"  # only the lab's roster (the course file) or an admin


class CourseBase(InputModel):
    title: Title
    description: Description = ""
    enrolment: Enrolment = Enrolment.ROSTER


class CourseCreate(CourseBase):
    id: Slug


class CourseUpdate(InputModel):
    title: Title | None = None
    description: Description | None = None
    enrolment: Enrolment | None = None


class CoursePublic(BaseModel):
    id: str
    title: str
    description: str
    enrolment: str
    created_at: datetime


class ItemBase(InputModel):
    kind: ItemKind
    title: Title
    description: Description = ""
    level: ItemLevel = Field(description="capability level that passing the item demonstrates (1..4)")
    weights: dict[Dimension, Fraction] = Field(default_factory=dict, description="how much it evidences each dimension")
    prerequisites: list[ItemIdStr] = Field(default_factory=list, max_length=50)
    due_at: Timestamp | None = None
    attempt_limit: Annotated[int, Field(ge=1, le=1000)] | None = None
    position: Annotated[int, Field(ge=0, le=10_000)] = 0
    hours: Annotated[float, Field(gt=0, le=1000)] | None = Field(default=None, description="expected learner hours")


class ItemCreate(ItemBase):
    id: ItemIdStr = Field(description="project id, or course_id/assignment")
    course_id: Slug


class ItemPublic(BaseModel):
    id: str
    course_id: str
    kind: ItemKind
    title: str
    description: str
    level: int
    weights: dict[str, float]
    prerequisites: list[str]
    due_at: datetime | None
    attempt_limit: int | None
    position: int
    hours: float | None


class CatalogFileItem(ItemBase):
    id: ItemIdStr


class CatalogFileCourse(CourseBase):
    id: Slug
    items: list[CatalogFileItem] = Field(default_factory=list, max_length=500)


class CatalogFile(InputModel):
    """The catalog sync format (YAML or JSON): courses with their items."""

    courses: list[CatalogFileCourse] = Field(max_length=200)


class CatalogSyncReport(BaseModel):
    courses_created: list[str]
    courses_updated: list[str]
    items_created: list[str]
    items_updated: list[str]


NameList = list[Name]
