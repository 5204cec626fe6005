"""PIPL/GDPR: one person's export, and erasure that leaves nothing of them in any table of the database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from lms_fake_hub import FakeHub
from lms_fixtures import Lms, make_lms
from lms_payloads import grade_result, interview
from lms_receiver import running_receiver
from sqlalchemy import MetaData, select, update

from practicum.lms_api.db.tables import AuditEntry, CatalogItem, OutboxEvent, Person, Result, WebhookDelivery
from practicum.lms_api.scheduled import scheduled_round
from practicum.lms_api.services.retention import apply_retention
from practicum.lms_api.services.webhooks import deliver_due

COURSE = "clinical_ai_projects"
LOOPBACK = frozenset({"127.0.0.1"})
ZELDA = {"name": "zelda-erase-me", "display_name": "Zelda Quintessa", "email": "zelda.q@example.org"}


@pytest.fixture
def lms(db_url: str, hub: FakeHub) -> Iterator[Lms]:
    yield from make_lms(db_url, hub, webhook_allowed_hosts=LOOPBACK, identity_cache_seconds=0)


def _person_id(lms: Lms, name: str) -> int:
    return int(lms.ok(lms.get("people", lms.admin, params={"name": name}))["items"][0]["id"])


def _world(lms: Lms) -> dict[str, Any]:
    """zelda (to be erased) and alice (to be kept) leave traces in every kind of table."""
    lms.seed_catalog()
    org = lms.org("acme")
    headers = {name: lms.hub_user(name, groups=[f"nbgrader-{COURSE}"]) for name in (ZELDA["name"], "alice")}
    headers["carol"] = lms.hub_user("carol", groups=[f"formgrade-{COURSE}"])
    for h in headers.values():
        lms.ok(lms.get("capabilities", h))
    ids = {name: _person_id(lms, name) for name in headers}
    for name in (ZELDA["name"], "alice"):
        fields = {"organisation_id": org, "email": f"{name}@example.org"}
        if name == ZELDA["name"]:
            fields |= {"display_name": ZELDA["display_name"], "email": ZELDA["email"]}
        lms.ok(lms.client.patch(lms.url(f"people/{ids[name]}"), headers=lms.admin, json=fields))
    with running_receiver() as receiver:
        hook = lms.ok(lms.post("webhooks", lms.admin, {"url": receiver.url, "organisation_id": org, "events": [
            "profile.changed", "result.recorded", "progress.overdue"]}), 201)
        receiver.secret = hook["secret"]
        for name in (ZELDA["name"], "alice"):
            lms.ok(lms.post("profiles/import", lms.admin, interview(name, "acme")), 201)
            lms.ok(lms.post("results", lms.admin, grade_result(f"{name}-lung-1", name)), 201)  # a badge too
            lms.ok(lms.post("results", lms.admin, grade_result(f"{name}-glucose-1", name, item_id="glucose_cgm_forecasting",
                                                              passed=False, score=0.2)), 201)
            lms.ok(lms.post("progress-events", headers[name], {"item_id": "ehr_complication_risk", "kind": "time_spent",
                                                               "seconds_spent": 600}), 201)
            lms.ok(lms.client.put(lms.url(f"people/{ids[name]}/reminder-preferences"), headers=headers[name],
                                  json={"quiet_start_hour": 22, "quiet_end_hour": 6, "timezone": "Asia/Shanghai"}))
            lms.ok(lms.get(f"people/{ids[name]}/profile", headers[name]))
            lms.ok(lms.get(f"people/{ids[name]}/profile", headers["carol"]))
        round_at = datetime.now(UTC) + timedelta(days=1)
        with lms.db.write() as session:
            session.execute(update(CatalogItem).where(CatalogItem.id == "ehr_complication_risk")
                            .values(due_at=round_at - timedelta(days=1)))
            session.commit()
        report = scheduled_round(lms.db, lms.client.app.state.settings, round_at)  # type: ignore[attr-defined]
        assert report["reminders"]["webhooks"] == 2 and report["reminders"]["notices"] >= 3  # carol's digest too
        with lms.db.write() as session, httpx.Client(trust_env=False) as http:
            assert deliver_due(session, http, datetime.now(UTC) + timedelta(days=2), allowed_hosts=LOOPBACK).delivered >= 8
    lms.client.app.state.audit.flush(lms.db)  # type: ignore[attr-defined]
    return {"headers": headers, "ids": ids, "org": org}


def _scan(lms: Lms, person_id: int) -> list[str]:
    """Every cell of every table in the database (reflected: tables added later are scanned too) that
    holds the person's hub name, display name, e-mail, or their id where a person id belongs."""
    found = []
    words = [v.lower() for v in ZELDA.values()]
    id_marks = [f"person:{person_id}", f'"person_id": {person_id},', f'"person_id":{person_id},', f"people/{person_id}",
                f'"person": {{"id": {person_id},', f'"person":{{"id":{person_id},']
    metadata = MetaData()
    with lms.db.engine.connect() as connection:
        metadata.reflect(connection)
        for table in metadata.sorted_tables:
            person_columns = {c.name for c in table.columns if c.name == "person_id"
                              or any(fk.column.table.name == "people" for fk in c.foreign_keys)}
            for row in connection.execute(select(table)).mappings():
                for column, value in row.items():
                    text = (json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else str(value)).lower()
                    if any(w in text for w in words) or any(m in text for m in id_marks):
                        found.append(f"{table.name}.{column}: {text[:120]}")
                    if column in person_columns and value == person_id:
                        found.append(f"{table.name}.{column} = {person_id}")
                    if table.name == "people" and column == "id" and value == person_id:
                        found.append(f"people.id = {person_id}")
                if table.name == "audit_log" and row["resource_id"] == str(person_id) and row["resource"] in (
                        "person", "profile", "progress", "notices", "reminder_preferences", "person_export", "xapi"):
                    found.append(f"audit_log about person {person_id}: {dict(row)}")
    return found


