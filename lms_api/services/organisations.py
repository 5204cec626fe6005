"""Organisations (HR's unit of access) and their teams."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db.tables import Organisation, Team
from ..errors import ApiError
from ..schemas.organisations import OrganisationCreate, OrganisationUpdate, TeamCreate


def create_organisation(session: Session, *, data: OrganisationCreate) -> Organisation:
    if session.scalar(select(Organisation.id).where(Organisation.slug == data.slug)) is not None:
        raise ApiError(409, "organisation_exists", f"An organisation '{data.slug}' exists already.")
    organisation = Organisation(slug=data.slug, name=data.name)
    session.add(organisation)
    session.flush()
    return organisation


def get_organisation(session: Session, *, organisation_id: int) -> Organisation | None:
    return session.get(Organisation, organisation_id)


def organisation_by_slug(session: Session, *, slug: str) -> Organisation | None:
    return session.scalar(select(Organisation).where(Organisation.slug == slug))


def list_organisations(
    session: Session, *, only_id: int | None, limit: int, offset: int
) -> tuple[list[Organisation], int]:
    query = select(Organisation)
    if only_id is not None:
        query = query.where(Organisation.id == only_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Organisation.id).limit(limit).offset(offset)).all()
    return list(rows), total


def update_organisation(session: Session, *, organisation: Organisation, data: OrganisationUpdate) -> Organisation:
    for key, value in data.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(organisation, key, value)
    session.flush()
    return organisation


def create_team(session: Session, *, organisation_id: int, data: TeamCreate) -> Team:
    exists = session.scalar(select(Team.id).where(Team.organisation_id == organisation_id, Team.name == data.name))
    if exists is not None:
        raise ApiError(409, "team_exists", "This organisation has a team of that name already.")
    team = Team(organisation_id=organisation_id, name=data.name)
    session.add(team)
    session.flush()
    return team


def team_by_name(session: Session, *, organisation_id: int, name: str, create: bool = False) -> Team:
    team = session.scalar(select(Team).where(Team.organisation_id == organisation_id, Team.name == name))
    if team is None:
        if not create:
            raise ApiError(422, "unknown_team", f"No team {name!r} in this organisation.")
        team = Team(organisation_id=organisation_id, name=name)
        session.add(team)
        session.flush()
    return team


def list_teams(session: Session, *, organisation_id: int) -> list[Team]:
    return list(session.scalars(select(Team).where(Team.organisation_id == organisation_id).order_by(Team.id)))
