"""Grade results from the grader: stored once per submission id, then progress and profile follow."""

from __future__ import annotations

import functools
import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, case, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from practicum.contracts.grade_result import GradeResult

from ..audit import change_entry
from ..badge_credential import BadgeIssuer, PassedProject
from ..db.engine import Database
from ..db.prepared import DriverCursor, ReadQuery, WriteStatement
from ..db.tables import (
    AuditEntry,
    CatalogItem,
    Evidence,
    ItemWeight,
    OutboxEvent,
    Person,
    PersonRole,
    ProfileChange,
    ProfileValue,
    ProgressEvent,
    Result,
)
from ..db.types import utcnow
from ..errors import ApiError
from ..principal import Principal
from ..schemas.common import ensure_storable, is_safe_link
from ..schemas.people import PersonRoleName
from ..schemas.results import ResultPublic
from ..schemas.webhooks import EventType
from .badges import issue_badge, new_badge_id
from .profiles import evidence_changes, mlflow_run_url, profile_changed_data
from .webhooks import ACTIVE_HOOKS, outbox_rows


def body_digest(result: GradeResult) -> str:
    return hashlib.sha256(result.model_dump_json().encode()).hexdigest()


_results = Result.__table__
_people = Person.__table__
_progress = ProgressEvent.__table__
_evidence = Evidence.__table__
_values = ProfileValue.__table__
_changes = ProfileChange.__table__

_EXISTING = ReadQuery(select(Result.id, Result.body_sha256).where(Result.submission_id == bindparam("submission_id")))
_ITEM = ReadQuery(
    select(CatalogItem.kind, CatalogItem.course_id, CatalogItem.level, CatalogItem.attempt_limit, CatalogItem.title,
           CatalogItem.description, ItemWeight.dimension, ItemWeight.weight)
    .outerjoin(ItemWeight, ItemWeight.item_id == CatalogItem.id)
    .where(CatalogItem.id == bindparam("item_id"))
)
_PERSON = ReadQuery(
    select(Person.id, Person.name, Person.organisation_id, Person.team_id, Person.role_target)
    .where(Person.name == bindparam("name"))
    .with_for_update(key_share=True)  # PostgreSQL: this person's profile updates queue here (see lock_profile)
)
_ATTEMPTS = ReadQuery(
    select(func.count(), func.count(case((Result.passed.is_(True), 1))))
    .where(Result.person_id == bindparam("person_id"), Result.item_id == bindparam("item_id"))
)
_VALUES = ReadQuery(
    select(ProfileValue.dimension, ProfileValue.value).where(ProfileValue.person_id == bindparam("person_id"))
)
_HOOKS = ReadQuery(ACTIVE_HOOKS)

_RESULT_COLUMNS = (
    "submission_id", "person_id", "item_id", "course_id", "kind", "passed", "score", "attempt", "metrics", "targets",
    "mlflow_run_id", "dataset_version", "code_hash", "grader_version", "feedback_url", "started_at", "finished_at",
    "received_at", "body_sha256",
)
_INSERT_PERSON = WriteStatement(
    insert(_people).returning(_people.c.id), ["name", "organisation_id", "active", "created_at"]
)
_INSERT_ROLE = WriteStatement(insert(PersonRole.__table__), ["person_id", "role", "source"])
_INSERT_PROGRESS = WriteStatement(insert(_progress), [
    "person_id", "item_id", "kind", "occurred_at", "seconds_spent", "result_id", "recorded_by", "recorded_at",
])
_EVIDENCE_COLUMNS = (
    "person_id", "kind", "result_id", "item_id", "score", "passed", "level", "weights", "recorded_by", "observed_at",
    "recorded_at", "note",
)
_INSERT_EVIDENCE = WriteStatement(insert(_evidence).returning(_evidence.c.id), _EVIDENCE_COLUMNS)
_INSERT_CHANGE = WriteStatement(insert(_changes), [
    "person_id", "dimension", "before", "after", "delta", "rule", "evidence_id", "changed_at",
])
_INSERT_OUTBOX = WriteStatement(insert(OutboxEvent.__table__), [
    "id", "webhook_id", "event_type", "payload", "status", "attempts", "next_attempt_at", "created_at",
])
_INSERT_AUDIT = WriteStatement(insert(AuditEntry.__table__), ["at", "actor", "action", "resource", "resource_id", "detail"])


