from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from ..tokens import Scope
from .common import MAX_ID, InputModel, Name, Timestamp


class TokenCreate(InputModel):
    name: Name
    scopes: list[Scope] = Field(min_length=1, max_length=4)
    organisation_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None
    expires_at: Timestamp | None = None


class TokenPublic(BaseModel):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    organisation_id: int | None
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenPublic):
    token: str = Field(description="the secret; shown only now, stored only as a hash")
