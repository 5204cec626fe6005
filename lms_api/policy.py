"""Per-object authorization. Objects the caller may not see answer 404, so ids leak nothing."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, aliased

from .db.loop_reader import LoopReader
from .db.prepared import ReadQuery
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


def person_visibility(principal: Principal, person_id: int, organisation_id: int | None) -> bool | None:
    """Whether `principal` may read the person, or None when it depends on the courses they teach."""
    if principal.is_admin or principal.person_id == person_id:
        return True
    if Scope.HR_READ in principal.scopes or Scope.HR_WRITE in principal.scopes:
        return principal.organisation_id is not None and principal.organisation_id == organisation_id
    if principal.person_id is None:
        return False  # machine tokens without an HR scope (the grader's results:write) read nobody
        return False
    return None


# Does person `teacher` instruct a course that person `learner` takes? (the instructors' rule, in one query)
_teacher = aliased(Enrollment)
_learner = aliased(Enrollment)
TEACHES_QUERY = ReadQuery(
    select(_teacher.id).join(_learner, _learner.course_id == _teacher.course_id)
    .where(_teacher.person_id == bindparam("teacher"), _teacher.role == "instructor",
           _learner.person_id == bindparam("learner"), _learner.role == "learner")
    .limit(1)
)


def may_read_person(session: Session, principal: Principal, person: Person) -> bool:
    decided = person_visibility(principal, person.id, person.organisation_id)
    if decided is not None:
        return decided
    teaching = instructed_courses(session, principal.person_id)
    return bool(teaching and teaching & learner_courses(session, person.id))


async def may_read_person_on_loop(
    reader: LoopReader, principal: Principal, person_id: int, organisation_id: int | None
) -> bool:
    """`may_read_person` for the loop-read routes (same rule, no Session)."""
    decided = person_visibility(principal, person_id, organisation_id)
    if decided is not None:
        return decided
    return bool(await reader.rows(TEACHES_QUERY, teacher=principal.person_id, learner=person_id))


def readable_person(session: Session, principal: Principal, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None or not may_read_person(session, principal, person):
        raise not_found("person", person_id)
    return person


def may_read_result(session: Session, principal: Principal, result: Result) -> bool:
    if principal.is_admin or principal.person_id == result.person_id:
        return True
    if Scope.HR_READ in principal.scopes:
        person = session.get(Person, result.person_id)
        return person is not None and person.organisation_id == principal.organisation_id
    return result.course_id in instructed_courses(session, principal.person_id)


def subject_person(session: Session, principal: Principal, person_id: int) -> Person:
    """The person a write is about: the grader (results:write) names learners it may not read; everyone
    else must be able to read them. Unknown (or invisible) people answer 404."""
    if principal.can(Scope.RESULTS_WRITE):
        person = session.get(Person, person_id)
        if person is None:
            raise not_found("person", person_id)
        return person
    return readable_person(session, principal, person_id)


def takes_course(session: Session, person_id: int, course_id: str) -> bool:
    return course_id in learner_courses(session, person_id)


def may_manage_course(session: Session, principal: Principal, course_id: str) -> bool:
    return principal.is_admin or course_id in instructed_courses(session, principal.person_id)


def require_course_manager(session: Session, principal: Principal, course_id: str) -> None:
    if not may_manage_course(session, principal, course_id):
        raise ApiError(403, "not_course_instructor", f"Only instructors of '{course_id:.100}' (or admins) may do this.")


def may_record_evidence(session: Session, principal: Principal, person: Person, item: CatalogItem | None) -> bool:
    """The grader records evidence; an instructor only for an item of a course they teach, about a
    learner enrolled in that very course (not merely in another course they teach)."""
    if principal.can(Scope.RESULTS_WRITE):
        return True
    return (
        item is not None and item.course_id in instructed_courses(session, principal.person_id)
        and takes_course(session, person.id, item.course_id)
    )