def _on_conflict_insert(dialect: str, table: Any) -> Any:
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


@functools.cache
def _insert_result(dialect: str) -> WriteStatement:
    """INSERT ... ON CONFLICT (submission_id) DO NOTHING RETURNING id (SQLite and PostgreSQL)."""
    statement = _on_conflict_insert(dialect, _results).on_conflict_do_nothing(index_elements=["submission_id"])
    return WriteStatement(statement.returning(_results.c.id), _RESULT_COLUMNS)


@functools.cache
def _upsert_value(dialect: str) -> WriteStatement:
    statement = _on_conflict_insert(dialect, _values)
    statement = statement.on_conflict_do_update(
        index_elements=["person_id", "dimension"],
        set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at},
    )
    return WriteStatement(statement, ["person_id", "dimension", "value", "updated_at"])


def post_result(
    db: Database, *, result: GradeResult, principal: Principal, mlflow_url: str = "", issuer: BadgeIssuer | None = None
) -> tuple[ResultPublic, bool]:
    """Store `result` unless its submission id is known; returns (the stored result, created).

    One transaction of Core statements compiled once and run on the driver's cursor (an ORM unit of
    work cost several times more on this path): the result, its progress events, the evidence, the
    profile changes, the outbox rows, the Open Badge of a first pass of a project (signed by `issuer`) and
    the audit entry. Idempotent under concurrency: the unique
    submission id decides the one winner (INSERT ... ON CONFLICT DO NOTHING: a loser's insert returns
    no row); the losers roll back and find the winner's row. The same id with a different body is a 409.
    """
    ensure_storable(result, "result")
    if result.feedback_url is not None and not is_safe_link(result.feedback_url):
        raise ApiError(422, "invalid_feedback_url", "feedback_url must be an http(s) URL or a path starting with '/'.")
    digest = body_digest(result)
    for _ in range(5):
        existing_id = None
        with db.write_lock, db.write_engine.connect() as conn:
            conn.begin()  # SQLite: BEGIN IMMEDIATE (the write lock), before the first statement
            cursor = DriverCursor(conn)
            try:
                existing = cursor.rows(_EXISTING, submission_id=result.submission_id)
                if existing:
                    if existing[0][1] != digest:
                        raise ApiError(
                            409, "submission_conflict",
                            f"Submission {result.submission_id!r} was recorded with a different result.",
                        )
                    existing_id = existing[0][0]
                else:
                    public = _record(cursor, result=result, digest=digest, principal=principal, now=utcnow(),
                                     mlflow_url=mlflow_url, issuer=issuer)
                    if public is not None:
                        conn.commit()
                        return public, True
            except IntegrityError:
                pass  # another request created the same learner first: roll back and retry
            finally:
                cursor.close()
            conn.rollback()
        if existing_id is not None:
            with db.read() as session:
                row = session.get(Result, existing_id)
                assert row is not None
                return results_public(session, [row], mlflow_url=mlflow_url)[0], False
    raise ApiError(503, "busy", "The result could not be stored; retry with the same submission id.")


def _person(cursor: DriverCursor, name: str, now: datetime) -> dict[str, Any]:
    """The learner's row (locked on PostgreSQL), created as a learner if new."""
    rows = cursor.rows(_PERSON, name=name)
    if rows:
        return dict(zip(("id", "name", "organisation_id", "team_id", "role_target"), rows[0], strict=True))
    created = cursor.write(_INSERT_PERSON, {"name": name, "organisation_id": None, "active": True, "created_at": now})
    assert created is not None
    cursor.write(_INSERT_ROLE, {"person_id": created[0], "role": PersonRoleName.LEARNER.value, "source": "admin"})
    return {"id": created[0], "name": name, "organisation_id": None, "team_id": None, "role_target": None}


