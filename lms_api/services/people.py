"""People: created by admins, by HR's interview import, or on first sight of a hub user."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db.engine import Database
from ..db.tables import Course, Enrollment, Person, PersonRole, Team
from ..errors import ApiError
from ..hub_client import HubIdentity
from ..schemas.people import PersonCreate, PersonPublic, PersonRoleName, PersonUpdate


def roles_of(session: Session, person_ids: Iterable[int]) -> dict[int, list[PersonRoleName]]:
    ids = list(person_ids)
    found: dict[int, list[PersonRoleName]] = {pid: [] for pid in ids}
    if ids:
        for person_id, role in session.execute(
            select(PersonRole.person_id, PersonRole.role).where(PersonRole.person_id.in_(ids)).order_by(PersonRole.role)
        ):
            found[person_id].append(PersonRoleName(role))
    return found


def to_public(session: Session, people: list[Person]) -> list[PersonPublic]:
    roles = roles_of(session, (p.id for p in people))
    return [
        PersonPublic(
            id=p.id, name=p.name, display_name=p.display_name, email=p.email, organisation_id=p.organisation_id,
            team_id=p.team_id, role_target=p.role_target, roles=roles[p.id], active=p.active, created_at=p.created_at,
        )
        for p in people
    ]


def _check_placement(session: Session, organisation_id: int | None, team_id: int | None) -> None:
    if team_id is not None:
        team = session.get(Team, team_id)
        if team is None:
            raise ApiError(422, "unknown_team", f"No team {team_id}.")
        if organisation_id is not None and team.organisation_id != organisation_id:
            raise ApiError(422, "team_not_in_organisation", "The team belongs to another organisation.")
    if organisation_id is not None:
        from ..db.tables import Organisation

        if session.get(Organisation, organisation_id) is None:
            raise ApiError(422, "unknown_organisation", f"No organisation {organisation_id}.")


def _set_roles(session: Session, person_id: int, roles: Iterable[PersonRoleName]) -> None:
    """An admin sets the roles: they are the admin's from now on (the hub sync keeps them)."""
    session.execute(delete(PersonRole).where(PersonRole.person_id == person_id))
    for role in sorted(set(roles)):
        session.add(PersonRole(person_id=person_id, role=role.value, source="admin"))


def person_by_name(session: Session, *, name: str) -> Person | None:
    return session.scalar(select(Person).where(Person.name == name))


def create_person(session: Session, *, data: PersonCreate) -> Person:
    if person_by_name(session, name=data.name) is not None:
        raise ApiError(409, "person_exists", "A person with this hub user name exists already.")
    _check_placement(session, data.organisation_id, data.team_id)
    organisation_id = data.organisation_id
    if data.team_id is not None and organisation_id is None:
        organisation_id = session.get(Team, data.team_id).organisation_id  # type: ignore[union-attr]
    person = Person(
        name=data.name, display_name=data.display_name, email=data.email, organisation_id=organisation_id,
        team_id=data.team_id, role_target=data.role_target.value if data.role_target else None, active=True,
    )
    session.add(person)
    session.flush()
    _set_roles(session, person.id, data.roles)
    session.flush()
    return person


def ensure_person(session: Session, *, name: str, organisation_id: int | None = None) -> Person:
    """The person with this hub user name, created as a learner if new."""
    person = person_by_name(session, name=name)
    if person is None:
        person = Person(name=name, organisation_id=organisation_id, active=True)
        session.add(person)
        session.flush()
        session.add(PersonRole(person_id=person.id, role=PersonRoleName.LEARNER.value))
        session.flush()
    return person


def update_person(session: Session, *, person: Person, data: PersonUpdate) -> Person:
    changes = data.model_dump(exclude_unset=True)
    organisation_id = changes.get("organisation_id", person.organisation_id)
    team_id = changes.get("team_id", person.team_id)
    _check_placement(session, organisation_id, team_id)
    for key in ("display_name", "email", "organisation_id", "team_id"):
        if key in changes:
            setattr(person, key, changes[key])
    if changes.get("active") is not None:
        person.active = changes["active"]
    if "role_target" in changes:
        person.role_target = changes["role_target"].value if changes["role_target"] else None
    if changes.get("roles") is not None:
        _set_roles(session, person.id, data.roles or [])
    session.flush()
    return person


