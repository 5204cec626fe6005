"""What the header links to: the caller's own page, the courses they teach, their organisation."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.tables import Course, Organisation
from ..policy import instructed_courses
from ..principal import Principal
from ..tokens import Scope


@dataclass(frozen=True)
class Navigation:
    name: str
    person_id: int | None
    courses: list[tuple[str, str]]  # (id, title) of the courses the caller manages
    organisation: tuple[int, str] | None  # the organisation the caller reads as HR
    is_admin: bool


def navigation(session: Session, principal: Principal) -> Navigation:
    if principal.is_admin:
        courses = [(c, t) for c, t in session.execute(select(Course.id, Course.title).order_by(Course.id))]
    else:
        teaching = instructed_courses(session, principal.person_id)
        courses = [(c, t) for c, t in session.execute(
            select(Course.id, Course.title).where(Course.id.in_(teaching)).order_by(Course.id)
        )] if teaching else []
    organisation = None
    if principal.organisation_id is not None and Scope.HR_READ in principal.scopes:
        org = session.get(Organisation, principal.organisation_id)
        organisation = (org.id, org.name) if org else None
    return Navigation(
        name=principal.name, person_id=principal.person_id, courses=courses, organisation=organisation,
        is_admin=principal.is_admin,
    )
