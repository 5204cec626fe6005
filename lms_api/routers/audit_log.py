"""The audit log (admins)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select

from ..audit import AuditBuffer
from ..auth import PrincipalDep
from ..db.tables import AuditEntry
from ..deps import DatabaseDep
from ..schemas.common import ERROR_RESPONSES, Page
from .params import Limit, NameFilter, Offset

router = APIRouter(tags=["audit"], responses=ERROR_RESPONSES)


class AuditPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    actor: str
    action: str
    resource: str
    resource_id: str
    detail: str


@router.get("/audit")
async def read_audit_log(
    request: Request, principal: PrincipalDep, db: DatabaseDep, actor: NameFilter = None,
    resource: NameFilter = None, limit: Limit = 100, offset: Offset = 0,
) -> Page[AuditPublic]:
    principal.require_admin()
    buffer: AuditBuffer = request.app.state.audit

    def run() -> Page[AuditPublic]:
        buffer.flush(db)  # reads recorded so far are part of the answer
        with db.read() as session:
            query = select(AuditEntry)
            if actor is not None:
                query = query.where(AuditEntry.actor == actor)
            if resource is not None:
                query = query.where(AuditEntry.resource == resource)
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(query.order_by(AuditEntry.id).limit(limit).offset(offset))
            return Page(items=[AuditPublic.model_validate(r) for r in rows], total=total, limit=limit, offset=offset)

    return await run_in_threadpool(run)
