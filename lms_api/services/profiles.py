"""Capability profiles and the rule that moves them (documented in lms_api/README.md, "Profile update rule").

Every dimension holds a value in [0, 4] (0 none .. 4 expert). Evidence names, per dimension,
a weight w in [0, 1]; it demonstrates level D = L * s, where L is the item's level and s the score.

  passed and D > v:  v' = v + LEARNING_RATE * w * (D - v)
  failed and D < v:  v' = v - FAILURE_RATE  * w * (v - D)
  otherwise:         v' = v

Values are rounded to 4 decimals and clamped to [0, 4]. An interview sets assessed dimensions
to the assessed level. Each change is stored (before, after, delta, evidence, rule, time).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from practicum.contracts.capabilities import Level

from ..db.tables import Evidence, Person, ProfileChange, ProfileValue, Result
from ..framework import LEVEL_VALUES, MAX_LEVEL
from ..schemas.profiles import ChangePublic, EvidencePublic
from ..schemas.webhooks import EventType
from .webhooks import enqueue_event

LEARNING_RATE = 0.5
FAILURE_RATE = 0.25


def next_value(value: float, *, weight: float, level: float, score: float, passed: bool) -> float:
    demonstrated = level * score
    if passed and demonstrated > value:
        moved = value + LEARNING_RATE * weight * (demonstrated - value)
    elif not passed and demonstrated < value:
        moved = value - FAILURE_RATE * weight * (value - demonstrated)
    else:
        moved = value
    return round(min(float(MAX_LEVEL), max(0.0, moved)), 4)


def rule_text(value: float, *, weight: float, level: float, score: float, passed: bool) -> str:
    demonstrated = round(level * score, 4)
    if passed:
        return f"passed: D = {level:g} x {score:g} = {demonstrated:g}; v + {LEARNING_RATE:g} x {weight:g} x (D - {value:g})"
    return f"failed: D = {level:g} x {score:g} = {demonstrated:g}; v - {FAILURE_RATE:g} x {weight:g} x ({value:g} - D)"


def profile_values(session: Session, person_id: int) -> dict[str, float]:
    rows = session.execute(
        select(ProfileValue.dimension, ProfileValue.value).where(ProfileValue.person_id == person_id)
    ).all()
    return dict(rows)


def _set_value(session: Session, person_id: int, dimension: str, value: float, now: datetime) -> None:
    row = session.get(ProfileValue, (person_id, dimension))
    if row is None:
        session.add(ProfileValue(person_id=person_id, dimension=dimension, value=value, updated_at=now))
    else:
        row.value, row.updated_at = value, now


def lock_profile(session: Session | Connection, person_id: int) -> None:
    """Serialise profile updates of one person (PostgreSQL: a row lock until commit).

    Each update reads the values and writes new ones; two concurrent transactions for one person
    would otherwise both read the same value and one change would be lost. SQLite writers are
    serialised already (BEGIN IMMEDIATE). FOR NO KEY UPDATE does not block inserts that only
    reference the person.
    """
    bind = session.get_bind() if isinstance(session, Session) else session
    if bind.dialect.name == "postgresql":
        session.execute(select(Person.id).where(Person.id == person_id).with_for_update(key_share=True))


def evidence_changes(
    values: dict[str, float], *, weights: dict[str, float], level: float, score: float, passed: bool
) -> list[dict[str, Any]]:
    """The changes evidence makes by the rule: dimension, before, after, delta, rule (unchanged ones left out)."""
    changes = []
    for dimension, weight in sorted(weights.items()):
        before = values.get(dimension, 0.0)
        after = next_value(before, weight=weight, level=level, score=score, passed=passed)
        if after == before:
            continue
        changes.append({
            "dimension": dimension, "before": before, "after": after, "delta": round(after - before, 4),
            "rule": rule_text(before, weight=weight, level=level, score=score, passed=passed),
        })
    return changes


def apply_evidence(session: Session, *, person: Person, evidence: Evidence, now: datetime) -> list[ProfileChange]:
    """Move each weighted dimension by the rule; returns the changes (rows already added)."""
    assert evidence.score is not None and evidence.level is not None and evidence.passed is not None
    lock_profile(session, person.id)
    values = profile_values(session, person.id)
    changes = []
    for change in evidence_changes(
        values, weights=evidence.weights, level=evidence.level, score=evidence.score, passed=evidence.passed
    ):
        _set_value(session, person.id, change["dimension"], change["after"], now)
        changes.append(ProfileChange(person_id=person.id, evidence_id=evidence.id, changed_at=now, **change))
    session.add_all(changes)
    session.flush()
    if changes:
        notify_profile_changed(session, person=person, evidence=evidence, changes=changes, now=now)
    return changes


def apply_interview(
    session: Session, *, person: Person, evidence: Evidence, levels: dict[str, int], now: datetime
) -> list[ProfileChange]:
    lock_profile(session, person.id)
    values = profile_values(session, person.id)
    changes = []
    for dimension, level in sorted(levels.items()):
        before = values.get(dimension, 0.0)
        after = float(level)
        _set_value(session, person.id, dimension, after, now)
        changes.append(ProfileChange(
            person_id=person.id, dimension=dimension, before=before, after=after, delta=round(after - before, 4),
            evidence_id=evidence.id, changed_at=now, rule=f"interview: assessed at level {level}",
        ))
    session.add_all(changes)
    session.flush()
    notify_profile_changed(session, person=person, evidence=evidence, changes=changes, now=now)
    return changes


def level_number(level: Level | int) -> int:
    return LEVEL_VALUES[level] if isinstance(level, Level) else int(level)


def profile_changed_data(
    *, person: dict[str, Any], evidence: dict[str, Any], changes: list[dict[str, Any]], profile: dict[str, float]
) -> dict[str, Any]:
    """The `profile.changed` event's data (the same from the ORM and the Core write paths)."""
    return {
        "person": {key: person[key] for key in ("id", "name", "team_id", "role_target")},
        "evidence": {
            "id": evidence["id"], "kind": evidence["kind"], "item_id": evidence["item_id"],
            "result_id": evidence["result_id"], "score": evidence["score"], "passed": evidence["passed"],
            "observed_at": evidence["observed_at"].isoformat(),
        },
        "changes": [{key: c[key] for key in ("dimension", "before", "after", "delta")} for c in changes],
        "profile": dict(sorted(profile.items())),
    }


