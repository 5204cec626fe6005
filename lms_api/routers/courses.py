"""Courses and their items (assignments and projects); the catalog sync."""

from __future__ import annotations

from fastapi import APIRouter, status

from ..audit import record_change
from ..auth import PrincipalDep
from ..db.tables import CatalogItem, Course
from ..deps import ReadSession, WriteSession
from ..policy import not_found
from ..schemas.catalog import (
    CatalogFile,
    CatalogSyncReport,
    CourseCreate,
    CoursePublic,
    CourseUpdate,
    ItemCreate,
    ItemPublic,
)
from ..schemas.common import ERROR_RESPONSES
from ..services import catalog as svc
from .params import CourseId, ItemId

router = APIRouter(tags=["catalog"], responses=ERROR_RESPONSES)


@router.post("/courses", status_code=status.HTTP_201_CREATED)
def create_course(data: CourseCreate, principal: PrincipalDep, session: WriteSession) -> CoursePublic:
    principal.require_admin()
    course = svc.create_course(session, data=data)
    record_change(session, principal, "create", "course", course.id)
    session.commit()
    return svc.course_public(course)


@router.get("/courses")
def list_courses(principal: PrincipalDep, session: ReadSession) -> list[CoursePublic]:
    return [svc.course_public(c) for c in svc.list_courses(session)]


@router.get("/courses/{course_id}")
def read_course(course_id: CourseId, principal: PrincipalDep, session: ReadSession) -> CoursePublic:
    course = session.get(Course, course_id)
    if course is None:
        raise not_found("course", course_id)
    return svc.course_public(course)


@router.patch("/courses/{course_id}")
def update_course(course_id: CourseId, data: CourseUpdate, principal: PrincipalDep, session: WriteSession) -> CoursePublic:
    principal.require_admin()
    course = session.get(Course, course_id)
    if course is None:
        raise not_found("course", course_id)
    svc.update_course(session, course=course, data=data)
    record_change(session, principal, "update", "course", course_id)
    session.commit()
    return svc.course_public(course)


@router.get("/courses/{course_id}/items")
def list_course_items(course_id: CourseId, principal: PrincipalDep, session: ReadSession) -> list[ItemPublic]:
    if session.get(Course, course_id) is None:
        raise not_found("course", course_id)
    return svc.items_public(session, svc.list_items(session, course_id=course_id))


@router.get("/items")
def list_items(principal: PrincipalDep, session: ReadSession) -> list[ItemPublic]:
    return svc.items_public(session, svc.list_items(session))


@router.post("/items", status_code=status.HTTP_201_CREATED)
def create_item(data: ItemCreate, principal: PrincipalDep, session: WriteSession) -> ItemPublic:
    principal.require_admin()
    item = svc.create_item(session, data=data)
    record_change(session, principal, "create", "item", item.id)
    session.commit()
    return svc.items_public(session, [item])[0]


@router.get("/items/{item_id:path}")
def read_item(item_id: ItemId, principal: PrincipalDep, session: ReadSession) -> ItemPublic:
    item = session.get(CatalogItem, item_id)
    if item is None:
        raise not_found("item", item_id)
    return svc.items_public(session, [item])[0]


@router.post("/catalog/sync")
def sync_catalog(data: CatalogFile, principal: PrincipalDep, session: WriteSession) -> CatalogSyncReport:
    """Create or update courses and items from a catalog file (the YAML format, as JSON)."""
    principal.require_admin()
    report = svc.sync_catalog(session, catalog=data)
    record_change(session, principal, "update", "catalog", "sync", f"{len(data.courses)} courses")
    session.commit()
    return report