def _counts(lms: Lms, person_id: int) -> dict[str, int]:
    with lms.db.read() as session:
        return {
            "results": len(session.scalars(select(Result.id).where(Result.person_id == person_id)).all()),
            "outbox": len(session.scalars(select(OutboxEvent.id)).all()),
        }


@pytest.mark.parametrize("keep_records", [False, True], ids=["erase", "anonymise"])
def test_after_erasure_no_table_holds_the_person(lms: Lms, keep_records: bool) -> None:
    world = _world(lms)
    zid, aid = world["ids"][ZELDA["name"]], world["ids"]["alice"]
    assert len(_scan(lms, zid)) > 20  # the scan sees the person before (it can fail)
    alice_before = _counts(lms, aid)

    export = lms.ok(lms.get(f"people/{zid}/export", world["headers"][ZELDA["name"]]))
    tables = export["tables"]
    assert {"people", "results", "evidence", "profile_changes", "progress_events", "badges", "notices", "reminders",
            "reminder_preferences", "enrollments", "audit_log", "outbox", "webhook_deliveries"} <= set(tables), set(tables)
    assert all(row["person_id"] == zid for row in tables["results"])
    assert any(e["payload"]["type"] == "progress.overdue" for e in tables["outbox"])
    assert "alice" not in json.dumps(tables["results"]) and "token_hash" not in json.dumps(export)
    assert lms.get(f"people/{zid}/export", world["headers"]["alice"]).status_code == 404
    assert lms.get(f"people/{zid}/export", world["headers"]["carol"]).status_code == 403  # may read, not export

    erase = {"confirm": ZELDA["name"], "keep_records": keep_records}
    assert lms.post(f"people/{zid}/erasure", world["headers"]["carol"], erase).status_code == 403
    assert lms.post(f"people/{zid}/erasure", world["headers"][ZELDA["name"]], erase).status_code == 403
    assert lms.post(f"people/{zid}/erasure", lms.admin, {**erase, "confirm": "alice"}).status_code == 422
    assert len(_scan(lms, zid)) > 20  # refused requests changed nothing
    report = lms.ok(lms.post(f"people/{zid}/erasure", lms.admin, erase))
    assert report["mode"] == ("anonymised" if keep_records else "erased") and report["deleted"]["people"] == 1

    leftovers = _scan(lms, zid)
    assert leftovers == [], "\n".join(leftovers[:30])
    assert _counts(lms, aid)["results"] == alice_before["results"]  # alice keeps everything
    assert lms.ok(lms.get(f"people/{aid}/export", world["headers"]["alice"]))["tables"]["badges"]
    with lms.db.read() as session:
        stand_ins = session.scalars(select(Person).where(Person.name.like("erased-%"))).all()
        assert len(stand_ins) == (1 if keep_records else 0)
        if keep_records:  # the cohort's statistics keep the records, under nobody
            assert len(session.scalars(select(Result.id).where(Result.person_id == stand_ins[0].id)).all()) == 2
        erasure_entry = session.scalars(select(AuditEntry).where(AuditEntry.resource_id == report["reference"])).one()
        assert erasure_entry.action == "delete" and erasure_entry.actor == "token:1"
    # The erased person is gone for the API; signing in again makes a new, empty person.
    assert lms.get(f"people/{zid}", lms.admin).status_code == 404
    lms.ok(lms.get("capabilities", world["headers"][ZELDA["name"]]))
    assert _person_id(lms, ZELDA["name"]) != zid


def test_retention_deletes_old_audit_entries_and_finished_deliveries_only(lms: Lms) -> None:
    world = _world(lms)
    del world
    now = datetime.now(UTC)
    with lms.db.write() as session:
        audit_total = len(session.scalars(select(AuditEntry.id)).all())
        delivered = len(session.scalars(select(OutboxEvent.id).where(OutboxEvent.status == "delivered")).all())
        session.execute(update(OutboxEvent).values(status="pending"))
        session.execute(update(OutboxEvent).where(OutboxEvent.id.in_(
            select(OutboxEvent.id).order_by(OutboxEvent.id).limit(delivered - 1))).values(status="delivered"))
        session.commit()
        assert apply_retention(session, audit_days=30, delivery_days=7, now=now) == {
            "audit_entries": 0, "outbox_events": 0, "webhook_deliveries": 0}
        removed = apply_retention(session, audit_days=30, delivery_days=7, now=now + timedelta(days=31))
        session.commit()
        assert removed["audit_entries"] == audit_total and removed["outbox_events"] == delivered - 1
        assert len(session.scalars(select(OutboxEvent.id)).all()) >= 1  # the pending one is never deleted
        assert session.scalars(select(WebhookDelivery.id)).all() == [] or removed["webhook_deliveries"] > 0
        assert apply_retention(session, audit_days=0, delivery_days=0, now=now + timedelta(days=9999)) == {
            "audit_entries": 0, "outbox_events": 0, "webhook_deliveries": 0}