def notify_profile_changed(
    session: Session, *, person: Person, evidence: Evidence, changes: list[ProfileChange], now: datetime
) -> None:
    data = profile_changed_data(
        person={"id": person.id, "name": person.name, "team_id": person.team_id, "role_target": person.role_target},
        evidence={
            "id": evidence.id, "kind": evidence.kind, "item_id": evidence.item_id, "result_id": evidence.result_id,
            "score": evidence.score, "passed": evidence.passed, "observed_at": evidence.observed_at,
        },
        changes=[{"dimension": c.dimension, "before": c.before, "after": c.after, "delta": c.delta} for c in changes],
        profile=profile_values(session, person.id),
    )
    enqueue_event(
        session, organisation_id=person.organisation_id, event_type=EventType.PROFILE_CHANGED.value, data=data, now=now
    )


def evidence_public(evidence: Evidence, *, run_ids: dict[int, str | None], links_base: str, mlflow_url: str) -> EvidencePublic:
    links = {}
    if evidence.result_id is not None:
        links["result"] = f"{links_base}results/{evidence.result_id}"
        run_id = run_ids.get(evidence.result_id)
        if run_id:
            links["mlflow_run"] = mlflow_run_url(mlflow_url, run_id)
    return EvidencePublic(
        id=evidence.id, kind=evidence.kind, item_id=evidence.item_id, result_id=evidence.result_id,
        score=evidence.score, passed=evidence.passed, level=evidence.level, weights=evidence.weights,
        note=evidence.note, recorded_by=evidence.recorded_by, observed_at=evidence.observed_at, links=links,
    )


def mlflow_run_url(mlflow_url: str, run_id: str) -> str:
    base = mlflow_url.rstrip("/")
    return f"{base}/#/runs/{run_id}" if base else f"mlflow-run:{run_id}"


def changes_public(
    session: Session, changes: list[ProfileChange], *, links_base: str, mlflow_url: str
) -> list[ChangePublic]:
    evidence_ids = {c.evidence_id for c in changes}
    evidence = {e.id: e for e in session.scalars(select(Evidence).where(Evidence.id.in_(evidence_ids)))} if changes else {}
    result_ids = {e.result_id for e in evidence.values() if e.result_id is not None}
    run_ids = dict(session.execute(select(Result.id, Result.mlflow_run_id).where(Result.id.in_(result_ids))).all()) \
        if result_ids else {}
    public = {
        eid: evidence_public(e, run_ids=run_ids, links_base=links_base, mlflow_url=mlflow_url)
        for eid, e in evidence.items()
    }
    return [
        ChangePublic(
            id=c.id, dimension=c.dimension, before=c.before, after=c.after, delta=c.delta, rule=c.rule,
            changed_at=c.changed_at, evidence=public[c.evidence_id],
        )
        for c in changes
    ]


def profile_history(
    session: Session, *, person_id: int, dimension: str | None, limit: int, offset: int,
    links_base: str, mlflow_url: str,
) -> tuple[list[ChangePublic], int]:
    query = select(ProfileChange).where(ProfileChange.person_id == person_id)
    if dimension is not None:
        query = query.where(ProfileChange.dimension == dimension)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(session.scalars(query.order_by(ProfileChange.id).limit(limit).offset(offset)))
    return changes_public(session, rows, links_base=links_base, mlflow_url=mlflow_url), total
