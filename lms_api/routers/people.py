"""People: the LMS's view of hub users (and of people HR imported before they first logged in)."""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import select

from practicum.contracts.capabilities import RoleTarget

from ..audit import record_change
from ..auth import PrincipalDep
from ..db.tables import Enrollment
from ..deps import AuditDep, ReadSession, WriteSession
from ..errors import ApiError
from ..policy import instructed_courses, readable_person
from ..principal import Principal
from ..schemas.common import ERROR_RESPONSES, Page
from ..schemas.people import PersonCreate, PersonPublic, PersonUpdate
from ..services import people as svc
from ..tokens import Scope
from .params import Limit, NameFilter, ObjectId, Offset, PersonId

router = APIRouter(prefix="/people", tags=["people"], responses=ERROR_RESPONSES)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_person(data: PersonCreate, principal: PrincipalDep, session: WriteSession) -> PersonPublic:
    principal.require_admin()
    person = svc.create_person(session, data=data)
    record_change(session, principal, "create", "person", person.id)
    session.commit()
    return svc.to_public(session, [person])[0]


def visible_people(session: ReadSession, principal: Principal) -> tuple[int | None, set[int] | None]:
    """(organisation filter, id filter) of the people the caller may list."""
    if principal.is_admin:
        return None, None
    if principal.organisation_id is not None and principal.scopes & {Scope.HR_READ, Scope.HR_WRITE}:
        return principal.organisation_id, None
    if principal.person_id is None:
        raise ApiError(403, "missing_scope", "This token may not list people.")
    ids = {principal.person_id} if principal.person_id else set()
    teaching = instructed_courses(session, principal.person_id)
    if teaching:
        ids |= set(session.scalars(select(Enrollment.person_id).where(
            Enrollment.course_id.in_(teaching), Enrollment.role == "learner"
        )))
    return None, ids


@router.get("")
def list_people(
    principal: PrincipalDep, session: ReadSession, audit: AuditDep, name: NameFilter = None,
    organisation_id: ObjectId | None = None, team_id: ObjectId | None = None, role_target: RoleTarget | None = None,
    limit: Limit = 50, offset: Offset = 0,
) -> Page[PersonPublic]:
    org_filter, id_filter = visible_people(session, principal)
    if org_filter is not None:
        if organisation_id is not None and organisation_id != org_filter:
            return Page(items=[], total=0, limit=limit, offset=offset)
        organisation_id = org_filter
    rows, total = svc.list_people(
        session, organisation_id=organisation_id, team_id=team_id, name=name,
        role_target=role_target.value if role_target else None, person_ids=id_filter, limit=limit, offset=offset,
    )
    audit.read(principal, "people", "list", f"{len(rows)} rows")
    return Page(items=svc.to_public(session, rows), total=total, limit=limit, offset=offset)


@router.get("/{person_id}")
def read_person(person_id: PersonId, principal: PrincipalDep, session: ReadSession, audit: AuditDep) -> PersonPublic:
    person = readable_person(session, principal, person_id)
    audit.read(principal, "person", person_id)
    return svc.to_public(session, [person])[0]


@router.patch("/{person_id}")
def update_person(
    person_id: PersonId, data: PersonUpdate, principal: PrincipalDep, session: WriteSession
) -> PersonPublic:
    person = readable_person(session, principal, person_id)
    if not principal.is_admin:
        # HR may set the role target and team within its organisation; nothing else, and nobody else.
        principal.org_scope(Scope.HR_WRITE)
        allowed = {"role_target", "team_id", "display_name"}
        extra = data.model_fields_set - allowed
        if extra:
            raise ApiError(403, "field_not_writable", f"HR tokens may not change: {', '.join(sorted(extra))}.")
    svc.update_person(session, person=person, data=data)
    record_change(session, principal, "update", "person", person_id, ",".join(sorted(data.model_fields_set)))
    session.commit()
    return svc.to_public(session, [person])[0]
