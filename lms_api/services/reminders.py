"""Reminders: find unfinished, due, overdue and inactive work, then notify once per reminder key.

A reminder is keyed (`kind:person:subject:version/channel`) and the key is stored before anything
is sent; the key's primary key is the duplicate guard (two schedulers, two rounds: one row wins).
In-app notices and `progress.overdue` webhooks are written in the transaction that stores their key
(the webhook then leaves through the outbox, at least once, with its event id as Idempotency-Key).
E-mail is the one send outside the database: its key is stored as `claimed`, the mail is sent, then
the key is marked `sent`. A crash between the two leaves a `claimed` key, which a later round marks
`interrupted` (logged, counted, listed by `GET /reminders?status=interrupted`) and never sends
again: at most once, and never lost silently. A server that refused the mail (not taken) leaves the
key `failed`, retried by later rounds up to `MAX_EMAIL_ATTEMPTS`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import String, any_, cast, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..badge_credential import lms_base
from ..db.engine import Database
from ..db.tables import Course, Enrollment, Notice, Person, Reminder, ReminderPreference
from ..mailer import Mail, Mailer, MailUncertain
from ..schemas.progress import ItemStatus
from ..schemas.webhooks import EventType
from ..settings import Settings
from .progress import LearnerItems, course_learner_items
from .webhooks import enqueue_event

log = logging.getLogger("practicum.lms_api.reminders")
CLAIM_LEASE = timedelta(minutes=10)
MAX_EMAIL_ATTEMPTS = 3


@dataclass(frozen=True)
class Due:
    """One reminder to give a person, before channels are chosen."""

    key: str
    person_id: int
    kind: str  # overdue | due_soon | inactive | digest
    title: str
    body: str
    link: str
    email: str | None
    webhook: dict[str, Any] | None = None  # progress.overdue data (overdue only)
    organisation_id: int | None = None


@dataclass
class ReminderReport:
    due: int = 0
    notices: int = 0
    emails_sent: int = 0
    emails_failed: int = 0
    emails_deferred: int = 0  # quiet hours: the key is not stored, a later round sends it
    webhooks: int = 0
    interrupted: int = 0  # claimed by a round that never finished (see the module docstring)
    skipped_duplicates: int = 0
    keys: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "keys"}


def in_quiet_hours(now: datetime, start: int, end: int, timezone: str) -> bool:
    """Whether `now` falls in [start, end) local hours of `timezone` (wrapping past midnight)."""
    if start == end:
        return False
    try:
        hour = now.astimezone(ZoneInfo(timezone)).hour
    except (ZoneInfoNotFoundError, ValueError):
        hour = now.hour
    return start <= hour < end if start < end else hour >= start or hour < end


def _stamp(value: datetime | None) -> str:
    return value.strftime("%Y%m%dT%H%M") if value else "never"


def _learner_reminders(settings: Settings, course: Course, items: list[Any], learner: LearnerItems,
                       now: datetime) -> Iterable[Due]:
    page = f"{lms_base(settings)}pages/people/{learner.person_id}"
    common = {"person_id": learner.person_id, "link": page, "email": learner.email}
    unfinished = [i for i in items if learner.status[i.id] is not ItemStatus.PASSED]
    soon = now + timedelta(days=settings.reminder_due_soon_days)
    for item in unfinished:
        if item.due_at is None:
            continue
        due = f"{item.due_at:%Y-%m-%d %H:%M} UTC"
        if item.due_at < now:
            yield Due(
                key=f"overdue:{learner.person_id}:{item.id}:{_stamp(item.due_at)}", kind="overdue",
                title=f"Overdue: {item.title}",
                body=f"{item.title} ({course.title}) was due {due} and is not passed yet. Your page lists what is left.",
                webhook={"person": {"id": learner.person_id, "name": learner.name}, "course_id": course.id,
                         "item_id": item.id, "title": item.title, "due_at": item.due_at.isoformat(),
                         "status": learner.status[item.id].value},
                organisation_id=learner.organisation_id, **common,
            )
        elif item.due_at <= soon:
            yield Due(
                key=f"due_soon:{learner.person_id}:{item.id}:{_stamp(item.due_at)}", kind="due_soon",
                title=f"Due soon: {item.title}", body=f"{item.title} ({course.title}) is due {due}.", **common,
            )
    since = learner.last_activity_at or learner.enrolled_at
    if unfinished and since < now - timedelta(days=settings.reminder_inactive_days):
        yield Due(
            key=f"inactive:{learner.person_id}:{course.id}:{_stamp(learner.last_activity_at)}", kind="inactive",
            title=f"Pick up {course.title} again",
            body=(f"No activity in {course.title} since {since:%Y-%m-%d}; {len(unfinished)} of {len(items)} items "
                  "are not passed yet."),
            **common,
        )


def _digest(settings: Settings, course: Course, items: list[Any], learners: list[LearnerItems],
            instructor: tuple[int, str, str | None], now: datetime) -> Due:
    year, week, _ = now.isocalendar()
    overdue = [(lr.name, i.title) for lr in learners for i in items
               if i.due_at is not None and i.due_at < now and lr.status[i.id] is not ItemStatus.PASSED]
    quiet = now - timedelta(days=settings.reminder_inactive_days)
    stuck = sorted(lr.name for lr in learners if (lr.last_activity_at or lr.enrolled_at) < quiet
                   and any(s is not ItemStatus.PASSED for s in lr.status.values()))
    passed = sum(1 for lr in learners for s in lr.status.values() if s is ItemStatus.PASSED)
    completion = passed / (len(learners) * len(items)) if learners and items else 0.0
    lines = [
        f"{course.title}: week {year}-W{week:02d}.",
        f"{len(learners)} learners, {completion:.0%} of items passed.",
        f"Overdue: {len(overdue)}" + (": " + "; ".join(f"{n} ({t})" for n, t in overdue[:20]) if overdue else "."),
        f"No activity for {settings.reminder_inactive_days} days: " + (", ".join(stuck[:20]) or "nobody") + ".",
    ]
    person_id, _, email = instructor
    return Due(
        key=f"digest:{person_id}:{course.id}:{year}-W{week:02d}", person_id=person_id, kind="digest",
        title=f"Weekly digest: {course.title}", body="\n".join(lines),
        link=f"{lms_base(settings)}pages/courses/{course.id}", email=email,
    )


def find_due(session: Session, settings: Settings, now: datetime) -> list[Due]:
    """Every reminder due now (before keys: the round drops those already given)."""
    found: list[Due] = []
    digest_day = now.weekday() >= settings.digest_weekday
    for course in session.scalars(select(Course).order_by(Course.id)):
        items, learners = course_learner_items(session, course_id=course.id)
        if not items:
            continue
        for learner in learners:
            found.extend(_learner_reminders(settings, course, items, learner, now))
        if digest_day:
            instructors = session.execute(
                select(Person.id, Person.name, Person.email).join(Enrollment, Enrollment.person_id == Person.id)
                .where(Enrollment.course_id == course.id, Enrollment.role == "instructor", Person.active.is_(True))
                .distinct()
            ).all()
            found.extend(_digest(settings, course, items, learners, tuple(row), now) for row in instructors)
    return found


def _insert_key(dialect: str) -> Any:
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(Reminder.__table__).on_conflict_do_nothing(
        index_elements=["key"]
    ).returning(Reminder.__table__.c.key)


def _preferences(session: Session) -> dict[int, ReminderPreference]:
    return {p.person_id: p for p in session.scalars(select(ReminderPreference))}


def _quiet(settings: Settings, pref: ReminderPreference | None, now: datetime) -> bool:
    if pref is not None and pref.quiet_start_hour is not None and pref.quiet_end_hour is not None:
        return in_quiet_hours(now, pref.quiet_start_hour, pref.quiet_end_hour, pref.timezone or settings.quiet_timezone)
    return in_quiet_hours(now, settings.quiet_start_hour, settings.quiet_end_hour,
                          (pref.timezone if pref and pref.timezone else settings.quiet_timezone))


def mark_interrupted(session: Session, now: datetime) -> list[str]:
    """Keys claimed for e-mail by a round that never finished: never resent, reported."""
    stale = list(session.scalars(
        select(Reminder.key).where(Reminder.status == "claimed", Reminder.claimed_at < now - CLAIM_LEASE)
    ))
    if stale:
        session.execute(update(Reminder).where(Reminder.key.in_(stale)).values(
            status="interrupted", last_error="the sending round stopped after the key was stored; not resent"
        ))
        log.warning("reminders: %d e-mail(s) interrupted between claim and send, not resent: %s", len(stale), stale[:10])
    return stale


def claim(db: Database, settings: Settings, mailer: Mailer, now: datetime, report: ReminderReport) -> list[tuple[str, Mail]]:
    """Phase 1, one transaction: store the keys; write notices and webhook events; claim e-mails."""
    claimed: list[tuple[str, Mail]] = []
    with db.write() as session:
        report.interrupted += len(mark_interrupted(session, now))
        dialect = session.get_bind().dialect.name
        due = find_due(session, settings, now)
        report.due = len(due)
        prefs = _preferences(session)
        known = _known_keys(session, [f"{r.key}/{c}" for r in due for c in ("in_app", "webhook", "email")])
        for reminder in due:
            pref = prefs.get(reminder.person_id)
            channels: list[str] = []
            if pref is None or pref.in_app:
                channels.append("in_app")
            if reminder.webhook is not None and reminder.organisation_id is not None:
                channels.append("webhook")
            if mailer.configured and reminder.email and (pref is None or pref.email):
                if _quiet(settings, pref, now):
                    report.emails_deferred += 1
                else:
                    channels.append("email")
            for channel in channels:
                key = f"{reminder.key}/{channel}"
                row = {"key": key, "person_id": reminder.person_id, "kind": reminder.kind, "channel": channel,
                       "status": "claimed" if channel == "email" else "sent", "attempts": 1, "created_at": now,
                       "claimed_at": now, "sent_at": None if channel == "email" else now}
                if key in known or session.execute(_insert_key(dialect), row).first() is None:
                    report.skipped_duplicates += 1
                    if channel == "email" and known.get(key, "failed") == "failed":
                        retry = _retry_failed(session, key, now)
                        if retry:
                            claimed.append((key, _mail(reminder)))
                    continue
                report.keys.append(key)
                if channel == "in_app":
                    session.add(Notice(person_id=reminder.person_id, kind=reminder.kind, title=reminder.title[:300],
                                       body=reminder.body, link=reminder.link, created_at=now))
                    report.notices += 1
                elif channel == "webhook":
                    assert reminder.webhook is not None
                    ids = enqueue_event(session, organisation_id=reminder.organisation_id,
                                        event_type=EventType.PROGRESS_OVERDUE.value,
                                        data={**reminder.webhook, "reminder_key": reminder.key}, now=now)
                    report.webhooks += len(ids)
                else:
                    claimed.append((key, _mail(reminder)))
        session.commit()
    return claimed


def _known_keys(session: Session, keys: list[str]) -> dict[str, str]:
    """Key -> status of the keys already stored (most of a round's after the first): a query per 500 keys."""
    known: dict[str, str] = {}
    postgresql = session.get_bind().dialect.name == "postgresql"
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        # PostgreSQL: one array parameter (= ANY), not 500 bound values the driver adapts one by one.
        match = Reminder.key == any_(cast(chunk, ARRAY(String))) if postgresql else Reminder.key.in_(chunk)
        rows = session.execute(select(Reminder.key, Reminder.status).where(match))
        known.update({key: status for key, status in rows})
    return known


def _retry_failed(session: Session, key: str, now: datetime) -> bool:
    """Claim again an e-mail key the server refused before (not taken), within the attempt limit."""
    done = session.execute(
        update(Reminder).where(Reminder.key == key, Reminder.status == "failed", Reminder.attempts < MAX_EMAIL_ATTEMPTS)
        .values(status="claimed", claimed_at=now, attempts=Reminder.attempts + 1)
    )
    return bool(getattr(done, "rowcount", 0))


def _mail(reminder: Due) -> Mail:
    assert reminder.email is not None
    body = (f"{reminder.body}\n\n{reminder.link}\n\n"
            "You get this because you take or teach a course in the Practicum lab. Turn reminders off on your "
            "page (reminder preferences) or ask your instructor.")
    return Mail(to=reminder.email, subject=f"[Practicum] {reminder.title}", body=body)


def send_claimed(db: Database, mailer: Mailer, claimed: list[tuple[str, Mail]], now: datetime,
                 report: ReminderReport) -> None:
    """Phase 2: send the claimed e-mails, then record each outcome."""
    if not claimed:
        return
    outcomes = mailer.send([mail for _, mail in claimed])
    with db.write() as session:
        for (key, _), outcome in zip(claimed, outcomes, strict=True):
            if outcome is None:
                values: dict[str, Any] = {"status": "sent", "sent_at": now, "last_error": None}
                report.emails_sent += 1
            elif isinstance(outcome, MailUncertain):
                values = {"status": "interrupted", "last_error": str(outcome)[:300]}
                report.interrupted += 1
                log.warning("reminders: e-mail %s may or may not have been taken (%s); not resent", key, outcome)
            else:
                values = {"status": "failed", "last_error": str(outcome)[:300]}
                report.emails_failed += 1
            session.execute(update(Reminder).where(Reminder.key == key).values(**values))
        session.commit()


def run_reminders(db: Database, settings: Settings, now: datetime, mailer: Mailer | None = None) -> ReminderReport:
    """One reminder round (the scheduler's job; also `practicum lms reminders run`)."""
    mailer = mailer or Mailer(settings)
    report = ReminderReport()
    claimed = claim(db, settings, mailer, now, report)
    send_claimed(db, mailer, claimed, now, report)
    return report


def list_reminders(session: Session, *, status: str | None, person_id: int | None, limit: int,
                   offset: int) -> list[Reminder]:
    query = select(Reminder)
    if status is not None:
        query = query.where(Reminder.status == status)
    if person_id is not None:
        query = query.where(Reminder.person_id == person_id)
    return list(session.scalars(query.order_by(Reminder.created_at, Reminder.key).limit(limit).offset(offset)))


