"""A person's data: exported as one JSON document, or erased (PIPL/GDPR requests).

What names a person: every row of a table with a foreign key to `people` (found from the schema, so
new tables are covered), audit entries they made or that are about them or their objects, outbox
events (and their delivery log) whose payload is about them, rows they recorded (`recorded_by`,
`created_by`), and any text that spells their hub name, display name or e-mail address (another
person's digest notice, a submission id, an audit detail).

Erasure deletes the person and what hangs on them, deletes the outbox events about them with their
deliveries, and rewrites the rest: audit entries keep that something happened (actor "erased", object
"erased") and every remaining mention of the name or e-mail becomes "[erased]". With `keep_records`
the learning records (results, progress, evidence, profile) stay for cohort statistics under a new,
random, inactive person that nothing links to the old one (anonymisation) instead of being deleted.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, String, Table, Text, delete, or_, select, update
from sqlalchemy.orm import Session

from ..db.tables import AuditEntry, Base, OutboxEvent, Person, WebhookDelivery
from ..db.types import utcnow
from ..errors import ApiError

EXPORT_FORMAT = "practicum-lms-person-export/1"
ERASED = "[erased]"
# Audit resources whose resource_id is a person id (reads and changes of the person themself).
PERSON_RESOURCES = frozenset({
    "person", "profile", "profile_history", "progress", "progress_events", "learning_path", "notices", "xapi",
    "reminder_preferences", "person_export",
})
# Rows a person's own, kept under the anonymous person when the records stay (the rest is deleted).
KEPT_WHEN_ANONYMISED = frozenset({
    "results", "progress_events", "evidence", "profile_values", "profile_changes", "enrollments",
})
SECRET_COLUMNS = frozenset({("api_tokens", "token_hash"), ("webhooks", "secret")})
ACTOR_COLUMNS = frozenset({"recorded_by", "created_by", "actor"})


def _person_columns() -> Iterator[tuple[Table, Column[Any]]]:
    """(table, column) of every foreign key to people.id."""
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table.name == "people" and fk.column.name == "id" for fk in column.foreign_keys):
                yield table, column


def _text_columns(table: Table) -> list[Column[Any]]:
    return [c for c in table.columns if isinstance(c.type, String | Text) and (table.name, c.name) not in SECRET_COLUMNS]


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(table: Table, row: Any) -> dict[str, Any]:
    out = {c.name: _jsonable(getattr(row, c.name)) for c in table.columns if (table.name, c.name) not in SECRET_COLUMNS}
    if table.name == "outbox" and isinstance(out.get("payload"), str):
        out["payload"] = json.loads(out["payload"])
    return out


def _about(payload: str, person_id: int) -> bool:
    """Whether an outbox payload is about the person (its data names them by id)."""
    try:
        data = json.loads(payload).get("data", {})
    except (ValueError, AttributeError):
        return False
    person = data.get("person") if isinstance(data, dict) else None
    return (isinstance(person, dict) and person.get("id") == person_id) or data.get("person_id") == person_id


@dataclass
class _Footprint:
    person: Person
    actor: str
    tokens: list[str]
    objects: set[tuple[str, str]] = field(default_factory=set)  # (audit resource, id) of the person's objects
    outbox_ids: list[str] = field(default_factory=list)


def _footprint(session: Session, person: Person) -> _Footprint:
    tokens = [t for t in (person.name, person.display_name, person.email) if t and len(t.strip()) >= 2]
    found = _Footprint(person=person, actor=f"user:{person.name}", tokens=tokens)
    for table, column in _person_columns():
        if table.name in ("results", "evidence", "badges", "enrollments", "progress_events"):
            resource = {"results": "result", "evidence": "evidence", "badges": "badge", "enrollments": "enrollment",
                        "progress_events": "progress_event"}[table.name]
            ids = session.execute(select(table.c.id).where(column == person.id)).scalars()
            found.objects |= {(resource, str(i)) for i in ids}
    found.outbox_ids = [
        event_id for event_id, payload in session.execute(select(OutboxEvent.id, OutboxEvent.payload))
        if _about(payload, person.id) or any(t in payload for t in tokens)
    ]
    return found


def _audit_filter(found: _Footprint) -> Any:
    pid = found.person.id
    clauses = [AuditEntry.actor == found.actor, AuditEntry.resource_id == f"person:{pid}",
               (AuditEntry.resource.in_(PERSON_RESOURCES)) & (AuditEntry.resource_id == str(pid))]
    for resource, ident in found.objects:
        clauses.append((AuditEntry.resource == resource) & (AuditEntry.resource_id == ident))
    return or_(*clauses)


def export_person(session: Session, *, person: Person) -> dict[str, Any]:
    """Every row that names the person, table by table (secrets such as token hashes left out)."""
    found = _footprint(session, person)
    tables: dict[str, list[dict[str, Any]]] = {"people": [_row(Person.__table__, person)]}
    for table, column in _person_columns():
        rows = session.execute(select(table).where(column == person.id)).all()
        if rows:
            tables.setdefault(table.name, []).extend(_row(table, r) for r in rows)
    audit = AuditEntry.__table__
    tables["audit_log"] = [_row(audit, r) for r in session.execute(select(audit).where(_audit_filter(found))
                                                                      .order_by(audit.c.id))]
    if found.outbox_ids:
        outbox, deliveries = OutboxEvent.__table__, WebhookDelivery.__table__
        tables["outbox"] = [_row(outbox, r) for r in session.execute(
            select(outbox).where(outbox.c.id.in_(found.outbox_ids)).order_by(outbox.c.created_at))]
        tables["webhook_deliveries"] = [_row(deliveries, r) for r in session.execute(
            select(deliveries).where(deliveries.c.event_id.in_(found.outbox_ids)).order_by(deliveries.c.id))]
    for table in Base.metadata.sorted_tables:  # rows the person recorded about others or themselves
        for column in table.columns:
            if column.name in ACTOR_COLUMNS and table.name != "audit_log":
                rows = session.execute(select(table).where(column == found.actor)).all()
                known = {json.dumps(r, sort_keys=True, default=str) for r in tables.get(table.name, [])}
                extra = [d for d in (_row(table, r) for r in rows) if json.dumps(d, sort_keys=True, default=str) not in known]
                if extra:
                    tables.setdefault(table.name, []).extend(extra)
    return {"format": EXPORT_FORMAT, "exported_at": utcnow().isoformat(), "person_id": person.id,
            "person": person.name, "tables": {k: v for k, v in tables.items() if v}}


def _scrub_pattern(tokens: list[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(t) for t in sorted(tokens, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])", re.IGNORECASE)


def _scrub_text(session: Session, tokens: list[str]) -> int:
    """Replace every remaining mention of the tokens in text columns (the people table aside)."""
    pattern = _scrub_pattern(tokens)
    changed = 0
    for table in Base.metadata.sorted_tables:
        if table.name == "people":
            continue
        columns = _text_columns(table) + [c for c in table.columns if isinstance(c.type, JSON)]
        primary = list(table.primary_key.columns)
        for column in columns:
            text = column if not isinstance(column.type, JSON) else column.cast(Text)
            found = session.execute(
                select(*primary, column).where(or_(*(text.ilike(f"%{t}%") for t in tokens)))
            ).all()
            for *key, value in found:
                new = _scrub_value(pattern, value)
                if new != value:
                    where = [pk == k for pk, k in zip(primary, key, strict=True)]
                    session.execute(update(table).where(*where).values({column.name: new}))
                    changed += 1
    return changed


def _scrub_value(pattern: re.Pattern[str], value: Any) -> Any:
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    if isinstance(value, dict):
        return {_scrub_value(pattern, k): _scrub_value(pattern, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_value(pattern, v) for v in value]
    return value


@dataclass(frozen=True)
class ErasureReport:
    reference: str  # quoted in the audit entry; names nobody
    mode: str  # erased | anonymised
    deleted: dict[str, int]
    rewritten_audit_entries: int
    rewritten_text: int

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def erase_person(session: Session, *, person: Person, confirm: str, keep_records: bool, actor: str) -> ErasureReport:
    """Erase (or anonymise) the person in the caller's transaction; `confirm` must be their hub name."""
    if confirm != person.name:
        raise ApiError(422, "confirmation_mismatch", "Set 'confirm' to the person's hub user name to erase them.")
    found = _footprint(session, person)
    reference = "erasure-" + secrets.token_hex(6)
    deleted: dict[str, int] = {}
    audit_rows = session.execute(
        update(AuditEntry).where(_audit_filter(found)).values(actor="erased", resource_id="erased", detail="")
    ).rowcount or 0  # type: ignore[attr-defined]
    if found.outbox_ids:
        deleted["webhook_deliveries"] = session.execute(
            delete(WebhookDelivery).where(WebhookDelivery.event_id.in_(found.outbox_ids))).rowcount or 0  # type: ignore[attr-defined]
        deleted["outbox"] = session.execute(
            delete(OutboxEvent).where(OutboxEvent.id.in_(found.outbox_ids))).rowcount or 0  # type: ignore[attr-defined]
    if keep_records:
        stand_in = Person(name=f"erased-{secrets.token_hex(8)}", organisation_id=person.organisation_id,
                          role_target=person.role_target, active=False, created_at=utcnow())
        session.add(stand_in)
        session.flush()
    for table, column in _person_columns():
        if keep_records and table.name in KEPT_WHEN_ANONYMISED:
            session.execute(update(table).where(column == person.id).values({column.name: stand_in.id}))
        else:
            count = session.execute(delete(table).where(column == person.id)).rowcount or 0  # type: ignore[attr-defined]
            if count:
                deleted[table.name] = deleted.get(table.name, 0) + count
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if column.name in ACTOR_COLUMNS and table.name != "audit_log":
                session.execute(update(table).where(column == found.actor).values({column.name: "erased"}))
    session.execute(delete(Person).where(Person.id == person.id))
    deleted["people"] = 1
    rewritten = _scrub_text(session, found.tokens)
    session.add(AuditEntry(at=utcnow(), actor=actor, action="delete", resource="person", resource_id=reference,
                           detail="anonymised (PIPL/GDPR request)" if keep_records else "erased (PIPL/GDPR request)"))
    session.flush()
    return ErasureReport(reference=reference, mode="anonymised" if keep_records else "erased", deleted=deleted,
                         rewritten_audit_entries=audit_rows, rewritten_text=rewritten)
