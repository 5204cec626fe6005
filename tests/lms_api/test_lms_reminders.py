"""Reminders end to end: due, overdue and inactive work and the instructors' digest, through a real
SMTP server, in-app notices and the signed `progress.overdue` webhook; opt-out, quiet hours, no duplicates."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from lms_fake_hub import FakeHub
from lms_fixtures import Lms, make_lms
from lms_receiver import running_receiver
from lms_smtp import Inbox, running_smtp
from sqlalchemy import select, update

from practicum.lms_api.db.tables import CatalogItem, Enrollment, Reminder
from practicum.lms_api.mailer import Mailer
from practicum.lms_api.scheduled import scheduled_round
from practicum.lms_api.services.reminders import ReminderReport, claim, in_quiet_hours
from practicum.lms_api.services.webhooks import deliver_due

COURSE = "clinical_ai_projects"
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)  # a Wednesday, 10:00 UTC (outside the default quiet hours)
LOOPBACK = frozenset({"127.0.0.1"})


@pytest.fixture
def smtp() -> Iterator[Inbox]:
    with running_smtp() as inbox:
        yield inbox


def _lms(db_url: str, hub: FakeHub, smtp: Inbox) -> Iterator[Lms]:
    yield from make_lms(db_url, hub, smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_from="lms@lab.example.org",
                        webhook_allowed_hosts=LOOPBACK, public_url="https://lab.example.org", identity_cache_seconds=0)


@pytest.fixture
def lms(db_url: str, hub: FakeHub, smtp: Inbox) -> Iterator[Lms]:
    yield from _lms(db_url, hub, smtp)


@pytest.fixture
def sqlite_lms(tmp_path, sqlite_template, hub: FakeHub, smtp: Inbox) -> Iterator[Lms]:  # type: ignore[no-untyped-def]
    import shutil

    shutil.copy(sqlite_template, tmp_path / "lms.sqlite")
    yield from _lms(f"sqlite:///{tmp_path / 'lms.sqlite'}", hub, smtp)


def _world(lms: Lms, learners: tuple[str, ...] = ("alice",)) -> dict[str, dict[str, str]]:
    """Learners of the projects course (one project overdue, one due tomorrow), carol teaching it."""
    lms.seed_catalog()
    headers = {name: lms.hub_user(name, groups=[f"nbgrader-{COURSE}"]) for name in learners}
    headers["carol"] = lms.hub_user("carol", groups=[f"formgrade-{COURSE}"])
    for name, h in headers.items():
        person = lms.ok(lms.get("capabilities", h)) and lms.ok(lms.get("people", lms.admin, params={"name": name}))
        pid = person["items"][0]["id"]
        lms.ok(lms.client.patch(lms.url(f"people/{pid}"), headers=lms.admin, json={"email": f"{name}@example.org"}))
        headers[name] = {**h, "X-Person-Id": str(pid)}
    with lms.db.write() as session:
        session.execute(update(CatalogItem).where(CatalogItem.course_id == COURSE).values(due_at=None))
        session.execute(update(CatalogItem).where(CatalogItem.id == "lung_nodule_ct_detection")
                        .values(due_at=NOW - timedelta(days=1)))
        session.execute(update(CatalogItem).where(CatalogItem.id == "glucose_cgm_forecasting")
                        .values(due_at=NOW + timedelta(days=1)))
        session.execute(update(Enrollment).values(enrolled_at=NOW - timedelta(days=30)))  # inactive since
        session.commit()
    return headers


def _pid(headers: dict[str, str]) -> str:
    return headers["X-Person-Id"]


def _round(lms: Lms, now: datetime) -> dict:
    settings = lms.client.app.state.settings  # type: ignore[attr-defined]
    return scheduled_round(lms.db, settings, now)["reminders"]


def test_reminders_reach_smtp_notices_and_the_webhook_once(lms: Lms, smtp: Inbox) -> None:
    headers = _world(lms)
    org = lms.org("acme")
    lms.ok(lms.client.patch(lms.url(f"people/{_pid(headers['alice'])}"), headers=lms.admin,
                            json={"organisation_id": org}))
    with running_receiver() as receiver:
        hook = lms.ok(lms.post("webhooks", lms.admin, {"url": receiver.url, "organisation_id": org,
                                                      "events": ["progress.overdue"]}), 201)
        receiver.secret = hook["secret"]
        first = _round(lms, NOW)
        assert first["emails_sent"] == 4 and first["notices"] == 4 and first["webhooks"] == 1, first
        with lms.db.write() as session, httpx.Client(trust_env=False) as http:
            assert deliver_due(session, http, NOW, allowed_hosts=LOOPBACK).delivered == 1
        (event,) = receiver.handled.values()
        assert receiver.bad_signatures == 0 and event["type"] == "progress.overdue"
        assert event["data"]["person"]["name"] == "alice" and event["data"]["item_id"] == "lung_nodule_ct_detection"

        # The same round again (or a second scheduler): nothing new anywhere.
        again = _round(lms, NOW + timedelta(minutes=15))
        assert again["emails_sent"] == again["notices"] == again["webhooks"] == 0 and again["skipped_duplicates"] >= 9
        with lms.db.write() as session, httpx.Client(trust_env=False) as http:
            assert deliver_due(session, http, NOW, allowed_hosts=LOOPBACK).attempted == 0

    subjects = sorted(m["Subject"] for m in smtp.to("alice@example.org"))
    assert len(subjects) == 3 and any("Overdue: " in s for s in subjects) and any("Due soon: " in s for s in subjects)
    overdue_mail = next(m for m in smtp.to("alice@example.org") if "Overdue" in m["Subject"])
    assert f"https://lab.example.org/services/lms/pages/people/{_pid(headers['alice'])}" in overdue_mail.get_content()
    assert overdue_mail["Auto-Submitted"] == "auto-generated" and overdue_mail["From"].endswith("<lms@lab.example.org>")
    (digest,) = smtp.to("carol@example.org")
    assert "Weekly digest" in digest["Subject"] and "alice" in digest.get_content()

    # The learner's own notices, and on their page.
    notices = lms.ok(lms.get(f"people/{_pid(headers['alice'])}/notices", headers["alice"]))
    assert notices["total"] == 3 and {n["kind"] for n in notices["items"]} == {"overdue", "due_soon", "inactive"}
    page = lms.get(f"pages/people/{_pid(headers['alice'])}", headers["alice"])
    assert page.status_code == 200 and "Overdue: " in page.text and 'id="notices"' in page.text
    marked = lms.ok(lms.post(f"people/{_pid(headers['alice'])}/notices/read", headers["alice"], {"all": True}))
    assert marked == {"marked_read": 3}
    assert lms.ok(lms.get(f"people/{_pid(headers['alice'])}/notices?unread=true", headers["alice"]))["total"] == 0


def test_opt_out_and_quiet_hours(sqlite_lms: Lms, smtp: Inbox) -> None:
    lms = sqlite_lms
    headers = _world(lms, learners=("alice", "bob", "dave"))
    bob, dave = _pid(headers["bob"]), _pid(headers["dave"])
    lms.ok(lms.client.put(lms.url(f"people/{bob}/reminder-preferences"), headers=headers["bob"], json={"opt_out": True}))
    # dave sleeps 09:00-13:00 Shanghai time... no: 18:00-20:00 Shanghai is 10:00-12:00 UTC.
    prefs = lms.ok(lms.client.put(lms.url(f"people/{dave}/reminder-preferences"), headers=headers["dave"],
                                  json={"quiet_start_hour": 18, "quiet_end_hour": 20, "timezone": "Asia/Shanghai"}))
    assert prefs["effective_quiet_hours"] == "18:00-20:00 Asia/Shanghai"
    first = _round(lms, NOW)
    assert smtp.to("bob@example.org") == [] and lms.ok(lms.get(f"people/{bob}/notices", headers["bob"]))["total"] == 0
    assert smtp.to("dave@example.org") == [] and first["emails_deferred"] == 3
    assert lms.ok(lms.get(f"people/{dave}/notices", headers["dave"]))["total"] == 3  # notices are silent: given now
    _round(lms, NOW + timedelta(hours=2, minutes=1))  # 20:01 in Shanghai: the deferred e-mails go out, once
    _round(lms, NOW + timedelta(hours=2, minutes=30))
    assert len(smtp.to("dave@example.org")) == 3 and smtp.to("bob@example.org") == []
    assert len(smtp.to("alice@example.org")) == 3


def test_a_crash_between_claim_and_send_neither_resends_nor_hides_it(sqlite_lms: Lms, smtp: Inbox) -> None:
    lms = sqlite_lms
    headers = _world(lms)
    settings = lms.client.app.state.settings  # type: ignore[attr-defined]
    claimed = claim(lms.db, settings, Mailer(settings), NOW, ReminderReport())  # stored, then the process "dies"
    assert len(claimed) == 4 and smtp.messages == []
    later = _round(lms, NOW + timedelta(minutes=11))
    assert later["interrupted"] == 4 and later["emails_sent"] == 0 and smtp.messages == []
    log = lms.ok(lms.get("reminders?status=interrupted", lms.admin))
    assert {r["channel"] for r in log} == {"email"} and len(log) == 4 and all(r["last_error"] for r in log)
    assert lms.get("reminders", headers["alice"]).status_code == 403


def test_a_refused_mail_is_retried_a_bounded_number_of_times(sqlite_lms: Lms, smtp: Inbox) -> None:
    lms = sqlite_lms
    _world(lms)
    smtp.refuse.add("alice@example.org")
    for minutes in range(0, 60, 10):
        report = _round(lms, NOW + timedelta(minutes=minutes))
    assert report["emails_failed"] == 0 and smtp.to("alice@example.org") == []
    with lms.db.read() as session:
        rows = session.scalars(select(Reminder).where(Reminder.channel == "email", Reminder.kind == "overdue")).all()
        assert [(r.status, r.attempts) for r in rows] == [("failed", 3)]


def test_quiet_hours_wrap_past_midnight() -> None:
    at = datetime(2026, 1, 1, 23, 30, tzinfo=UTC)
    assert in_quiet_hours(at, 21, 7, "UTC") and not in_quiet_hours(at, 7, 21, "UTC")
    assert in_quiet_hours(at.replace(hour=6), 21, 7, "UTC") and not in_quiet_hours(at.replace(hour=7), 21, 7, "UTC")
    assert not in_quiet_hours(at, 5, 5, "UTC")  # start == end: no quiet hours
    assert in_quiet_hours(at, 7, 8, "Asia/Shanghai")  # 07:30 in Shanghai


def test_the_app_runs_the_round_in_process_and_celery_beat_names_the_same_job(
    tmp_path, sqlite_template, hub: FakeHub, smtp: Inbox, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    import shutil
    import time

    shutil.copy(sqlite_template, tmp_path / "lms.sqlite")
    url = f"sqlite:///{tmp_path / 'lms.sqlite'}"
    gen = make_lms(url, hub, smtp_host="127.0.0.1", smtp_port=smtp.port, reminder_interval_seconds=0.2)
    lms = next(gen)
    try:
        headers = _world(lms)
        with lms.db.write() as session:  # due in the past relative to the real clock the loop uses
            session.execute(update(CatalogItem).where(CatalogItem.id == "lung_nodule_ct_detection")
                            .values(due_at=datetime.now(UTC) - timedelta(days=1)))
            session.commit()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not lms.ok(lms.get(f"people/{_pid(headers['alice'])}/notices",
                                                                  headers["alice"]))["total"]:
            time.sleep(0.1)
        kinds = {n["kind"] for n in lms.ok(lms.get(f"people/{_pid(headers['alice'])}/notices", headers["alice"]))["items"]}
        assert "overdue" in kinds
    finally:
        gen.close()

    from practicum.lms_api import celery_beat

    entry = celery_beat.app.conf.beat_schedule["lms-reminders-and-retention"]
    assert entry["task"] == celery_beat.TASK == celery_beat.scheduled.name
    monkeypatch.setenv("PRACTICUM_LMS_DATABASE_URL", url)
    monkeypatch.setenv("PRACTICUM_LMS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PRACTICUM_LMS_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("PRACTICUM_LMS_STATE_DIR", str(tmp_path))
    report = celery_beat.scheduled.apply().get()  # the task body, as a worker runs it
    assert report["reminders"]["due"] >= 1 and report["reminders"]["emails_sent"] == 0  # all given already
