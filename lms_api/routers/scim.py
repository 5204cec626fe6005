"""SCIM 2.0 provisioning (`/scim/v2/Users`, `/scim/v2/Groups`) for an HR system's `scim` token.

A clean subset of RFC 7644: Users create/get/list (filter `userName eq "..."`, startIndex/count)/
replace/patch (active, displayName, emails, roleTarget)/delete; Groups (the organisation's teams)
create/get/list (filter `displayName eq "..."`)/patch (members, displayName)/delete;
ServiceProviderConfig. Bodies and errors are `application/scim+json` with the SCIM error schema.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from ..audit import record_change
from ..auth import get_principal
from ..deps import ReadSession, SettingsDep, WriteSession
from ..errors import ApiError, scim_error_response
from ..principal import Principal
from ..schemas.scim import SCIM_CONTENT_TYPE, GroupIn, UserIn
from ..services import scim as svc
from ..services.scim import ScimError
from ..tokens import Scope

router = APIRouter(prefix="/scim/v2", tags=["scim"])
_DOC = {"content": {SCIM_CONTENT_TYPE: {"schema": {"type": "object"}}}}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {**_DOC, "description": text} for code, text in (
        (400, "Invalid SCIM request"), (401, "No valid token"), (403, "Not a provisioning token"),
        (404, "No such resource in this organisation"), (409, "userName or displayName taken"),
    )
}


def scim_response(body: dict[str, Any], status_code: int = 200, location: str | None = None) -> Response:
    headers = {"Location": location} if location else None
    return Response(json.dumps(body), status_code=status_code, media_type=SCIM_CONTENT_TYPE, headers=headers)


async def handle_scim_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ScimError)
    headers = {"WWW-Authenticate": 'Bearer realm="practicum-lms"'} if exc.status == 401 else None
    return scim_error_response(exc.status, exc.detail, exc.scim_type, headers)


async def provisioning_organisation(request: Request) -> tuple[Principal, int]:
    """The caller's organisation: an LMS token with the `scim` scope, bound to one organisation."""
    try:
        principal = await get_principal(request)
    except ApiError as exc:
        raise ScimError(exc.status_code, exc.message) from exc
    if Scope.SCIM not in principal.scopes or principal.organisation_id is None:
        raise ScimError(403, "This needs an LMS token with the 'scim' scope of an organisation.")
    return principal, principal.organisation_id


async def scim_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ScimError(400, "The body is not JSON.", "invalidSyntax") from exc


Provisioner = Annotated[tuple[Principal, int], Depends(provisioning_organisation)]
ScimBody = Annotated[Any, Depends(scim_body)]
Filter = Annotated[str | None, Query(max_length=500)]
StartIndex = Annotated[int, Query(alias="startIndex", ge=1, le=1_000_000_000)]
Count = Annotated[int | None, Query(ge=0, le=1_000_000)]


def base_url(settings: SettingsDep) -> str:
    return f"{settings.service_prefix}scim/v2/"


@router.get("/ServiceProviderConfig", responses=_RESPONSES)
def service_provider_config(who: Provisioner, settings: SettingsDep) -> Response:
    return scim_response(svc.service_provider_config(base_url(settings)))


@router.get("/Users", responses=_RESPONSES)
def list_users(
    who: Provisioner, session: ReadSession, settings: SettingsDep, filter: Filter = None, start_index: StartIndex = 1,
    count: Count = None,
) -> Response:
    _, organisation_id = who
    offset, limit = svc.page_bounds(start_index, count)
    people, total = svc.list_users(
        session, organisation_id, user_name=svc.eq_filter(filter, "userName"), offset=offset, limit=limit
    )
    base = base_url(settings)
    resources = [svc.user_resource(p, svc.team_of(session, p), base) for p in people]
    return scim_response(svc.list_response(resources, total, offset + 1))


@router.post("/Users", status_code=201, responses=_RESPONSES)
def create_user(who: Provisioner, body: ScimBody, session: WriteSession, settings: SettingsDep) -> Response:
    principal, organisation_id = who
    person = svc.create_user(session, organisation_id, svc.parse(UserIn, body))
    record_change(session, principal, "create", "person", person.id, "scim")
    session.commit()
    resource = svc.user_resource(person, None, base_url(settings))
    return scim_response(resource, 201, location=resource["meta"]["location"])


