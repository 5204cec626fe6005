"""The course file (courses/<id>/course.yaml): the one loader of the course-file contract.

Everything else (the lab's courses, the catalog, validate, release) reads courses through here.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from practicum.contracts.capabilities import Dimension

from .errors import AuthoringError

COURSE_FILE = "course.yaml"
# nbgrader reads the course from hub group names "nbgrader-<course>": no '-' in a course id.
COURSE_ID = r"^[A-Za-z][A-Za-z0-9_]*$"
ASSIGNMENT_ID = r"^[A-Za-z][A-Za-z0-9_]*$"
# A hub user name (JupyterHub lowercases them); kept strict so a roster cannot smuggle paths or groups.
USER_NAME = r"^[a-z0-9][a-z0-9_.@-]{0,63}$"
# A course id, an item id "<course>/<assignment>" or a project id.
PREREQUISITE = r"^[A-Za-z][A-Za-z0-9_]*(/[A-Za-z][A-Za-z0-9_]*)?$"

Level = Annotated[int, Field(ge=1, le=4)]
Hours = Annotated[float, Field(gt=0, le=1000)]
UserName = Annotated[str, Field(pattern=USER_NAME)]
Prerequisite = Annotated[str, Field(pattern=PREREQUISITE)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AssignmentEntry(_Strict):
    id: Annotated[str, Field(pattern=ASSIGNMENT_ID)]
    title: Annotated[str, Field(min_length=1, max_length=300)]
    level: Level
    hours: Hours
    due: date | None = None
    prerequisites: tuple[Prerequisite, ...] = ()
    weights: dict[Dimension, float]
    # A step of the grader after autograde that scores the submission against a hidden reference (outside
    # the learner's sandbox); its targets must be met too for the assignment to pass.
    scored_by: Literal["annotation_agreement"] | None = None

    @field_validator("weights", mode="before")
    @classmethod
    def _known_dimensions(cls, weights: object) -> object:
        if not weights:
            raise ValueError(
                "maps to no capability dimension: add weights: {dimension: weight} with at least one of "
                + ", ".join(d.value for d in Dimension)
            )
        if isinstance(weights, dict):
            unknown = sorted(str(k) for k in weights if k not in {d.value for d in Dimension})
            if unknown:
                raise ValueError(f"unknown dimension {', '.join(unknown)} (known: {', '.join(d.value for d in Dimension)})")
        return weights

    @field_validator("weights")
    @classmethod
    def _weights_in_range(cls, weights: dict[Dimension, float]) -> dict[Dimension, float]:
        bad = [f"{d.value}={w}" for d, w in weights.items() if not 0 < w <= 1]
        if bad:
            raise ValueError(f"weights must be in (0, 1]: {', '.join(bad)}")
        return weights


class CourseHeader(_Strict):
    """What every course says of itself, in its course file or (the projects' course) in the catalog."""

    id: Annotated[str, Field(pattern=COURSE_ID)]
    title: Annotated[str, Field(min_length=1, max_length=300)]
    summary: Annotated[str, Field(max_length=2000)] = ""
    instructors: tuple[UserName, ...] = Field(min_length=1)
    level: Level
    hours: Hours
    prerequisites: tuple[Prerequisite, ...] = ()
    enrolment: Literal["self", "roster"] = "roster"
    roster: tuple[UserName, ...] = ()


class CourseFile(CourseHeader):
    assignments: tuple[AssignmentEntry, ...] = Field(min_length=1)

    @field_validator("assignments")
    @classmethod
    def _unique_ids(cls, assignments: tuple[AssignmentEntry, ...]) -> tuple[AssignmentEntry, ...]:
        seen: set[str] = set()
        for a in assignments:
            if a.id in seen:
                raise ValueError(f"assignment id {a.id!r} appears twice")
            seen.add(a.id)
        return assignments

    def item_id(self, assignment_id: str) -> str:
        return f"{self.id}/{assignment_id}"

    @property
    def assignment_ids(self) -> tuple[str, ...]:
        return tuple(a.id for a in self.assignments)

    @property
    def scorers(self) -> dict[str, str]:
        """Assignment id -> the grader step that scores it after autograde (``scored_by``)."""
        return {a.id: a.scored_by for a in self.assignments if a.scored_by}


def course_file_path(course_dir: Path) -> Path:
    return course_dir / COURSE_FILE


def load_course_file(course_dir: Path) -> CourseFile:
    """The course file of ``course_dir``, checked against the contract and the folder (AuthoringError otherwise)."""
    path = course_file_path(course_dir)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AuthoringError(f"{path}: no course file (write one: `practicum course new {course_dir.name}` makes a skeleton)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AuthoringError(f"{path}: cannot be read: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise AuthoringError(f"{path}{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(raw, dict):
        raise AuthoringError(f"{path}: must be a mapping of course fields (id, title, assignments, ...)")
    try:
        course = CourseFile.model_validate(raw)
    except ValidationError as exc:
        raise AuthoringError(f"{path}: {_first_error(exc, raw)}") from None
    if course.id != course_dir.name:
        raise AuthoringError(f"{path}: id {course.id!r} must equal its folder name {course_dir.name!r}")
    return course


def _first_error(exc: ValidationError, raw: dict) -> str:
    error = exc.errors()[0]
    location = list(error["loc"])
    where = []
    for i, part in enumerate(location):
        if part == "assignments" and i + 1 < len(location) and isinstance(location[i + 1], int):
            index = location[i + 1]
            entries = raw.get("assignments") or []
            name = entries[index].get("id") if isinstance(entries[index], dict) else None  # type: ignore[index]
            where.append(f"assignment {name!r}" if name else f"assignments[{index}]")
        elif not isinstance(part, int) and not (i > 0 and location[i - 1] == "assignments"):
            where.append(str(part))
    message = re.sub(r"^Value error, ", "", error["msg"])
    return f"{' '.join(where) or 'course'}: {message}"
