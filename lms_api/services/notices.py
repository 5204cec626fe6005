"""In-app notices and reminder preferences of one person."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..db.tables import Notice, ReminderPreference
from ..schemas.reminders import NoticePublic, PreferencesPublic, PreferencesUpdate
from ..settings import Settings


def notices(session: Session, *, person_id: int, unread_only: bool, limit: int, offset: int) -> tuple[list[Notice], int]:
    query = select(Notice).where(Notice.person_id == person_id)
    if unread_only:
        query = query.where(Notice.read_at.is_(None))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(session.scalars(query.order_by(Notice.created_at.desc(), Notice.id.desc()).limit(limit).offset(offset))), total


def notice_public(n: Notice) -> NoticePublic:
    return NoticePublic(id=n.id, kind=n.kind, title=n.title, body=n.body, link=n.link, created_at=n.created_at,
                        read_at=n.read_at)


def mark_read(session: Session, *, person_id: int, ids: list[int] | None, now: datetime) -> int:
    """Mark the person's notices read (`ids`, or all when None); another person's ids change nothing."""
    query = update(Notice).where(Notice.person_id == person_id, Notice.read_at.is_(None))
    if ids is not None:
        query = query.where(Notice.id.in_(ids))
    return session.execute(query.values(read_at=now)).rowcount or 0  # type: ignore[attr-defined]


def preferences(session: Session, *, person_id: int, settings: Settings) -> PreferencesPublic:
    pref = session.get(ReminderPreference, person_id)
    start = pref.quiet_start_hour if pref and pref.quiet_start_hour is not None else settings.quiet_start_hour
    end = pref.quiet_end_hour if pref and pref.quiet_end_hour is not None else settings.quiet_end_hour
    zone = pref.timezone if pref and pref.timezone else settings.quiet_timezone
    return PreferencesPublic(
        person_id=person_id, email=pref.email if pref else True, in_app=pref.in_app if pref else True,
        quiet_start_hour=pref.quiet_start_hour if pref else None, quiet_end_hour=pref.quiet_end_hour if pref else None,
        timezone=pref.timezone if pref else None,
        effective_quiet_hours="none" if start == end else f"{start:02d}:00-{end:02d}:00 {zone}",
    )


def update_preferences(session: Session, *, person_id: int, data: PreferencesUpdate, now: datetime) -> None:
    pref = session.get(ReminderPreference, person_id)
    if pref is None:
        pref = ReminderPreference(person_id=person_id, email=True, in_app=True)
        session.add(pref)
    if data.opt_out is not None:
        pref.email = pref.in_app = not data.opt_out
    for name in ("email", "in_app"):
        if getattr(data, name) is not None:
            setattr(pref, name, getattr(data, name))
    if "quiet_start_hour" in data.model_fields_set:
        pref.quiet_start_hour, pref.quiet_end_hour = data.quiet_start_hour, data.quiet_end_hour
    if "timezone" in data.model_fields_set:
        pref.timezone = data.timezone
    pref.updated_at = now
    session.flush()
