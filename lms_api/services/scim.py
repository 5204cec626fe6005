"""SCIM 2.0 provisioning for an HR system: Users are the people of one organisation, Groups its teams.

This is how people join an organisation (besides an admin): the organisation's `scim` token creates
them, updates them, deactivates them and removes them; it never sees or touches anyone outside its
organisation, and anything outside answers exactly as something that does not exist.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..db.tables import Person, PersonRole, Team
from ..schemas.people import PersonRoleName
from ..schemas.scim import (
    GROUP_SCHEMA,
    LIST_SCHEMA,
    LMS_USER_SCHEMA,
    MAX_RESULTS,
    USER_SCHEMA,
    GroupIn,
    LmsUserExtension,
    PatchRequest,
    UserIn,
)
from .people import person_by_name


class ScimError(Exception):
    """An RFC 7644 section 3.12 error (its own body and content type, not the LMS error shape)."""

    def __init__(self, status: int, detail: str, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.scim_type = status, detail, scim_type


def parse(model: type[BaseModel], body: Any) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ScimError(400, problems[:1000], "invalidValue") from exc


def _time(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def user_resource(person: Person, team: Team | None, base: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "schemas": [USER_SCHEMA, LMS_USER_SCHEMA], "id": str(person.id), "userName": person.name,
        "active": bool(person.active), "emails": [{"value": person.email, "primary": True}] if person.email else [],
        "groups": [{"value": str(team.id), "display": team.name, "$ref": f"{base}Groups/{team.id}"}] if team else [],
        LMS_USER_SCHEMA: {"roleTarget": person.role_target},
        "meta": {"resourceType": "User", "created": _time(person.created_at), "location": f"{base}Users/{person.id}"},
    }
    if person.display_name:
        resource["displayName"] = person.display_name
    return resource


def group_resource(team: Team, members: list[Person], base: str) -> dict[str, Any]:
    return {
        "schemas": [GROUP_SCHEMA], "id": str(team.id), "displayName": team.name,
        "members": [{"value": str(p.id), "display": p.name, "$ref": f"{base}Users/{p.id}"} for p in members],
        "meta": {"resourceType": "Group", "created": _time(team.created_at), "location": f"{base}Groups/{team.id}"},
    }


def list_response(resources: list[dict[str, Any]], total: int, start_index: int) -> dict[str, Any]:
    return {
        "schemas": [LIST_SCHEMA], "totalResults": total, "startIndex": start_index,
        "itemsPerPage": len(resources), "Resources": resources,
    }


_EQ_FILTER = re.compile(r'^\s*(\w+)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)


def eq_filter(text: str | None, attribute: str) -> str | None:
    """The value of the one filter supported: `<attribute> eq "<value>"` (attribute names are
    case-insensitive, RFC 7643 section 2.1). Anything else is a 400 invalidFilter."""
    if text is None:
        return None
    match = _EQ_FILTER.match(text)
    if match is None or match.group(1).lower() != attribute.lower():
        raise ScimError(400, f'Only the filter {attribute} eq "..." is supported.', "invalidFilter")
    return re.sub(r"\\(.)", r"\1", match.group(2))


def page_bounds(start_index: int, count: int | None) -> tuple[int, int]:
    """(offset, limit) of SCIM's 1-based startIndex and count (RFC 7644 section 3.4.2.4)."""
    start = max(1, start_index)
    limit = MAX_RESULTS if count is None else max(0, min(count, MAX_RESULTS))
    return start - 1, limit


# --- Users -------------------------------------------------------------------------------------


def user_in_organisation(session: Session, organisation_id: int, user_id: str) -> Person:
    person = session.get(Person, int(user_id)) if user_id.isdigit() and len(user_id) < 10 else None
    if person is None or person.organisation_id != organisation_id:
        raise ScimError(404, f"No User {user_id[:40]}.")
    return person


def team_of(session: Session, person: Person) -> Team | None:
    return session.get(Team, person.team_id) if person.team_id is not None else None


def list_users(
    session: Session, organisation_id: int, *, user_name: str | None, offset: int, limit: int
) -> tuple[list[Person], int]:
    query = select(Person).where(Person.organisation_id == organisation_id)
    if user_name is not None:
        query = query.where(Person.name == user_name)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(session.scalars(query.order_by(Person.id).limit(limit).offset(offset))), total


