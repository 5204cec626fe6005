"""The pages' routes. Each authenticates as the API does (`get_principal`: hub cookie or token),
then calls the API's route functions in one worker-thread hop and renders their answers."""

from __future__ import annotations

import json
from typing import Annotated
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from practicum.contracts.capabilities import RoleTarget

from ..auth import Credentials, get_principal
from ..errors import ApiError
from ..routers.enrollments import enrol_self
from ..routers.params import CourseId, PersonId
from ..routers.profiles import links_base
from ..routers.reminders import read_notices
from ..schemas.common import MAX_ID
from ..schemas.reminders import NoticesRead
from ..services import profile_reads
from ..settings import Settings
from .cohort_view import cohort_context
from .course_view import course_context
from .grading_form import grade_from_form
from .navigation import navigation
from .person_view import person_context
from .rendering import PageRoute, render
from .xsrf import check_form

router = APIRouter(include_in_schema=False, route_class=PageRoute)
PageNumber = Annotated[int, Query(ge=1, le=1_000_000)]
MAX_FORM_BYTES = 16_384


async def checked_form(request: Request) -> dict[str, str]:
    """A page form's fields, bounded in size and checked for the person's XSRF token (403 otherwise)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise ApiError(413, "form_too_large", "This form is too large.")
    form = dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
    check_form(request, form)
    return form


@router.get("/")
async def service_root(request: Request) -> RedirectResponse:
    """The hub's Services menu links here: a person lands on their own page."""
    principal = await get_principal(request)
    prefix = request.app.state.settings.service_prefix
    target = f"people/{principal.person_id}" if principal.person_id is not None else ""
    return RedirectResponse(f"{prefix}pages/{target}", status_code=303)


@router.get("/pages/")
async def home_page(request: Request) -> HTMLResponse:
    principal = await get_principal(request)
    db = request.app.state.database

    def nav() -> object:
        with db.read() as session:
            return navigation(session, principal)

    return render(request, "home.html", {"title": "Practicum LMS", "nav": await run_in_threadpool(nav)})


@router.get("/pages/people/{person_id}")
async def person_page(person_id: PersonId, request: Request) -> HTMLResponse:
    principal = await get_principal(request)
    state = request.app.state
    settings: Settings = state.settings
    # The profile as `GET /people/{id}/profile` reads it (and authorizes it: 404 if not visible).
    _, body = await profile_reads.read_profile(
        state.loop_reader, state.rendered_changes, credentials=Credentials(principal=principal), person_id=person_id,
        changes_per_dimension=0, links_base=links_base(settings), mlflow_url=settings.mlflow_public_url,
    )
    state.audit.read(principal, "profile", person_id)
    context = await run_in_threadpool(
        person_context, state.database, principal, person_id, json.loads(body), settings, state.audit
    )
    return render(request, "person.html", context)


@router.post("/pages/people/{person_id}/notices/read")
async def read_notices_form(person_id: PersonId, request: Request) -> Response:
    """The notices' form: checked for its XSRF token; only the person's own notices are marked read."""
    await checked_form(request)
    principal = await get_principal(request)
    state = request.app.state

    def mark() -> None:
        with state.database.write() as session:
            read_notices(person_id=person_id, data=NoticesRead(all=True), principal=principal, session=session)

    await run_in_threadpool(mark)
    return RedirectResponse(f"{state.settings.service_prefix}pages/people/{person_id}", status_code=303)


@router.post("/pages/courses/{course_id}/self-enrolment")
async def self_enrolment_form(course_id: CourseId, request: Request) -> Response:
    """The learner page's "enrol" button: checked for its XSRF token, then the API's self-enrolment."""
    await checked_form(request)
    principal = await get_principal(request)
    state = request.app.state
    enrolment = await enrol_self(state.database, state.hub_client, course_id, principal)
    return RedirectResponse(f"{state.settings.service_prefix}pages/people/{enrolment.person_id}", status_code=303)


@router.get("/pages/courses/{course_id}")
async def course_page(
    course_id: CourseId, request: Request, page: PageNumber = 1,
    graded: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    principal = await get_principal(request)
    state = request.app.state
    context = await run_in_threadpool(course_context, state.database, principal, course_id, state.audit, page=page)
    return render(request, "course.html", {**context, "graded": graded})


@router.post("/pages/courses/{course_id}/rubric-grades")
async def post_rubric_grade(course_id: CourseId, request: Request) -> Response:
    """The rubric form: checked for its XSRF token, then recorded by the API's evidence route function."""
    form = await checked_form(request)
    principal = await get_principal(request)
    state = request.app.state
    learner = await run_in_threadpool(grade_from_form, state.database, principal, course_id, form, state.settings)
    query = urlencode({"graded": learner})
    return RedirectResponse(f"{state.settings.service_prefix}pages/courses/{course_id}?{query}#grading", status_code=303)


@router.get("/pages/organisation")
async def cohort_page(
    request: Request, role_target: RoleTarget = RoleTarget.ALGORITHM_ENGINEER, page: PageNumber = 1,
    organisation_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> HTMLResponse:
    principal = await get_principal(request)
    state = request.app.state
    context = await run_in_threadpool(
        cohort_context, state.database, principal, organisation_id, role_target, state.settings, state.audit, page=page,
    )
    return render(request, "organisation.html", context)
