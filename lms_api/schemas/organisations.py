from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from .common import InputModel, Name, Slug


class OrganisationBase(InputModel):
    name: Name


class OrganisationCreate(OrganisationBase):
    slug: Slug


class OrganisationUpdate(InputModel):
    name: Name | None = None


class OrganisationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    slug: str
    name: str
    created_at: datetime


class TeamCreate(InputModel):
    name: Name


class TeamPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    organisation_id: int
    name: str
    created_at: datetime
