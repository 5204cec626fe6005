"""Per-object authorization. Objects the caller may not see answer 404, so ids leak nothing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .db.tables import CatalogItem, Enrollment, Person, Result
from .errors import ApiError
from .principal import Principal
from .tokens import Scope


def not_found(what: str, ident: object) -> ApiError:
    return ApiError(404, "not_found", f"No {what} {ident!s:.200} (or it is not visible to you).")


def instructed_courses(session: Session, person_id: int | None) -> set[str]:
    if person_id is None:
        return set()
    rows = session.scalars(
        select(Enrollment.course_id).where(Enrollment.person_id == person_id, Enrollment.role == "instructor")
    )
    return set(rows)


def learner_courses(session: Session, person_id: int) -> set[str]:
    rows = session.scalars(
        select(Enrollment.course_id).where(Enrollment.person_id == person_id, Enrollment.role == "learner")
    )
    return set(rows)


def may_read_person(session: Session, principal: Principal, person: Person) -> bool:
    if principal.is_admin or principal.person_id == person.id:
        return True
    if Scope.HR_READ in principal.scopes or Scope.HR_WRITE in principal.scopes:
        return principal.organisation_id is not None and principal.organisation_id == person.organisation_id
    if Scope.RESULTS_WRITE in principal.scopes:
        return True  # the grader needs to resolve learners
    teaching = instructed_courses(session, principal.person_id)
    return bool(teaching and teaching & learner_courses(session, person.id))


def readable_person(session: Session, principal: Principal, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None or not may_read_person(session, principal, person):
        raise not_found("person", person_id)
    return person


def may_read_result(session: Session, principal: Principal, result: Result) -> bool:
    if principal.is_admin or principal.person_id == result.person_id or principal.can(Scope.RESULTS_WRITE):
        return True
    if Scope.HR_READ in principal.scopes:
        person = session.get(Person, result.person_id)
        return person is not None and person.organisation_id == principal.organisation_id
    return result.course_id in instructed_courses(session, principal.person_id)


def may_manage_course(session: Session, principal: Principal, course_id: str) -> bool:
    return principal.is_admin or course_id in instructed_courses(session, principal.person_id)


def require_course_manager(session: Session, principal: Principal, course_id: str) -> None:
    if not may_manage_course(session, principal, course_id):
        raise ApiError(403, "not_course_instructor", f"Only instructors of '{course_id:.100}' (or admins) may do this.")


def may_record_evidence(session: Session, principal: Principal, item: CatalogItem | None) -> bool:
    if principal.can(Scope.RESULTS_WRITE):
        return True
    return item is not None and item.course_id in instructed_courses(session, principal.person_id)
