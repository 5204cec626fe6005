"""HR's pull API: profiles, results (with evidence links), progress and cohorts of one organisation.

Every list filters, pages (limit/offset) and exports CSV with `format=csv`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from practicum.contracts.capabilities import RoleTarget

from ..auth import PrincipalDep
from ..csv_export import CSV_CONTENT, csv_response
from ..db.tables import Person
from ..db.types import utcnow
from ..deps import AuditDep, ReadSession, SettingsDep
from ..errors import ApiError
from ..framework import DIMENSIONS
from ..principal import Principal
from ..schemas.common import ERROR_RESPONSES, MAX_ID, Page, storable_datetime
from ..schemas.hr import CohortRow, ProfileRow, ProgressRow
from ..schemas.results import ResultPublic
from ..services import hr as svc
from ..services.people import list_people
from ..services.results import list_results, results_public
from ..tokens import Scope
from .params import Format, ItemId, Limit, Offset

router = APIRouter(prefix="/hr", tags=["hr"], responses={**ERROR_RESPONSES, 200: {"content": CSV_CONTENT}})

OrgQuery = Annotated[int | None, Query(ge=1, le=MAX_ID, description="admins: which organisation (HR tokens: their own)")]
TeamQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def organisation_for(principal: Principal, organisation_id: int | None) -> int:
    bound = principal.org_scope(Scope.HR_READ)
    if bound is not None:
        if organisation_id is not None and organisation_id != bound:
            raise ApiError(404, "not_found", f"No organisation {organisation_id} (or it is not visible to you).")
        return bound
    if organisation_id is None:
        raise ApiError(422, "organisation_required", "Admins name the organisation: ?organisation_id=")
    return organisation_id


def _people(
    session: ReadSession, organisation_id: int, team_id: int | None, role_target: RoleTarget | None,
    limit: int, offset: int,
) -> tuple[list[Person], int]:
    return list_people(
        session, organisation_id=organisation_id, team_id=team_id, name=None,
        role_target=role_target.value if role_target else None, person_ids=None, limit=limit, offset=offset,
    )


@router.get("/profiles")
def hr_profiles(
    principal: PrincipalDep, session: ReadSession, audit: AuditDep, organisation_id: OrgQuery = None,
    team_id: TeamQuery = None, role_target: RoleTarget | None = None, limit: Limit = 100, offset: Offset = 0,
    format: Format = "json",
) -> Page[ProfileRow]:
    org = organisation_for(principal, organisation_id)
    people, total = _people(session, org, team_id, role_target, limit, offset)
    rows = svc.profile_rows(session, people)
    audit.read(principal, "hr_profiles", org, f"{len(rows)} rows")
    if format == "csv":
        columns = ["person_id", "person", "display_name", "team_id", "role_target", *DIMENSIONS, "total_gap", "updated_at"]
        return csv_response(  # type: ignore[return-value]
            columns, ({**r.model_dump(exclude={"values"}), **r.values} for r in rows), "profiles.csv"
        )
    return Page(items=rows, total=total, limit=limit, offset=offset)


@router.get("/results")
def hr_results(
    principal: PrincipalDep, session: ReadSession, settings: SettingsDep, audit: AuditDep,
    organisation_id: OrgQuery = None, person_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    item_id: Annotated[ItemId | None, Query()] = None, passed: bool | None = None, since: datetime | None = None,
    limit: Limit = 100, offset: Offset = 0, format: Format = "json",
) -> Page[ResultPublic]:
    org = organisation_for(principal, organisation_id)
    if since is not None:
        try:
            since = storable_datetime(since)
        except ValueError as exc:
            raise ApiError(422, "invalid_request", f"since: {exc}") from exc
    rows, total = list_results(
        session, organisation_id=org, person_id=person_id, item_id=item_id, passed=passed, since=since,
        limit=limit, offset=offset,
    )
    items = results_public(session, rows, mlflow_url=settings.mlflow_public_url)
    audit.read(principal, "hr_results", org, f"{len(items)} rows")
    if format == "csv":
        columns = ["id", "submission_id", "person_id", "learner", "item_id", "course_id", "kind", "passed", "score",
                   "attempt", "mlflow_run_id", "mlflow_run_url", "dataset_version", "grader_version", "finished_at"]
        return csv_response(columns, (r.model_dump() for r in items), "results.csv")  # type: ignore[return-value]
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.get("/progress")
def hr_progress(
    principal: PrincipalDep, session: ReadSession, audit: AuditDep, organisation_id: OrgQuery = None,
    team_id: TeamQuery = None, role_target: RoleTarget | None = None, limit: Limit = 100, offset: Offset = 0,
    format: Format = "json",
) -> Page[ProgressRow]:
    """One row per person and course; pages go over people."""
    org = organisation_for(principal, organisation_id)
    people, total = _people(session, org, team_id, role_target, limit, offset)
    rows = svc.progress_rows(session, people, utcnow())
    audit.read(principal, "hr_progress", org, f"{len(rows)} rows")
    if format == "csv":
        columns = list(ProgressRow.model_fields)
        return csv_response(columns, (r.model_dump() for r in rows), "progress.csv")  # type: ignore[return-value]
    return Page(items=rows, total=total, limit=limit, offset=offset)


@router.get("/cohorts")
def hr_cohorts(
    principal: PrincipalDep, session: ReadSession, audit: AuditDep, organisation_id: OrgQuery = None,
    team_id: TeamQuery = None, role_target: RoleTarget | None = None, limit: Limit = 100, offset: Offset = 0,
    format: Format = "json",
) -> Page[CohortRow]:
    """One row per team (pages go over teams; people without a team last): headcount, mean profile,
    completion, results, how many meet their role target. Aggregated in SQL, a fixed number of statements."""
    org = organisation_for(principal, organisation_id)
    rows, total = svc.cohorts(
        session, organisation_id=org, team_id=team_id, role_target=role_target.value if role_target else None,
        limit=limit, offset=offset,
    )
    audit.read(principal, "hr_cohorts", org, f"{len(rows)} rows")
    if format == "csv":
        columns = ["team_id", "team", "headcount", *[f"mean_{d}" for d in DIMENSIONS], "mean_completion_rate",
                   "results_total", "results_passed", "meeting_role_target"]
        return csv_response(  # type: ignore[return-value]
            columns,
            ({**r.model_dump(exclude={"mean_values"}), **{f"mean_{d}": v for d, v in r.mean_values.items()}} for r in rows),
            "cohorts.csv",
        )
    return Page(items=rows, total=total, limit=limit, offset=offset)
