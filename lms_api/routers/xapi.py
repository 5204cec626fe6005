"""Learning records as xAPI statements; optional forwarding to an LRS."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from ..auth import PrincipalDep
from ..deps import AuditDep, DatabaseDep, ReadSession, SettingsDep
from ..errors import ApiError
from ..policy import readable_person
from ..schemas.common import ERROR_RESPONSES, MAX_ID, storable_datetime
from ..services import xapi as svc
from ..tokens import Scope
from .params import Limit, Offset, PersonId

router = APIRouter(tags=["xapi"], responses=ERROR_RESPONSES)


class StatementList(BaseModel):
    statements: list[dict[str, Any]]
    more: str = ""


class LrsReport(BaseModel):
    sent: int


def _since(since: datetime | None) -> datetime | None:
    if since is None:
        return None
    try:
        return storable_datetime(since)
    except ValueError as exc:
        raise ApiError(422, "invalid_request", f"since: {exc}") from exc


VERSION_HEADER = {"X-Experience-API-Version": svc.XAPI_VERSION}


@router.get("/people/{person_id}/xapi/statements")
def person_statements(
    person_id: PersonId, principal: PrincipalDep, session: ReadSession, settings: SettingsDep, audit: AuditDep,
    response: Response, since: datetime | None = None, limit: Limit = 100, offset: Offset = 0,
) -> StatementList:
    response.headers.update(VERSION_HEADER)
    readable_person(session, principal, person_id)
    audit.read(principal, "xapi", person_id)
    rows = svc.statements(
        session, settings=settings, person_ids={person_id}, organisation_id=None, since=_since(since),
        limit=limit, offset=offset,
    )
    return StatementList(statements=rows)


@router.get("/xapi/statements")
def organisation_statements(
    principal: PrincipalDep, session: ReadSession, settings: SettingsDep, audit: AuditDep, response: Response,
    organisation_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    since: datetime | None = None, limit: Limit = 100, offset: Offset = 0,
) -> StatementList:
    """All statements (admins) or those of the HR token's organisation."""
    response.headers.update(VERSION_HEADER)
    bound = principal.org_scope(Scope.HR_READ)
    organisation = bound if bound is not None else organisation_id
    audit.read(principal, "xapi", f"organisation:{organisation}")
    rows = svc.statements(
        session, settings=settings, person_ids=None, organisation_id=organisation, since=_since(since),
        limit=limit, offset=offset,
    )
    return StatementList(statements=rows)


@router.post("/xapi/send")
async def send_statements(
    request: Request, principal: PrincipalDep, db: DatabaseDep, settings: SettingsDep,
    since: datetime | None = None, limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> LrsReport:
    """Send statements (since a time) to the configured LRS (admins)."""
    principal.require_admin()
    http: httpx.Client = request.app.state.webhook_http
    since_checked = _since(since)

    def run() -> int:
        with db.read() as session:
            batch = svc.statements(
                session, settings=settings, person_ids=None, organisation_id=None, since=since_checked,
                limit=limit, offset=0,
            )
        return svc.send_to_lrs(http, settings, batch)

    return LrsReport(sent=await run_in_threadpool(run))
