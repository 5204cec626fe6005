from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AnyHttpUrl, BaseModel, Field, field_validator

from .common import MAX_ID, InputModel, Text, Timestamp


class EventType(StrEnum):
    PROFILE_CHANGED = "profile.changed"
    RESULT_RECORDED = "result.recorded"
    PROGRESS_OVERDUE = "progress.overdue"


class WebhookBase(InputModel):
    url: AnyHttpUrl
    events: list[EventType] = Field(default_factory=lambda: [EventType.PROFILE_CHANGED], min_length=1, max_length=5)
    description: Annotated[Text, Field(max_length=500)] = ""

    @field_validator("url")
    @classmethod
    def _bounded(cls, url: AnyHttpUrl) -> AnyHttpUrl:
        if len(str(url)) > 2000:
            raise ValueError("URL longer than 2000 characters")
        return url


class WebhookCreate(WebhookBase):
    organisation_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = Field(
        default=None, description="required for admins; HR tokens use their own organisation"
    )


class WebhookUpdate(InputModel):
    active: bool | None = None
    description: Annotated[Text, Field(max_length=500)] | None = None


class WebhookPublic(BaseModel):
    id: int
    organisation_id: int
    url: str
    events: list[str]
    active: bool
    description: str
    created_at: datetime


class WebhookCreated(WebhookPublic):
    secret: str = Field(description="HMAC key for X-Practicum-Signature; shown only now")


class DeliveryPublic(BaseModel):
    attempt: int
    attempted_at: datetime
    status_code: int | None = Field(description="the answer's status class (200, 300, 400, 500); null: none")
    error: str | None = Field(description="a generic reason; never what the receiver answered")
    duration_ms: float


class OutboxEventPublic(BaseModel):
    id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None
    last_error: str | None
    deliveries: list[DeliveryPublic]


class ReplayRequest(InputModel):
    event_ids: list[Annotated[str, Field(min_length=1, max_length=36)]] | None = Field(default=None, max_length=1000)
    since: Timestamp | None = None


class ReplayReport(BaseModel):
    requeued: list[str]


class DeliveryReport(BaseModel):
    attempted: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0
