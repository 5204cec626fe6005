"""Enrollments: who takes (learner) or teaches (instructor) a course.

They come from the hub sync (nbgrader's groups `nbgrader-<course>` and `formgrade-<course>`, source
"hub": removed again when the hub removes the group) or from an admin (source "api": the sync keeps
them). Instructors never enroll anyone: naming a person would give them that person's profile, path
and xAPI. They add learners the nbgrader way (the course's hub group), and may remove a learner.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field
from sqlalchemy import select

from ..audit import record_change
from ..auth import PrincipalDep
from ..db.tables import Course, Enrollment, Person
from ..deps import ReadSession, WriteSession
from ..errors import ApiError
from ..policy import not_found, readable_person, require_course_manager
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
