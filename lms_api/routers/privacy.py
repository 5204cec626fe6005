"""PIPL/GDPR requests: one person's data as one JSON export (admins, and the person), erasure (admins)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from ..audit import AuditBuffer
from ..auth import HubPeopleCache, PrincipalDep
from ..db.engine import Database
from ..deps import AuditDep, DatabaseDep, ReadSession
from ..errors import ApiError
from ..policy import readable_person
from ..principal import Principal
from ..schemas.common import ERROR_RESPONSES, InputModel, Text
from ..services.erasure import erase_person, export_person
from .params import PersonId

router = APIRouter(tags=["privacy"], responses=ERROR_RESPONSES)


class ErasureRequest(InputModel):
    confirm: Annotated[Text, Field(min_length=1, max_length=200, description="the person's hub user name")]
    keep_records: bool = Field(
        default=False, description="anonymise: keep results, progress and profile under a new random, unlinked person"
    )


@router.get("/people/{person_id}/export")
def export(person_id: PersonId, principal: PrincipalDep, session: ReadSession, audit: AuditDep) -> Response:
    """Everything the LMS holds that names the person, as one JSON document (the person, or admins)."""
    person = readable_person(session, principal, person_id)
    if not (principal.is_admin or principal.person_id == person_id):
        raise ApiError(403, "export_not_allowed", "Only the person (or an admin) may export their data.")
    document = export_person(session, person=person)
    audit.read(principal, "person_export", person_id)
    return Response(
        json.dumps(document, indent=1, ensure_ascii=False, default=str), media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="lms-export-person-{person_id}.json"'},
    )


def erase(db: Database, audit: AuditBuffer, principal: Principal, person_id: int, data: ErasureRequest) -> dict[str, Any]:
    audit.flush(db)  # reads buffered before the erasure are written (and rewritten) now, not after it
    with db.write() as session:
        person = readable_person(session, principal, person_id)
        report = erase_person(session, person=person, confirm=data.confirm, keep_records=data.keep_records,
                              actor=principal.actor)
        session.commit()
    return report.to_json()


@router.post("/people/{person_id}/erasure")
async def erasure(
    person_id: PersonId, data: ErasureRequest, principal: PrincipalDep, db: DatabaseDep, audit: AuditDep,
    request: Request,
) -> dict[str, Any]:
    """Erase the person (admins): nothing of them stays in any table; audit entries keep only that
    something happened. `keep_records` anonymises instead. A hub user who signs in again is a new person."""
    principal.require_admin()
    report = await run_in_threadpool(erase, db, audit, principal, person_id, data)
    people: HubPeopleCache = request.app.state.hub_people
    people.forget_all()  # no cached principal keeps the erased person's id
    return report