def list_people(
    session: Session, *, organisation_id: int | None, team_id: int | None, name: str | None,
    role_target: str | None, person_ids: set[int] | None, limit: int, offset: int,
) -> tuple[list[Person], int]:
    query = select(Person)
    if organisation_id is not None:
        query = query.where(Person.organisation_id == organisation_id)
    if team_id is not None:
        query = query.where(Person.team_id == team_id)
    if name is not None:
        query = query.where(Person.name == name)
    if role_target is not None:
        query = query.where(Person.role_target == role_target)
    if person_ids is not None:
        query = query.where(Person.id.in_(person_ids))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Person.id).limit(limit).offset(offset)).all()
    return list(rows), total


def hub_course_roles(groups: Iterable[str]) -> set[tuple[str, str]]:
    """(course id, role) pairs from nbgrader's hub groups: formgrade-<c> instructs c, nbgrader-<c> takes c."""
    pairs = set()
    for group in groups:
        for prefix, role in (("formgrade-", "instructor"), ("nbgrader-", "learner")):
            if group.startswith(prefix) and len(group) > len(prefix):
                pairs.add((group[len(prefix):], role))
    return pairs


def sync_person_from_hub(db: Database, identity: HubIdentity) -> tuple[int, bool]:
    """Create or update the person behind a hub user (roles and course enrollments from hub groups);
    returns (their id, whether they are active)."""
    for _ in range(3):
        with db.write() as session:
            try:
                person_id = _sync(session, identity)
                active = bool(session.scalar(select(Person.active).where(Person.id == person_id)))
                session.commit()
                return person_id, active
            except IntegrityError:
                session.rollback()  # another request created the same person or enrollment first
    raise ApiError(503, "busy", "Could not record the hub user; retry.")


HUB_GRANTED_ROLES = frozenset({PersonRoleName.ADMIN, PersonRoleName.INSTRUCTOR})


def _sync(session: Session, identity: HubIdentity) -> int:
    """Make the person's hub-sourced roles and enrollments what the hub says now: add what the hub
    added, remove what it removed (those an admin made, `source` "admin"/"api", are kept)."""
    person = ensure_person(session, name=identity.name)
    course_roles = hub_course_roles(identity.groups)
    wanted: set[PersonRoleName] = set()
    if identity.admin:
        wanted.add(PersonRoleName.ADMIN)
    if any(role == "instructor" for _, role in course_roles):
        wanted.add(PersonRoleName.INSTRUCTOR)
    roles = {PersonRoleName(role): source for role, source in session.execute(
        select(PersonRole.role, PersonRole.source).where(PersonRole.person_id == person.id)
    )}
    for role in sorted(wanted - set(roles)):
        session.add(PersonRole(person_id=person.id, role=role.value, source="hub"))
    gone = [r.value for r, source in roles.items() if source == "hub" and r in HUB_GRANTED_ROLES and r not in wanted]
    if gone:
        session.execute(delete(PersonRole).where(PersonRole.person_id == person.id, PersonRole.role.in_(gone)))
    known_courses = set(session.scalars(select(Course.id).where(Course.id.in_({c for c, _ in course_roles}))))
    have = {(course_id, role): (enrollment_id, source) for enrollment_id, course_id, role, source in session.execute(
        select(Enrollment.id, Enrollment.course_id, Enrollment.role, Enrollment.source)
        .where(Enrollment.person_id == person.id)
    )}
    for course_id, role in sorted(course_roles - set(have)):
        if course_id in known_courses:
            session.add(Enrollment(person_id=person.id, course_id=course_id, role=role, source="hub"))
    removed = [eid for pair, (eid, source) in have.items() if source == "hub" and pair not in course_roles]
    if removed:
        session.execute(delete(Enrollment).where(Enrollment.id.in_(removed)))
    session.flush()
    return person.id
