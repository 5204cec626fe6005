"""Creating and revoking LMS API tokens (the token itself is returned once and never stored)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.tables import ApiToken, Organisation
from ..errors import ApiError
from ..tokens import ORGANISATION_SCOPES, Scope, hash_token, new_token


def create_token(
    session: Session, *, name: str, scopes: list[Scope], organisation_id: int | None, created_by: str,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    if not scopes:
        raise ApiError(422, "no_scopes", "A token needs at least one scope.")
    needs_org = any(scope in ORGANISATION_SCOPES for scope in scopes)
    if needs_org and organisation_id is None:
        raise ApiError(422, "organisation_required", "HR scopes are bound to an organisation: give organisation_id.")
    if organisation_id is not None and session.get(Organisation, organisation_id) is None:
        raise ApiError(422, "unknown_organisation", f"No organisation {organisation_id}.")
    token = new_token()
    row = ApiToken(
        name=name, token_hash=hash_token(token), prefix=token[:8], scopes=" ".join(sorted({s.value for s in scopes})),
        organisation_id=organisation_id, created_by=created_by, expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return row, token


def revoke_token(session: Session, *, token_id: int, now: datetime) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise ApiError(404, "not_found", f"No token {token_id}.")
    if row.revoked_at is None:
        row.revoked_at = now
    session.flush()
    return row


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))
