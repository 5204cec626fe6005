"""Grade results, as posted by the grader (idempotent by submission id)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from practicum.contracts.grade_result import GradeResult

from ..auth import PrincipalDep
from ..db.tables import Course, Result
from ..deps import AuditDep, ReadSession, SettingsDep
from ..policy import may_read_result, not_found, readable_person, require_course_manager
from ..schemas.common import ERROR_RESPONSES, Page
from ..schemas.results import ResultPublic
from ..services import results as svc
from ..settings import Settings
from ..tokens import Scope
from .params import CourseId, Limit, ObjectId, Offset, PersonId

router = APIRouter(tags=["results"], responses=ERROR_RESPONSES)


@router.post(
    "/results", status_code=status.HTTP_201_CREATED, response_model=ResultPublic,
    responses={200: {"model": ResultPublic, "description": "Already recorded (same submission id and body)"}},
)
async def post_result(result: GradeResult, principal: PrincipalDep, request: Request) -> Response:
    """Record a grade result. Posting the same submission again returns the stored result (200);
    the same submission id with a different body is refused (409)."""
    principal.require(Scope.RESULTS_WRITE)
    # The grader's hot path: one worker-thread hop for the whole write, the answer built from what
    # was written (no second read, no second validation of the model).
    state = request.app.state
    settings: Settings = state.settings
    public, created = await run_in_threadpool(
        svc.post_result, state.database, result=result, principal=principal, mlflow_url=settings.mlflow_public_url,
        issuer=state.badge_issuer,
    )
    return Response(
        public.model_dump_json(), media_type="application/json",
        status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
    )


@router.get("/results/{result_id}")
def read_result(
    result_id: ObjectId, principal: PrincipalDep, session: ReadSession, settings: SettingsDep, audit: AuditDep
) -> ResultPublic:
    row = session.get(Result, result_id)
    if row is None or not may_read_result(session, principal, row):
        raise not_found("result", result_id)
    audit.read(principal, "result", result_id)
    return svc.results_public(session, [row], mlflow_url=settings.mlflow_public_url)[0]


@router.get("/people/{person_id}/results")
def list_person_results(
    person_id: PersonId, principal: PrincipalDep, session: ReadSession, settings: SettingsDep, audit: AuditDep,
    limit: Limit = 50, offset: Offset = 0,
) -> Page[ResultPublic]:
    readable_person(session, principal, person_id)
    rows, total = svc.list_results(session, person_id=person_id, limit=limit, offset=offset)
    audit.read(principal, "results", f"person:{person_id}")
    items = svc.results_public(session, rows, mlflow_url=settings.mlflow_public_url)
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.get("/courses/{course_id}/results")
def list_course_results(
    course_id: CourseId, principal: PrincipalDep, session: ReadSession, settings: SettingsDep, audit: AuditDep,
    limit: Limit = 50, offset: Offset = 0,
) -> Page[ResultPublic]:
    if session.get(Course, course_id) is None:
        raise not_found("course", course_id)
    require_course_manager(session, principal, course_id)
    rows, total = svc.list_results(session, course_id=course_id, limit=limit, offset=offset)
    audit.read(principal, "results", f"course:{course_id}")
    items = svc.results_public(session, rows, mlflow_url=settings.mlflow_public_url)
    return Page(items=items, total=total, limit=limit, offset=offset)
