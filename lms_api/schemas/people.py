from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field

from practicum.contracts.capabilities import RoleTarget

from .common import MAX_ID, InputModel, Name

Email = Annotated[str, Field(max_length=320, pattern=r"^[^@\s\x00]+@[^@\s\x00]+$")]
RefId = Annotated[int, Field(ge=1, le=MAX_ID)]


class PersonRoleName(StrEnum):
    LEARNER = "learner"
    INSTRUCTOR = "instructor"
    HR = "hr"
    GRADER = "grader"
    ADMIN = "admin"


class PersonBase(InputModel):
    display_name: Name | None = None
    email: Email | None = None
    organisation_id: RefId | None = None
    team_id: RefId | None = None
    role_target: RoleTarget | None = None


class PersonCreate(PersonBase):
    name: Name = Field(description="JupyterHub user name")
    roles: list[PersonRoleName] = Field(default_factory=lambda: [PersonRoleName.LEARNER], max_length=5)


class PersonUpdate(PersonBase):
    roles: list[PersonRoleName] | None = Field(default=None, max_length=5)
    active: bool | None = None


class PersonPublic(BaseModel):
    id: int
    name: str
    display_name: str | None
    email: str | None
    organisation_id: int | None
    team_id: int | None
    role_target: RoleTarget | None
    roles: list[PersonRoleName]
    active: bool
    created_at: datetime
