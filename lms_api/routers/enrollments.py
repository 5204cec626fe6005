"""Enrollments: who takes (learner) or teaches (instructor) a course.

They come from the hub sync (nbgrader's groups `nbgrader-<course>` and `formgrade-<course>`, source
"hub": removed again when the hub removes the group) or from an admin (source "api": the sync keeps
them). Instructors never enroll anyone: naming a person would give them that person's profile, path
and xAPI. They add learners the nbgrader way (the course's hub group), and may remove a learner.

Self-enrolment (a course whose course file says `enrolment: self`): a signed-in learner joins the
course's hub group `nbgrader-<course>` through the LMS. The hub group stays the one source of truth
(nbgrader's assignment list reads it; the hub sync mirrors it): the LMS adds the learner there first,
with its own token (the hub grants it `groups!group=nbgrader-<course>` for self-enrolment courses
only), and records the enrollment (source "hub") only once the hub said yes.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import select

from ..audit import record_change
from ..auth import PrincipalDep
from ..db.engine import Database
from ..db.tables import Course, Enrollment, Person
from ..deps import DatabaseDep, HubClientDep, ReadSession, WriteSession
from ..errors import ApiError
from ..hub_client import HubClient
from ..policy import not_found, readable_person, require_course_manager
from ..principal import Principal
from ..schemas.common import ERROR_RESPONSES, MAX_ID, InputModel
from .params import CourseId, ObjectId, PersonId

router = APIRouter(tags=["enrollments"], responses=ERROR_RESPONSES)


class CourseRole(StrEnum):
    LEARNER = "learner"
    INSTRUCTOR = "instructor"


class EnrollmentCreate(InputModel):
    person_id: Annotated[int, Field(ge=1, le=MAX_ID)]
    role: CourseRole = CourseRole.LEARNER


class EnrollmentPublic(BaseModel):
    id: int
    person_id: int
    course_id: str
    role: CourseRole
    source: str
    enrolled_at: datetime


def _public(e: Enrollment) -> EnrollmentPublic:
    return EnrollmentPublic(
        id=e.id, person_id=e.person_id, course_id=e.course_id, role=e.role, source=e.source, enrolled_at=e.enrolled_at
    )


@router.post("/courses/{course_id}/enrollments", status_code=status.HTTP_201_CREATED)
def enroll(course_id: CourseId, data: EnrollmentCreate, principal: PrincipalDep, session: WriteSession) -> EnrollmentPublic:
    if session.get(Course, course_id) is None:
        raise not_found("course", course_id)
    require_course_manager(session, principal, course_id)
    principal.require_admin()
    if session.get(Person, data.person_id) is None:
        raise ApiError(422, "unknown_person", f"No person {data.person_id}.")
    exists = session.scalar(select(Enrollment.id).where(
        Enrollment.person_id == data.person_id, Enrollment.course_id == course_id, Enrollment.role == data.role.value
    ))
    if exists is not None:
        raise ApiError(409, "already_enrolled", "This person has this role in the course already.")
    enrollment = Enrollment(person_id=data.person_id, course_id=course_id, role=data.role.value, source="api")
    session.add(enrollment)
    session.flush()
    record_change(session, principal, "create", "enrollment", enrollment.id)
    session.commit()
    return _public(enrollment)


@router.get("/courses/{course_id}/enrollments")
def list_course_enrollments(course_id: CourseId, principal: PrincipalDep, session: ReadSession) -> list[EnrollmentPublic]:
    if session.get(Course, course_id) is None:
        raise not_found("course", course_id)
    require_course_manager(session, principal, course_id)
    rows = session.scalars(select(Enrollment).where(Enrollment.course_id == course_id).order_by(Enrollment.id))
    return [_public(e) for e in rows]


@router.get("/people/{person_id}/enrollments")
def list_person_enrollments(person_id: PersonId, principal: PrincipalDep, session: ReadSession) -> list[EnrollmentPublic]:
    readable_person(session, principal, person_id)
    rows = session.scalars(select(Enrollment).where(Enrollment.person_id == person_id).order_by(Enrollment.id))
    return [_public(e) for e in rows]


@router.delete("/enrollments/{enrollment_id}", status_code=status.HTTP_204_NO_CONTENT)
def unenroll(enrollment_id: ObjectId, principal: PrincipalDep, session: WriteSession) -> Response:
    enrollment = session.get(Enrollment, enrollment_id)
    if enrollment is None:
        raise not_found("enrollment", enrollment_id)
    require_course_manager(session, principal, enrollment.course_id)
    if enrollment.role == "instructor":
        principal.require_admin()
    session.delete(enrollment)
    record_change(session, principal, "delete", "enrollment", enrollment_id)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


LEARNER_GROUP = "nbgrader-{course_id}"


def _self_enrolment_check(database: Database, course_id: str, principal: Principal) -> int:
    """The person enrolling themselves; ApiError when the course is not open to them."""
    with database.read() as session:
        course = session.get(Course, course_id)
        if course is None:
            raise not_found("course", course_id)
        if course.enrolment != "self":
            raise ApiError(403, "enrolment_closed", f"Course '{course_id}' enrols from its roster only: ask its instructor.")
        if principal.person_id is None or not principal.actor.startswith("user:") or session.get(Person, principal.person_id) is None:
            raise ApiError(403, "learners_only", "Only a signed-in learner (a hub user) enrols themselves.")
        return principal.person_id


def _record_self_enrolment(database: Database, course_id: str, person_id: int, principal: Principal) -> EnrollmentPublic:
    with database.write() as session:
        existing = session.scalar(select(Enrollment).where(
            Enrollment.person_id == person_id, Enrollment.course_id == course_id, Enrollment.role == CourseRole.LEARNER.value
        ))
        if existing is not None:
            return _public(existing)
        enrollment = Enrollment(person_id=person_id, course_id=course_id, role=CourseRole.LEARNER.value, source="hub")
        session.add(enrollment)
        session.flush()
        record_change(session, principal, "create", "enrollment", enrollment.id)
        session.commit()
        return _public(enrollment)


@router.post("/courses/{course_id}/self-enrolment", status_code=status.HTTP_201_CREATED)
async def enrol_myself(course_id: CourseId, principal: PrincipalDep, hub: HubClientDep, database: DatabaseDep) -> EnrollmentPublic:
    """The signed-in learner joins a course open to self-enrolment (its hub group first, then the LMS).
    Enrolling again answers the enrollment there is."""
    return await enrol_self(database, hub, course_id, principal)


async def enrol_self(database: Database, hub: HubClient, course_id: str, principal: Principal) -> EnrollmentPublic:
    """Self-enrolment, for the API route and the learner page's form alike."""
    person_id = await run_in_threadpool(_self_enrolment_check, database, course_id, principal)
    await hub.add_to_group(LEARNER_GROUP.format(course_id=course_id), principal.name)
    return await run_in_threadpool(_record_self_enrolment, database, course_id, person_id, principal)
