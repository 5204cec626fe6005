"""Reminders: a person's preferences (opt-out, quiet hours) and in-app notices; the reminder log and a
round on demand (admins)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from ..audit import record_change
from ..auth import PrincipalDep
from ..db.types import utcnow
from ..deps import AuditDep, DatabaseDep, ReadSession, SettingsDep, WriteSession
from ..errors import ApiError
from ..policy import readable_person
from ..principal import Principal
from ..scheduled import scheduled_round
from ..schemas.common import ERROR_RESPONSES, MAX_ID, Page
from ..schemas.reminders import NoticePublic, NoticesRead, PreferencesPublic, PreferencesUpdate, ReminderPublic
from ..services import notices as svc
from ..services.reminders import list_reminders
from .params import Limit, Offset, PersonId

router = APIRouter(tags=["reminders"], responses=ERROR_RESPONSES)
ReminderStatus = Literal["claimed", "sent", "failed", "interrupted"]


def _self_or_admin(session: Session, principal: Principal, person_id: int) -> None:
    """The person's own reminders: they and admins (others who may read the person get a 403)."""
    readable_person(session, principal, person_id)
    if not (principal.is_admin or principal.person_id == person_id):
        raise ApiError(403, "own_reminders_only", "Only the person (or an admin) may see or change their reminders.")


@router.get("/people/{person_id}/reminder-preferences")
def read_preferences(
    person_id: PersonId, principal: PrincipalDep, session: ReadSession, settings: SettingsDep
) -> PreferencesPublic:
    _self_or_admin(session, principal, person_id)
    return svc.preferences(session, person_id=person_id, settings=settings)


@router.put("/people/{person_id}/reminder-preferences")
def write_preferences(
    person_id: PersonId, data: PreferencesUpdate, principal: PrincipalDep, session: WriteSession, settings: SettingsDep
) -> PreferencesPublic:
    """Opt out (`opt_out: true`), choose channels, or set quiet hours (local hours, the person's time zone)."""
    _self_or_admin(session, principal, person_id)
    svc.update_preferences(session, person_id=person_id, data=data, now=utcnow())
    record_change(session, principal, "update", "reminder_preferences", person_id,
                  ",".join(sorted(data.model_fields_set)))
    session.commit()
    return svc.preferences(session, person_id=person_id, settings=settings)


@router.get("/people/{person_id}/notices")
def list_notices(
    person_id: PersonId, principal: PrincipalDep, session: ReadSession, audit: AuditDep, unread: bool = False,
    limit: Limit = 50, offset: Offset = 0,
) -> Page[NoticePublic]:
    _self_or_admin(session, principal, person_id)
    rows, total = svc.notices(session, person_id=person_id, unread_only=unread, limit=limit, offset=offset)
    audit.read(principal, "notices", person_id)
    return Page(items=[svc.notice_public(n) for n in rows], total=total, limit=limit, offset=offset)


@router.post("/people/{person_id}/notices/read")
def read_notices(person_id: PersonId, data: NoticesRead, principal: PrincipalDep, session: WriteSession) -> dict[str, int]:
    _self_or_admin(session, principal, person_id)
    if data.ids is None and not data.all:
        raise ApiError(422, "notices_needs_selection", "Name the notice 'ids', or set 'all' to true.")
    count = svc.mark_read(session, person_id=person_id, ids=None if data.all else data.ids, now=utcnow())
    session.commit()
    return {"marked_read": count}


@router.get("/reminders")
def reminder_log(
    principal: PrincipalDep, session: ReadSession, status: ReminderStatus | None = None,
    person_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None, limit: Limit = 100, offset: Offset = 0,
) -> list[ReminderPublic]:
    """Reminder keys (admins): `status=interrupted` lists e-mails a crash left unsent or unconfirmed."""
    principal.require_admin()
    return [ReminderPublic.model_validate(r, from_attributes=True)
            for r in list_reminders(session, status=status, person_id=person_id, limit=limit, offset=offset)]


@router.post("/reminders/run")
async def run_round(request: Request, principal: PrincipalDep, db: DatabaseDep) -> dict[str, Any]:
    """Run the scheduled job now (admins): a reminder round and retention."""
    principal.require_admin()
    return await run_in_threadpool(scheduled_round, db, request.app.state.settings)