def _record(
    cursor: DriverCursor, *, result: GradeResult, digest: str, principal: Principal, now: datetime, mlflow_url: str,
    issuer: BadgeIssuer | None = None,
) -> ResultPublic | None:
    """Write everything a new result causes; None when another transaction stored the submission first."""
    dialect = cursor.dialect.name
    item_rows = cursor.rows(_ITEM, item_id=result.item_id)
    if not item_rows:
        raise ApiError(422, "unknown_item", f"No catalog item {result.item_id!r}; sync the catalog first.")
    kind, course_id, level, attempt_limit, title, description = item_rows[0][:6]
    weights = {dimension: weight for *_, dimension, weight in item_rows if dimension is not None}
    if kind != result.kind.value:
        raise ApiError(422, "item_kind_mismatch", f"{result.item_id!r} is a {kind}, not a {result.kind.value}.")
    if result.course_id is not None and result.course_id != course_id:
        raise ApiError(422, "course_mismatch", f"{result.item_id!r} belongs to course {course_id!r}.")
    person = _person(cursor, result.learner, now)
    person_id = person["id"]
    ((attempts, passes),) = cursor.rows(_ATTEMPTS, person_id=person_id, item_id=result.item_id)
    if attempt_limit is not None and attempts >= attempt_limit:
        # Counted under the learner's row lock (PostgreSQL) or the write lock (SQLite): no race past it.
        raise ApiError(
            409, "attempt_limit_reached",
            f"{result.learner!r} has used all {attempt_limit} attempts at {result.item_id!r}; nothing was recorded.",
        )
    first_pass = result.passed and not passes
    stored = {
        "submission_id": result.submission_id, "person_id": person_id, "item_id": result.item_id,
        "course_id": course_id, "kind": kind, "passed": result.passed, "score": result.score,
        "attempt": attempts + 1, "metrics": dict(result.metrics),
        "targets": [t.model_dump(mode="json") for t in result.targets], "mlflow_run_id": result.mlflow_run_id,
        "dataset_version": result.dataset_version, "code_hash": result.code_hash,
        "grader_version": result.grader_version, "feedback_url": result.feedback_url,
        "started_at": result.started_at, "finished_at": result.finished_at, "received_at": now,
        "body_sha256": digest,
    }
    inserted = cursor.write(_insert_result(dialect), stored)
    if inserted is None:
        return None
    result_id = inserted[0]
    seconds = max(0, int((result.finished_at - result.started_at).total_seconds()))
    kinds = ["submitted", "passed" if result.passed else "failed"] + (["completed"] if first_pass else [])
    cursor.write_many(_INSERT_PROGRESS, [
        {"person_id": person_id, "item_id": result.item_id, "kind": kind_, "occurred_at": result.finished_at,
         "seconds_spent": seconds if kind_ == "submitted" else 0, "result_id": result_id,
         "recorded_by": principal.actor, "recorded_at": now}
        for kind_ in kinds
    ])
    evidence = {
        "person_id": person_id, "kind": "result", "result_id": result_id, "item_id": result.item_id,
        "score": result.score, "passed": result.passed, "level": float(level), "weights": weights,
        "recorded_by": principal.actor, "observed_at": result.finished_at, "recorded_at": now, "note": "",
    }
    created_evidence = cursor.write(_INSERT_EVIDENCE, evidence)
    assert created_evidence is not None
    evidence["id"] = created_evidence[0]
    values = dict(cursor.rows(_VALUES, person_id=person_id))
    changes = evidence_changes(values, weights=weights, level=float(level), score=result.score, passed=result.passed)
    outbox: list[dict[str, Any]] = []
    organisation_id = person["organisation_id"]
    hooks = [(hook_id, events) for hook_id, events in cursor.rows(_HOOKS, organisation_id=organisation_id)] \
        if organisation_id is not None else []
    if changes:
        values.update({c["dimension"]: c["after"] for c in changes})
        cursor.write_many(_upsert_value(dialect), [
            {"person_id": person_id, "dimension": c["dimension"], "value": c["after"], "updated_at": now}
            for c in changes
        ])
        cursor.write_many(_INSERT_CHANGE, [
            {**c, "person_id": person_id, "evidence_id": evidence["id"], "changed_at": now} for c in changes
        ])
        if hooks:
            data = profile_changed_data(person=person, evidence=evidence, changes=changes, profile=values)
            outbox += outbox_rows(hooks, organisation_id=organisation_id, event_type=EventType.PROFILE_CHANGED.value,
                                  data=data, now=now)
    if hooks:
        data = {"result_id": result_id, "submission_id": result.submission_id,
                "person": {"id": person_id, "name": person["name"]}, "item_id": result.item_id,
                "passed": result.passed, "score": result.score, "mlflow_run_id": result.mlflow_run_id}
        outbox += outbox_rows(hooks, organisation_id=organisation_id, event_type=EventType.RESULT_RECORDED.value,
                              data=data, now=now)
    cursor.write_many(_INSERT_OUTBOX, outbox)
    run_url = mlflow_run_url(mlflow_url, result.mlflow_run_id) if result.mlflow_run_id else None
    if first_pass and kind == "project" and issuer is not None:
        issue_badge(cursor, issuer, person_id=person_id, passed=PassedProject(
            badge_id=new_badge_id(), learner=person["name"], item_id=result.item_id, title=title,
            description=description, result_id=result_id, attempt=attempts + 1, score=result.score,
            targets=stored["targets"], mlflow_run_id=result.mlflow_run_id, mlflow_run_url=run_url,
            dataset_version=result.dataset_version, issued_at=now,
        ))
    cursor.write(
        _INSERT_AUDIT, change_entry(principal, "create", "result", result_id, f"submission {result.submission_id[:200]}")
    )
    public = {key: value for key, value in stored.items() if key != "body_sha256"}
    public.update({key: _as_utc(stored[key]) for key in ("started_at", "finished_at", "received_at")})
    return ResultPublic(
        id=result_id, learner=person["name"], profile_changes=len(changes),
        mlflow_run_url=run_url, **public,
    )


