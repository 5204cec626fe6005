"""Organisations and teams."""

from __future__ import annotations

from fastapi import APIRouter, status

from ..audit import record_change
from ..auth import PrincipalDep
from ..deps import AuditDep, ReadSession, WriteSession
from ..policy import not_found
from ..schemas.common import ERROR_RESPONSES, Page
from ..schemas.organisations import OrganisationCreate, OrganisationPublic, OrganisationUpdate, TeamCreate, TeamPublic
from ..services import organisations as svc
from ..tokens import Scope
from .params import Limit, ObjectId, Offset

router = APIRouter(prefix="/organisations", tags=["organisations"], responses=ERROR_RESPONSES)


def _visible_org(principal: PrincipalDep, organisation_id: int) -> None:
    if principal.is_admin:
        return
    if principal.organisation_id != organisation_id:
        raise not_found("organisation", organisation_id)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_organisation(data: OrganisationCreate, principal: PrincipalDep, session: WriteSession) -> OrganisationPublic:
    principal.require_admin()
    organisation = svc.create_organisation(session, data=data)
    record_change(session, principal, "create", "organisation", organisation.id)
    session.commit()
    return OrganisationPublic.model_validate(organisation)


@router.get("")
def list_organisations(
    principal: PrincipalDep, session: ReadSession, limit: Limit = 50, offset: Offset = 0
) -> Page[OrganisationPublic]:
    if not principal.is_admin and principal.organisation_id is None:
        return Page(items=[], total=0, limit=limit, offset=offset)
    only = None if principal.is_admin else principal.organisation_id
    rows, total = svc.list_organisations(session, only_id=only, limit=limit, offset=offset)
    return Page(items=[OrganisationPublic.model_validate(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/{organisation_id}")
def read_organisation(
    organisation_id: ObjectId, principal: PrincipalDep, session: ReadSession, audit: AuditDep
) -> OrganisationPublic:
    _visible_org(principal, organisation_id)
    organisation = svc.get_organisation(session, organisation_id=organisation_id)
    if organisation is None:
        raise not_found("organisation", organisation_id)
    audit.read(principal, "organisation", organisation_id)
    return OrganisationPublic.model_validate(organisation)


@router.patch("/{organisation_id}")
def update_organisation(
    organisation_id: ObjectId, data: OrganisationUpdate, principal: PrincipalDep, session: WriteSession
) -> OrganisationPublic:
    principal.require_admin()
    organisation = svc.get_organisation(session, organisation_id=organisation_id)
    if organisation is None:
        raise not_found("organisation", organisation_id)
    svc.update_organisation(session, organisation=organisation, data=data)
    record_change(session, principal, "update", "organisation", organisation_id)
    session.commit()
    return OrganisationPublic.model_validate(organisation)


@router.post("/{organisation_id}/teams", status_code=status.HTTP_201_CREATED)
def create_team(
    organisation_id: ObjectId, data: TeamCreate, principal: PrincipalDep, session: WriteSession
) -> TeamPublic:
    if not principal.is_admin:
        principal.org_scope(Scope.HR_WRITE)
        _visible_org(principal, organisation_id)
    if svc.get_organisation(session, organisation_id=organisation_id) is None:
        raise not_found("organisation", organisation_id)
    team = svc.create_team(session, organisation_id=organisation_id, data=data)
    record_change(session, principal, "create", "team", team.id)
    session.commit()
    return TeamPublic.model_validate(team)


@router.get("/{organisation_id}/teams")
def list_teams(organisation_id: ObjectId, principal: PrincipalDep, session: ReadSession) -> list[TeamPublic]:
    _visible_org(principal, organisation_id)
    if svc.get_organisation(session, organisation_id=organisation_id) is None:
        raise not_found("organisation", organisation_id)
    return [TeamPublic.model_validate(t) for t in svc.list_teams(session, organisation_id=organisation_id)]
