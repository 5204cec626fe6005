"""Badges: issued with the first pass of a project (in the result's transaction), listed, revoked."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ..badge_credential import BadgeIssuer, PassedProject, badge_credential
from ..db.prepared import DriverCursor, WriteStatement
from ..db.tables import Badge
from ..errors import ApiError

_INSERT_BADGE = WriteStatement(insert(Badge.__table__), [
    "id", "person_id", "result_id", "item_id", "key_id", "credential", "issued_at",
])


def issue_badge(cursor: DriverCursor, issuer: BadgeIssuer, *, person_id: int, passed: PassedProject) -> str:
    """Sign and store the credential of `passed`; returns the badge id."""
    token = issuer.sign(badge_credential(issuer, passed))
    cursor.write(_INSERT_BADGE, {
        "id": passed.badge_id, "person_id": person_id, "result_id": passed.result_id, "item_id": passed.item_id,
        "key_id": issuer.key_id, "credential": token, "issued_at": passed.issued_at,
    })
    return passed.badge_id


def new_badge_id() -> str:
    return str(uuid.uuid4())


def badge_public(badge: Badge) -> dict[str, Any]:
    return {
        "id": badge.id, "credential_id": f"urn:uuid:{badge.id}", "person_id": badge.person_id, "item_id": badge.item_id,
        "result_id": badge.result_id, "key_id": badge.key_id, "issued_at": badge.issued_at,
        "revoked_at": badge.revoked_at, "revocation_reason": badge.revocation_reason, "credential": badge.credential,
    }


def person_badges(session: Session, *, person_id: int) -> list[Badge]:
    return list(session.scalars(select(Badge).where(Badge.person_id == person_id).order_by(Badge.issued_at, Badge.id)))


def revoke_badge(session: Session, *, badge_id: str, reason: str, now: datetime) -> Badge:
    badge = session.get(Badge, badge_id)
    if badge is None:
        raise ApiError(404, "not_found", f"No badge {badge_id[:40]}.")
    if badge.revoked_at is None:
        badge.revoked_at, badge.revocation_reason = now, reason
        session.flush()
    return badge


def revocation_list(session: Session, issuer: BadgeIssuer) -> dict[str, Any]:
    """The issuer's revocation list (the `credentialStatus` of every badge names it)."""
    rows = session.execute(
        select(Badge.id, Badge.revoked_at, Badge.revocation_reason).where(Badge.revoked_at.is_not(None))
        .order_by(Badge.revoked_at)
    )
    return {
        "id": f"{issuer.base}badges/revocations", "issuer": issuer.issuer_id,
        "revokedCredentials": [
            {"id": f"urn:uuid:{badge_id}", "revoked": True, "revokedAt": at.isoformat(),
             "revocationReason": reason or ""}
            for badge_id, at, reason in rows
        ],
    }