@router.get("/Users/{user_id}", responses=_RESPONSES)
def read_user(user_id: str, who: Provisioner, session: ReadSession, settings: SettingsDep) -> Response:
    person = svc.user_in_organisation(session, who[1], user_id)
    return scim_response(svc.user_resource(person, svc.team_of(session, person), base_url(settings)))


@router.put("/Users/{user_id}", responses=_RESPONSES)
def replace_user(user_id: str, who: Provisioner, body: ScimBody, session: WriteSession, settings: SettingsDep) -> Response:
    principal, organisation_id = who
    person = svc.replace_user(session, svc.user_in_organisation(session, organisation_id, user_id), svc.parse(UserIn, body))
    record_change(session, principal, "update", "person", person.id, "scim replace")
    session.commit()
    return scim_response(svc.user_resource(person, svc.team_of(session, person), base_url(settings)))


@router.patch("/Users/{user_id}", responses=_RESPONSES)
def patch_user(user_id: str, who: Provisioner, body: ScimBody, session: WriteSession, settings: SettingsDep) -> Response:
    principal, organisation_id = who
    person = svc.patch_user(session, svc.user_in_organisation(session, organisation_id, user_id), body)
    record_change(session, principal, "update", "person", person.id, "scim patch")
    session.commit()
    return scim_response(svc.user_resource(person, svc.team_of(session, person), base_url(settings)))


@router.delete("/Users/{user_id}", status_code=204, responses=_RESPONSES)
def delete_user(user_id: str, who: Provisioner, session: WriteSession) -> Response:
    principal, organisation_id = who
    person = svc.user_in_organisation(session, organisation_id, user_id)
    svc.deprovision_user(session, person)
    record_change(session, principal, "delete", "person", person.id, "scim: left the organisation")
    session.commit()
    return Response(status_code=204)


@router.get("/Groups", responses=_RESPONSES)
def list_groups(
    who: Provisioner, session: ReadSession, settings: SettingsDep, filter: Filter = None, start_index: StartIndex = 1,
    count: Count = None,
) -> Response:
    offset, limit = svc.page_bounds(start_index, count)
    teams, total = svc.list_groups(
        session, who[1], display_name=svc.eq_filter(filter, "displayName"), offset=offset, limit=limit
    )
    members = svc.members_of(session, [t.id for t in teams])
    base = base_url(settings)
    return scim_response(svc.list_response([svc.group_resource(t, members[t.id], base) for t in teams], total, offset + 1))


@router.post("/Groups", status_code=201, responses=_RESPONSES)
def create_group(who: Provisioner, body: ScimBody, session: WriteSession, settings: SettingsDep) -> Response:
    principal, organisation_id = who
    team = svc.create_group(session, organisation_id, svc.parse(GroupIn, body))
    record_change(session, principal, "create", "team", team.id, "scim")
    session.commit()
    resource = svc.group_resource(team, svc.members_of(session, [team.id])[team.id], base_url(settings))
    return scim_response(resource, 201, location=resource["meta"]["location"])


@router.get("/Groups/{group_id}", responses=_RESPONSES)
def read_group(group_id: str, who: Provisioner, session: ReadSession, settings: SettingsDep) -> Response:
    team = svc.team_in_organisation(session, who[1], group_id)
    return scim_response(svc.group_resource(team, svc.members_of(session, [team.id])[team.id], base_url(settings)))


@router.patch("/Groups/{group_id}", responses=_RESPONSES)
def patch_group(group_id: str, who: Provisioner, body: ScimBody, session: WriteSession, settings: SettingsDep) -> Response:
    principal, organisation_id = who
    team = svc.patch_group(session, svc.team_in_organisation(session, organisation_id, group_id), body)
    record_change(session, principal, "update", "team", team.id, "scim patch")
    session.commit()
    return scim_response(svc.group_resource(team, svc.members_of(session, [team.id])[team.id], base_url(settings)))


@router.delete("/Groups/{group_id}", status_code=204, responses=_RESPONSES)
def delete_group(group_id: str, who: Provisioner, session: WriteSession) -> Response:
    principal, organisation_id = who
    team = svc.team_in_organisation(session, organisation_id, group_id)
    svc.delete_group(session, team)
    record_change(session, principal, "delete", "team", group_id, "scim")
    session.commit()
    return Response(status_code=204)