def create_user(session: Session, organisation_id: int, data: UserIn) -> Person:
    """A new person of the organisation. A user name that exists already answers 409 `uniqueness`,
    whether that person is in this organisation, in another or in none (a hub user who signed in
    before being provisioned): claiming an existing person takes an admin (`person update
    --organisation`), so a provisioning token cannot take over accounts by naming them."""
    if person_by_name(session, name=data.user_name) is not None:
        raise ScimError(409, "A User with this userName exists already.", "uniqueness")
    person = Person(
        name=data.user_name, display_name=data.display_name, email=data.primary_email(),
        organisation_id=organisation_id, active=data.active,
        role_target=data.lms.role_target.value if data.lms and data.lms.role_target else None,
    )
    session.add(person)
    session.flush()
    session.add(PersonRole(person_id=person.id, role=PersonRoleName.LEARNER.value, source="admin"))
    session.flush()
    return person


def replace_user(session: Session, person: Person, data: UserIn) -> Person:
    if data.user_name != person.name:
        raise ScimError(400, "userName is the JupyterHub user name and cannot change.", "mutability")
    person.display_name, person.email, person.active = data.display_name, data.primary_email(), data.active
    person.role_target = data.lms.role_target.value if data.lms and data.lms.role_target else None
    session.flush()
    return person


def _set_user_attribute(person: Person, path: str, value: Any, remove: bool) -> None:
    key = path.lower()
    if key == "active":
        person.active = True if remove else parse(UserIn, {"userName": "x", "active": value}).active
    elif key == "displayname":
        person.display_name = None if remove else parse(UserIn, {"userName": "x", "displayName": value}).display_name
    elif key in ("emails", 'emails[primary eq true].value', "emails[type eq \"work\"].value"):
        if remove:
            person.email = None
        else:
            emails = value if isinstance(value, list) else [{"value": value, "primary": True}] if isinstance(value, str) else [value]
            person.email = parse(UserIn, {"userName": "x", "emails": emails}).primary_email()
    elif key in (f"{LMS_USER_SCHEMA}:roletarget".lower(), "roletarget"):
        role = None if remove else parse(LmsUserExtension, {"roleTarget": value}).role_target
        person.role_target = role.value if role else None
    elif key == LMS_USER_SCHEMA.lower() and isinstance(value, dict):
        for name, item in value.items():
            _set_user_attribute(person, f"{LMS_USER_SCHEMA}:{name}", item, remove)
    elif key == "username":
        raise ScimError(400, "userName is the JupyterHub user name and cannot change.", "mutability")
    else:
        raise ScimError(400, f"Unsupported attribute path {path[:100]!r}.", "invalidPath")


def patch_user(session: Session, person: Person, body: Any) -> Person:
    """PatchOp on `active`, `displayName`, `emails` and the LMS extension's `roleTarget`."""
    request = parse(PatchRequest, body)
    for operation in request.operations:
        remove = operation.op == "remove"
        if operation.path:
            _set_user_attribute(person, operation.path, operation.value, remove)
        elif not remove and isinstance(operation.value, dict):
            for path, value in operation.value.items():
                _set_user_attribute(person, path, value, False)
        else:
            raise ScimError(400, "A remove needs a path; add and replace without one need an object.", "invalidSyntax")
    session.flush()
    return person


def deprovision_user(session: Session, person: Person) -> None:
    """DELETE: the person leaves the organisation and is deactivated. Their learning record stays (it is
    theirs; erasure is a separate request), but the organisation no longer sees it."""
    person.organisation_id, person.team_id, person.active = None, None, False
    session.flush()


# --- Groups (teams) ----------------------------------------------------------------------------


def team_in_organisation(session: Session, organisation_id: int, group_id: str) -> Team:
    team = session.get(Team, int(group_id)) if group_id.isdigit() and len(group_id) < 10 else None
    if team is None or team.organisation_id != organisation_id:
        raise ScimError(404, f"No Group {group_id[:40]}.")
    return team


