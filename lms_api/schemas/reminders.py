"""Reminder preferences, in-app notices and the reminder log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator, model_validator

from .common import MAX_ID, InputModel

Hour = Annotated[int, Field(ge=0, le=23)]


class PreferencesUpdate(InputModel):
    email: bool | None = None
    in_app: bool | None = None
    opt_out: bool | None = Field(default=None, description="true: no e-mail and no in-app reminders; false: both on")
    quiet_start_hour: Hour | None = None
    quiet_end_hour: Hour | None = None
    timezone: Annotated[str, Field(min_length=1, max_length=64)] | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value[:64]!r}; use an IANA name such as Asia/Shanghai") from exc
        return value

    @model_validator(mode="after")
    def _both_hours(self) -> PreferencesUpdate:
        if (self.quiet_start_hour is None) != (self.quiet_end_hour is None):
            raise ValueError("give quiet_start_hour and quiet_end_hour together")
        return self


class PreferencesPublic(BaseModel):
    person_id: int
    email: bool
    in_app: bool
    quiet_start_hour: int | None
    quiet_end_hour: int | None
    timezone: str | None
    effective_quiet_hours: str


class NoticePublic(BaseModel):
    id: int
    kind: str
    title: str
    body: str
    link: str | None
    created_at: datetime
    read_at: datetime | None


class NoticesRead(InputModel):
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(default=None, max_length=1000)
    all: bool = False


class ReminderPublic(BaseModel):
    key: str
    person_id: int
    kind: str
    channel: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None
