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

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from practicum.contracts.capabilities import Dimension, Level, RoleTarget

from ..db.tables import Evidence, Person, ProfileChange, ProfileValue, Result
from ..framework import DIMENSION_TITLES, DIMENSIONS, LEVEL_VALUES, MAX_LEVEL, ROLE_TARGETS, level_of
from ..schemas.profiles import ChangePublic, DimensionPublic, EvidencePublic, ProfilePublic
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


def apply_evidence(session: Session, *, person: Person, evidence: Evidence, now: datetime) -> list[ProfileChange]:
    """Move each weighted dimension by the rule; returns the changes (rows already added)."""
    assert evidence.score is not None and evidence.level is not None and evidence.passed is not None
    values = profile_values(session, person.id)
    changes = []
    for dimension, weight in sorted(evidence.weights.items()):
        before = values.get(dimension, 0.0)
        after = next_value(before, weight=weight, level=evidence.level, score=evidence.score, passed=evidence.passed)
        if after == before:
            continue
        _set_value(session, person.id, dimension, after, now)
        changes.append(ProfileChange(
            person_id=person.id, dimension=dimension, before=before, after=after, delta=round(after - before, 4),
            evidence_id=evidence.id, changed_at=now,
            rule=rule_text(before, weight=weight, level=evidence.level, score=evidence.score, passed=evidence.passed),
        ))
    session.add_all(changes)
    session.flush()
    if changes:
        notify_profile_changed(session, person=person, evidence=evidence, changes=changes, now=now)
    return changes


def apply_interview(
    session: Session, *, person: Person, evidence: Evidence, levels: dict[str, int], now: datetime
) -> list[ProfileChange]:
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


def notify_profile_changed(
    session: Session, *, person: Person, evidence: Evidence, changes: list[ProfileChange], now: datetime
) -> None:
    data: dict[str, Any] = {
        "person": {
            "id": person.id, "name": person.name, "team_id": person.team_id, "role_target": person.role_target,
        },
        "evidence": {
            "id": evidence.id, "kind": evidence.kind, "item_id": evidence.item_id, "result_id": evidence.result_id,
            "score": evidence.score, "passed": evidence.passed, "observed_at": evidence.observed_at.isoformat(),
        },
        "changes": [
            {"dimension": c.dimension, "before": c.before, "after": c.after, "delta": c.delta} for c in changes
        ],
        "profile": dict(sorted(profile_values(session, person.id).items())),
    }
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


def read_profile(
    session: Session, *, person: Person, changes_per_dimension: int, links_base: str, mlflow_url: str
) -> ProfilePublic:
    values_rows = session.scalars(select(ProfileValue).where(ProfileValue.person_id == person.id)).all()
    values = {row.dimension: row.value for row in values_rows}
    recent: dict[str, list[ProfileChange]] = defaultdict(list)
    if changes_per_dimension > 0:
        ranked = (
            select(ProfileChange.id, func.row_number().over(
                partition_by=ProfileChange.dimension, order_by=ProfileChange.id.desc()
            ).label("rank"))
            .where(ProfileChange.person_id == person.id)
            .subquery()
        )
        latest = session.scalars(
            select(ProfileChange).join(ranked, ranked.c.id == ProfileChange.id)
            .where(ranked.c.rank <= changes_per_dimension).order_by(ProfileChange.id.desc())
        ).all()
        for change, public in zip(latest, changes_public(
            session, list(latest), links_base=links_base, mlflow_url=mlflow_url
        ), strict=True):
            recent[change.dimension].append(public)  # type: ignore[arg-type]
    role = RoleTarget(person.role_target) if person.role_target else None
    targets = {d.value: t for d, t in ROLE_TARGETS[role].items()} if role else {}
    dimensions = []
    for dimension in DIMENSIONS:
        value = values.get(dimension, 0.0)
        target = targets.get(dimension)
        dimensions.append(DimensionPublic(
            dimension=dimension, title=DIMENSION_TITLES[Dimension(dimension)], value=value, level=level_of(value),
            target=target, gap=None if target is None else max(0.0, round(target - value, 4)),
            changes=recent.get(dimension, []),  # type: ignore[arg-type]
        ))
    updated = max((row.updated_at for row in values_rows), default=None)
    return ProfilePublic(
        person_id=person.id, person=person.name, organisation_id=person.organisation_id, role_target=role,
        updated_at=updated, dimensions=dimensions,
    )


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