def members_of(session: Session, team_ids: list[int]) -> dict[int, list[Person]]:
    found: dict[int, list[Person]] = {t: [] for t in team_ids}
    if team_ids:
        for person in session.scalars(select(Person).where(Person.team_id.in_(team_ids)).order_by(Person.id)):
            found[person.team_id].append(person)  # type: ignore[index]
    return found


def list_groups(
    session: Session, organisation_id: int, *, display_name: str | None, offset: int, limit: int
) -> tuple[list[Team], int]:
    query = select(Team).where(Team.organisation_id == organisation_id)
    if display_name is not None:
        query = query.where(Team.name == display_name)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(session.scalars(query.order_by(Team.id).limit(limit).offset(offset))), total


def _members(session: Session, organisation_id: int, values: list[str]) -> list[Person]:
    """The people named as members; one answer for ids that are unknown and ids of another organisation."""
    ids = {int(v) for v in values if v.isdigit() and len(v) < 10}
    people = list(session.scalars(select(Person).where(Person.id.in_(ids), Person.organisation_id == organisation_id)))
    if len(people) != len(set(values)):
        raise ScimError(400, "A member is not a User of this organisation.", "invalidValue")
    return people


def create_group(session: Session, organisation_id: int, data: GroupIn) -> Team:
    if session.scalar(select(Team.id).where(Team.organisation_id == organisation_id, Team.name == data.display_name)):
        raise ScimError(409, "A Group with this displayName exists already.", "uniqueness")
    team = Team(organisation_id=organisation_id, name=data.display_name)
    session.add(team)
    session.flush()
    for person in _members(session, organisation_id, [m.value for m in data.members]):
        person.team_id = team.id  # a person is in one team: joining this one leaves the last
    session.flush()
    return team


_MEMBER_PATH = re.compile(r'^members\[value eq "([0-9]{1,9})"\]$', re.IGNORECASE)


def patch_group(session: Session, team: Team, body: Any) -> Team:
    """PatchOp: add/remove/replace `members`, remove `members[value eq "id"]`, replace `displayName`."""
    request = parse(PatchRequest, body)
    organisation_id = team.organisation_id
    for operation in request.operations:
        path = (operation.path or "").strip()
        value = operation.value
        if not path and isinstance(value, dict) and operation.op != "remove":
            items = list(value.items())
        else:
            items = [(path, value)]
        for item_path, item_value in items:
            _patch_group_path(session, team, organisation_id, operation.op, item_path, item_value)
    session.flush()
    return team


def _patch_group_path(session: Session, team: Team, organisation_id: int, op: str, path: str, value: Any) -> None:
    single = _MEMBER_PATH.match(path)
    if path.lower() == "displayname" and op != "remove":
        name = parse(GroupIn, {"displayName": value}).display_name
        if name != team.name and session.scalar(
            select(Team.id).where(Team.organisation_id == organisation_id, Team.name == name)
        ):
            raise ScimError(409, "A Group with this displayName exists already.", "uniqueness")
        team.name = name
    elif path.lower() == "members" or single:
        if single:
            values = [single.group(1)]
        else:
            refs = value if isinstance(value, list) else [] if value is None else [value]
            values = [m.value for m in parse(GroupIn, {"displayName": "x", "members": refs}).members]
        if op == "replace" or (op == "remove" and not single and not values):
            session.execute(update(Person).where(Person.team_id == team.id).values(team_id=None))
        people = _members(session, organisation_id, values)
        for person in people:
            if op == "remove":
                if person.team_id == team.id:
                    person.team_id = None
            else:
                person.team_id = team.id
    else:
        raise ScimError(400, f"Unsupported attribute path {path[:100]!r}.", "invalidPath")
    session.flush()


def delete_group(session: Session, team: Team) -> None:
    session.execute(update(Person).where(Person.team_id == team.id).values(team_id=None))
    session.delete(team)
    session.flush()


def service_provider_config(base: str) -> dict[str, Any]:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": f"{base}ServiceProviderConfig",
        "patch": {"supported": True}, "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_RESULTS}, "changePassword": {"supported": False},
        "sort": {"supported": False}, "etag": {"supported": False},
        "authenticationSchemes": [{
            "type": "oauthbearertoken", "name": "LMS token",
            "description": "Authorization: Bearer lms_... with the scope 'scim', bound to one organisation",
        }],
    }

