"""Capability profiles: read (with the evidence behind each value), history, interview import, evidence."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from practicum.contracts.capabilities import Dimension

from ..audit import AuditBuffer, record_change
from ..auth import CredentialsDep, PrincipalDep
from ..db.tables import CatalogItem
from ..db.types import utcnow
from ..deps import AuditDep, ReadSession, SettingsDep, WriteSession
from ..errors import ApiError
from ..policy import may_record_evidence, not_found, readable_person, subject_person
from ..schemas.common import ERROR_RESPONSES, Page
from ..schemas.profiles import ChangePublic, EvidenceCreate, EvidenceRecorded, InterviewImport, ProfilePublic
from ..services import profile_reads
from ..services import profiles as svc
from ..services.evidence import import_interview, record_observation
from ..settings import Settings
from ..tokens import Scope
from .params import Limit, Offset, PersonId

router = APIRouter(tags=["profiles"], responses=ERROR_RESPONSES)


def links_base(settings: Settings) -> str:
    return settings.service_prefix


@router.get("/people/{person_id}/profile", response_model=ProfilePublic)
async def read_profile(
    person_id: PersonId, credentials: CredentialsDep, request: Request,
    changes: Annotated[int, Query(ge=0, le=50, description="latest changes listed per dimension")] = 3,
) -> Response:
    """Each dimension's value, level, role target and gap, with its latest changes and their evidence."""
    # The hottest read (HR's pulls): app state is read directly (each FastAPI dependency costs a
    # solve per request), the token is checked by the statement that reads the profile, the database
    # is read without a thread hop, and the JSON is rendered once (no model pass).
    state = request.app.state
    settings: Settings = state.settings
    principal, body = await profile_reads.read_profile(
        state.loop_reader, state.rendered_changes, credentials=credentials, person_id=person_id,
        changes_per_dimension=changes, links_base=links_base(settings), mlflow_url=settings.mlflow_public_url,
    )
    audit: AuditBuffer = state.audit
    audit.read(principal, "profile", person_id)
    return Response(body, media_type="application/json")


@router.get("/people/{person_id}/profile/history")
def read_profile_history(
    person_id: PersonId, principal: PrincipalDep, session: ReadSession, settings: SettingsDep, audit: AuditDep,
    dimension: Dimension | None = None, limit: Limit = 100, offset: Offset = 0,
) -> Page[ChangePublic]:
    """Every change of every dimension, oldest first, each with the evidence that caused it."""
    readable_person(session, principal, person_id)
    rows, total = svc.profile_history(
        session, person_id=person_id, dimension=dimension.value if dimension else None, limit=limit, offset=offset,
        links_base=links_base(settings), mlflow_url=settings.mlflow_public_url,
    )
    audit.read(principal, "profile_history", person_id)
    return Page(items=rows, total=total, limit=limit, offset=offset)


@router.post("/profiles/import", status_code=status.HTTP_201_CREATED)
def import_interview_profile(
    data: InterviewImport, principal: PrincipalDep, session: WriteSession, settings: SettingsDep
) -> EvidenceRecorded:
    """HR's interview assessment initialises the profile (admins, or `hr:write` for its organisation)."""
    allowed = principal.org_scope(Scope.HR_WRITE)
    person, evidence, changes = import_interview(
        session, data=data, allowed_organisation_id=allowed, actor=principal.actor, now=utcnow()
    )
    record_change(session, principal, "update", "profile", person.id, "interview import")
    session.commit()
    public = svc.changes_public(session, changes, links_base=links_base(settings), mlflow_url=settings.mlflow_public_url)
    evidence_public = svc.evidence_public(evidence, run_ids={}, links_base=links_base(settings), mlflow_url="")
    return EvidenceRecorded(person_id=person.id, evidence=evidence_public, changes=public)


@router.post("/people/{person_id}/evidence", status_code=status.HTTP_201_CREATED)
def record_evidence(
    person_id: PersonId, data: EvidenceCreate, principal: PrincipalDep, session: WriteSession, settings: SettingsDep
) -> EvidenceRecorded:
    """A quiz or rubric grade (the grader, or an instructor of the item's course about a learner of that
    course). The item's catalog level and weights apply; only admins may give `level` and `weights`."""
    person = subject_person(session, principal, person_id)
    item = None
    if data.item_id is not None:
        item = session.get(CatalogItem, data.item_id)
        if item is None:
            raise ApiError(422, "unknown_item", f"No catalog item {data.item_id!r}.")
    if not may_record_evidence(session, principal, person, item):
        raise not_found("person", person_id) if principal.person_id is None else ApiError(
            403, "not_course_instructor", "Only the grader or the item's instructors may record evidence."
        )
    if not principal.is_admin and (data.level is not None or data.weights is not None or item is None):
        raise ApiError(
            403, "weights_from_catalog",
            "Evidence names its catalog item ('item_id'); its level and weights come from the catalog.",
        )
    evidence, changes = record_observation(
        session, person=person, data=data, item=item, actor=principal.actor, now=utcnow()
    )
    record_change(session, principal, "create", "evidence", evidence.id, data.kind)
    session.commit()
    public = svc.changes_public(session, changes, links_base=links_base(settings), mlflow_url=settings.mlflow_public_url)
    return EvidenceRecorded(
        person_id=person.id, changes=public,
        evidence=svc.evidence_public(evidence, run_ids={}, links_base=links_base(settings), mlflow_url=""),
    )
