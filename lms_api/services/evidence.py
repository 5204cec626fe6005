"""Recording evidence about a person: HR interviews, quizzes and rubric grades (results: see results.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.tables import CatalogItem, Evidence, ItemWeight, Person, ProfileChange, Team
from ..errors import ApiError
from ..schemas.profiles import EvidenceCreate, InterviewImport
from .organisations import organisation_by_slug
from .people import ensure_person, person_by_name
from .profiles import apply_evidence, apply_interview, level_number


def item_weights(session: Session, item_id: str) -> dict[str, float]:
    rows = session.execute(select(ItemWeight.dimension, ItemWeight.weight).where(ItemWeight.item_id == item_id))
    return dict(rows.all())


def import_interview(
    session: Session, *, data: InterviewImport, allowed_organisation_id: int | None, actor: str, now: datetime
) -> tuple[Person, Evidence, list[ProfileChange]]:
    """`allowed_organisation_id`: an HR token's organisation (None for admins, who may name any).

    Admins may create the person and place a person without an organisation into the named one. An
    HR token imports only for people already in its organisation (they join through an admin or SCIM
    provisioning): anyone else, unknown or of another organisation, gets the same 404.
    """
    organisation_id = allowed_organisation_id
    if data.organisation is not None:
        organisation = organisation_by_slug(session, slug=data.organisation)
        if organisation is None:
            raise ApiError(422, "unknown_organisation", f"No organisation '{data.organisation}'.")
        if allowed_organisation_id is not None and organisation.id != allowed_organisation_id:
            raise ApiError(403, "other_organisation", "This token may import only into its own organisation.")
        organisation_id = organisation.id
    if allowed_organisation_id is None:
        person = ensure_person(session, name=data.person, organisation_id=organisation_id)
        if person.organisation_id is None:
            person.organisation_id = organisation_id
    else:
        found = person_by_name(session, name=data.person)
        if found is None or found.organisation_id != allowed_organisation_id:
            raise ApiError(404, "not_found", "No person of that name in your organisation.")
        person = found
    if data.team is not None:
        if person.organisation_id is None:
            raise ApiError(422, "team_needs_organisation", "Name the organisation of the team.")
        team = session.scalar(select(Team).where(Team.organisation_id == person.organisation_id, Team.name == data.team))
        if team is None:
            team = Team(organisation_id=person.organisation_id, name=data.team)
            session.add(team)
            session.flush()
        person.team_id = team.id
    if data.display_name is not None:
        person.display_name = data.display_name
    if data.role_target is not None:
        person.role_target = data.role_target.value
    levels = {dimension.value: level_number(level) for dimension, level in data.levels.items()}
    evidence = Evidence(
        person_id=person.id, kind="interview", weights={k: float(v) for k, v in sorted(levels.items())},
        note=f"assessor: {data.assessor}. {data.notes}".strip()[:2000], recorded_by=actor, observed_at=data.assessed_at,
        recorded_at=now,
    )
    session.add(evidence)
    session.flush()
    changes = apply_interview(session, person=person, evidence=evidence, levels=levels, now=now)
    return person, evidence, changes


def record_observation(
    session: Session, *, person: Person, data: EvidenceCreate, item: CatalogItem | None, actor: str, now: datetime
) -> tuple[Evidence, list[ProfileChange]]:
    if item is not None:
        level, weights = float(item.level), item_weights(session, item.id)
        if data.level is not None:
            level = float(data.level)
        if data.weights is not None:
            weights = {d.value: w for d, w in data.weights.items()}
    elif data.level is not None and data.weights:
        level, weights = float(data.level), {d.value: w for d, w in data.weights.items()}
    else:
        raise ApiError(422, "evidence_needs_item_or_weights", "Give 'item_id', or both 'level' and 'weights'.")
    passed = data.passed if data.passed is not None else data.score >= 0.5
    evidence = Evidence(
        person_id=person.id, kind=data.kind, item_id=item.id if item else None, score=data.score, passed=passed,
        level=level, weights=dict(sorted(weights.items())), note=data.note, recorded_by=actor,
        observed_at=data.observed_at or now, recorded_at=now,
    )
    session.add(evidence)
    session.flush()
    return evidence, apply_evidence(session, person=person, evidence=evidence, now=now)
