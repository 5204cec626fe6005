"""Webhooks: signed, delivered from the outbox with backoff, exactly once into an idempotent handler."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from lms_fake_hub import FakeHub
from lms_fixtures import Lms, make_lms
from lms_payloads import grade_result, interview
from lms_receiver import running_receiver

from practicum.lms_api.db.types import utcnow
from practicum.lms_api.services.webhooks import RetryPolicy, deliver_due
from practicum.lms_api.tokens import Scope
from practicum.lms_api.webhook_signing import sign, verify

# The receivers listen on loopback: an internal address, which only the admin's allow-list opens.
LOOPBACK = frozenset({"127.0.0.1"})


@pytest.fixture
def lms(db_url: str, hub: FakeHub) -> Iterator[Lms]:
    yield from make_lms(db_url, hub, webhook_allowed_hosts=LOOPBACK)


def subscribe(lms: Lms, org_id: int, url: str) -> tuple[int, str]:
    hr = lms.bearer(lms.token(Scope.HR_WRITE, organisation_id=org_id))
    created = lms.ok(lms.post("webhooks", hr, {"url": url, "events": ["profile.changed"]}), 201)
    return created["id"], created["secret"]


def test_signature_covers_timestamp_and_body() -> None:
    signature = sign("s3cret", "1700000000", b'{"a":1}')
    assert verify("s3cret", b'{"a":1}', "1700000000", signature, now=1700000001)
    assert not verify("s3cret", b'{"a":2}', "1700000000", signature, now=1700000001)
    assert not verify("other", b'{"a":1}', "1700000000", signature, now=1700000001)
    assert not verify("s3cret", b'{"a":1}', "1700000000", signature, now=1700009999)  # too old: a replay


def test_flaky_receiver_gets_every_event_exactly_once(lms: Lms) -> None:
    lms.seed_catalog()
    org_id = lms.org("acme")
    with running_receiver(failure_rate=0.5, seed=7) as receiver:
        hook_id, receiver.secret = subscribe(lms, org_id, receiver.url)
        for n in range(6):
            lms.ok(lms.post("profiles/import", lms.admin, interview(f"learner{n}", ml_engineering=n % 5)), 201)
            lms.ok(lms.post("results", lms.admin, grade_result(f"sub-{n}", learner=f"learner{n}", score=0.7)), 201)
        policy = RetryPolicy(max_attempts=50, backoff_seconds=1.0, backoff_max_seconds=8.0)
        now = utcnow()
        with httpx.Client(timeout=5) as http:
            for _ in range(60):
                with lms.db.write() as session:
                    deliver_due(session, http, now, policy, allowed_hosts=LOOPBACK)
                now += timedelta(seconds=8)
        log = lms.ok(lms.get(f"webhooks/{hook_id}/deliveries", lms.admin, params={"limit": 500}))
        assert log["total"] == 12 and {e["status"] for e in log["items"]} == {"delivered"}
        assert set(receiver.handled) == {e["id"] for e in log["items"]}
        assert receiver.bad_signatures == 0
        assert receiver.calls > 12 and receiver.duplicates > 0  # it really failed, and really retried
        retried = next(e for e in log["items"] if len(e["deliveries"]) > 1)
        first, second = retried["deliveries"][:2]
        assert first["error"] == "HTTP 5xx" and first["status_code"] == 500  # the class, not what answered
        assert second["attempt"] == 2
        event = next(iter(receiver.handled.values()))
        assert event["type"] == "profile.changed" and event["data"]["changes"]


def test_receiver_down_then_up_backs_off_then_delivers(lms: Lms) -> None:
    org_id = lms.org("acme")
    with running_receiver() as receiver:
        url = receiver.url
    # The receiver is gone now: every attempt fails to connect.
    hook_id, secret = subscribe(lms, org_id, url)
    lms.ok(lms.post("profiles/import", lms.admin, interview("alice")), 201)
    policy = RetryPolicy(max_attempts=3, backoff_seconds=10, backoff_max_seconds=100)
    now = utcnow()
    with httpx.Client(timeout=2) as http, lms.db.write() as session:
        assert deliver_due(session, http, now, policy, allowed_hosts=LOOPBACK).failed == 1
        assert deliver_due(session, http, now + timedelta(seconds=9), policy, allowed_hosts=LOOPBACK).attempted == 0  # backing off
        assert deliver_due(session, http, now + timedelta(seconds=10), policy, allowed_hosts=LOOPBACK).failed == 1
        assert deliver_due(session, http, now + timedelta(seconds=29), policy, allowed_hosts=LOOPBACK).attempted == 0  # 20 s now
        assert deliver_due(session, http, now + timedelta(seconds=30), policy, allowed_hosts=LOOPBACK).dead == 1
    log = lms.ok(lms.get(f"webhooks/{hook_id}/deliveries", lms.admin))
    (event,) = log["items"]
    assert event["status"] == "dead" and len(event["deliveries"]) == 3
    assert all(d["status_code"] is None and d["error"] == "connection failed" for d in event["deliveries"])

    with running_receiver(secret=secret) as receiver:
        lms.ok(lms.client.patch(lms.url(f"webhooks/{hook_id}"), headers=lms.admin, json={"description": "x"}))
        # Point the subscription at the new receiver by recreating the row's URL (admins re-subscribe).
        with lms.db.write() as session:
            from practicum.lms_api.db.tables import Webhook

            session.get(Webhook, hook_id).url = receiver.url  # type: ignore[union-attr]
            session.commit()
        replayed = lms.ok(lms.post(f"webhooks/{hook_id}/replay", lms.admin, {"event_ids": [event["id"]]}))
        assert replayed["requeued"] == [event["id"]]
        report = lms.ok(lms.post("outbox/deliver", lms.admin))
        assert report["delivered"] == 1
        assert list(receiver.handled) == [event["id"]]
        # Replaying a delivered event sends the same id again; the idempotent handler ignores it.
        lms.ok(lms.post(f"webhooks/{hook_id}/replay", lms.admin, {"event_ids": [event["id"]]}))
        lms.ok(lms.post("outbox/deliver", lms.admin))
        assert receiver.duplicates == 1 and len(receiver.handled) == 1
    log = lms.ok(lms.get(f"webhooks/{hook_id}/deliveries", lms.admin))
    assert [d["attempt"] for d in log["items"][0]["deliveries"]] == [1, 2, 3, 4, 5]


def test_outbox_row_is_written_with_the_change_or_not_at_all(lms: Lms) -> None:
    lms.seed_catalog()
    org_id = lms.org("acme")
    hook_id, _ = subscribe(lms, org_id, "http://127.0.0.1:9/never")
    bad = interview("alice", ml_engineering="aware")
    bad["organisation"] = "no-such-org"
    assert lms.post("profiles/import", lms.admin, bad).status_code == 422
    assert lms.ok(lms.get(f"webhooks/{hook_id}/deliveries", lms.admin))["total"] == 0
    lms.ok(lms.post("profiles/import", lms.admin, interview("alice")), 201)
    assert lms.ok(lms.get(f"webhooks/{hook_id}/deliveries", lms.admin))["total"] == 1


def test_background_deliverer_sends_without_being_asked(db_url: str, hub: object) -> None:
    gen = make_lms(db_url, hub, webhook_interval_seconds=0.2, webhook_allowed_hosts=LOOPBACK)  # type: ignore[arg-type]
    lms = next(gen)
    try:
        org_id = lms.org("acme")
        with running_receiver() as receiver:
            _, receiver.secret = subscribe(lms, org_id, receiver.url)
            lms.ok(lms.post("profiles/import", lms.admin, interview("alice")), 201)
            import time

            deadline = time.monotonic() + 10
            while not receiver.handled and time.monotonic() < deadline:
                time.sleep(0.1)
            assert len(receiver.handled) == 1
    finally:
        gen.close()