def _as_utc(value: datetime) -> datetime:
    """What the database gives back for a stored datetime (UtcDateTime: naive means UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def results_public(session: Session, rows: list[Result], *, mlflow_url: str) -> list[ResultPublic]:
    ids = [r.id for r in rows]
    names = dict(session.execute(
        select(Person.id, Person.name).where(Person.id.in_({r.person_id for r in rows}))
    ).all()) if rows else {}
    changes: dict[int, int] = {}
    if ids:
        changes = dict(session.execute(
            select(Evidence.result_id, func.count(ProfileChange.id))
            .join(ProfileChange, ProfileChange.evidence_id == Evidence.id)
            .where(Evidence.result_id.in_(ids)).group_by(Evidence.result_id)
        ).all())  # type: ignore[arg-type]
    return [
        ResultPublic(
            id=r.id, submission_id=r.submission_id, person_id=r.person_id, learner=names.get(r.person_id, ""),
            item_id=r.item_id, course_id=r.course_id, kind=r.kind, passed=r.passed, score=r.score, attempt=r.attempt,
            metrics=r.metrics, targets=r.targets, mlflow_run_id=r.mlflow_run_id,
            mlflow_run_url=mlflow_run_url(mlflow_url, r.mlflow_run_id) if r.mlflow_run_id else None,
            dataset_version=r.dataset_version, code_hash=r.code_hash, grader_version=r.grader_version,
            feedback_url=r.feedback_url if r.feedback_url and is_safe_link(r.feedback_url) else None, started_at=r.started_at, finished_at=r.finished_at, received_at=r.received_at,
            profile_changes=changes.get(r.id, 0),
        )
        for r in rows
    ]


def list_results(
    session: Session, *, person_ids: set[int] | None = None, person_id: int | None = None,
    course_id: str | None = None, item_id: str | None = None, passed: bool | None = None,
    since: datetime | None = None, organisation_id: int | None = None, limit: int, offset: int,
) -> tuple[list[Result], int]:
    query = select(Result)
    if organisation_id is not None:
        query = query.join(Person, Person.id == Result.person_id).where(Person.organisation_id == organisation_id)
    if person_ids is not None:
        query = query.where(Result.person_id.in_(person_ids))
    if person_id is not None:
        query = query.where(Result.person_id == person_id)
    if course_id is not None:
        query = query.where(Result.course_id == course_id)
    if item_id is not None:
        query = query.where(Result.item_id == item_id)
    if passed is not None:
        query = query.where(Result.passed.is_(passed))
    if since is not None:
        query = query.where(Result.received_at >= since)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Result.id).limit(limit).offset(offset)).all()
    return list(rows), total
