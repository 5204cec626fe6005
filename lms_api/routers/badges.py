"""Open Badges 3.0: the issuer's public key and profile, the revocation list, a person's badges, revoking."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import Field

from ..audit import record_change
from ..auth import PrincipalDep
from ..badge_credential import BadgeIssuer
from ..db.tables import Badge, Person
from ..db.types import utcnow
from ..deps import AuditDep, ReadSession, WriteSession
from ..policy import may_read_person, not_found, readable_person
from ..schemas.common import ERROR_RESPONSES, InputModel, Text
from ..services import badges as svc
from .params import PersonId

router = APIRouter(tags=["badges"], responses=ERROR_RESPONSES)
BadgeId = Annotated[str, Path(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]


class Revocation(InputModel):
    reason: Annotated[Text, Field(min_length=1, max_length=500)]


def _issuer(request: Request) -> BadgeIssuer:
    issuer: BadgeIssuer = request.app.state.badge_issuer
    return issuer


@router.get("/badges/jwks.json")
def issuer_keys(request: Request) -> dict[str, Any]:
    """The issuer's public keys (JWK set): what verifiers check badges against. Public."""
    return {"keys": [_issuer(request).jwk]}


@router.get("/badges/issuer")
def issuer_profile(request: Request) -> dict[str, Any]:
    """The issuer's Open Badges 3.0 Profile. Public."""
    return _issuer(request).profile()


@router.get("/badges/revocations")
def revocations(request: Request, session: ReadSession) -> dict[str, Any]:
    """The revocation list every badge's `credentialStatus` names (1EdTech revocation list style). Public."""
    return svc.revocation_list(session, _issuer(request))


@router.get("/people/{person_id}/badges")
def list_person_badges(
    person_id: PersonId, principal: PrincipalDep, session: ReadSession, audit: AuditDep
) -> list[dict[str, Any]]:
    readable_person(session, principal, person_id)
    audit.read(principal, "badges", f"person:{person_id}")
    return [svc.badge_public(b) for b in svc.person_badges(session, person_id=person_id)]


@router.get("/badges/{badge_id}")
def read_badge(badge_id: BadgeId, principal: PrincipalDep, session: ReadSession, audit: AuditDep) -> dict[str, Any]:
    badge = session.get(Badge, badge_id)
    if badge is None or not may_read_person(session, principal, _owner(session, badge)):
        raise not_found("badge", badge_id)
    audit.read(principal, "badge", badge_id)
    return svc.badge_public(badge)


@router.post("/badges/{badge_id}/revoke")
def revoke(badge_id: BadgeId, data: Revocation, principal: PrincipalDep, session: WriteSession) -> dict[str, Any]:
    """Revoke a badge (admins): it joins the public revocation list that `badge verify --online` checks."""
    principal.require_admin()
    badge = svc.revoke_badge(session, badge_id=badge_id, reason=data.reason, now=utcnow())
    record_change(session, principal, "update", "badge", badge_id, "revoked")
    session.commit()
    return svc.badge_public(badge)


def _owner(session: ReadSession, badge: Badge) -> Person:
    person = session.get(Person, badge.person_id)
    assert person is not None  # badges cascade with their person
    return person
