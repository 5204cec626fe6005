"""Scoped API tokens for machine clients (admins only)."""

from __future__ import annotations

from fastapi import APIRouter, status

from ..audit import record_change
from ..auth import PrincipalDep
from ..db.tables import ApiToken
from ..db.types import utcnow
from ..deps import ReadSession, WriteSession
from ..schemas.common import ERROR_RESPONSES
from ..schemas.tokens import TokenCreate, TokenCreated, TokenPublic
from ..services import tokens as svc
from .params import ObjectId

router = APIRouter(prefix="/tokens", tags=["tokens"], responses=ERROR_RESPONSES)


def token_public(row: ApiToken) -> TokenPublic:
    return TokenPublic(
        id=row.id, name=row.name, prefix=row.prefix, scopes=row.scopes.split(), organisation_id=row.organisation_id,
        created_by=row.created_by, created_at=row.created_at, expires_at=row.expires_at, revoked_at=row.revoked_at,
    )


@router.post("", status_code=status.HTTP_201_CREATED)
def create_token(data: TokenCreate, principal: PrincipalDep, session: WriteSession) -> TokenCreated:
    principal.require_admin()
    row, token = svc.create_token(
        session, name=data.name, scopes=data.scopes, organisation_id=data.organisation_id,
        created_by=principal.actor, expires_at=data.expires_at,
    )
    record_change(session, principal, "create", "token", row.id, row.scopes)
    session.commit()
    return TokenCreated(**token_public(row).model_dump(), token=token)


@router.get("")
def list_tokens(principal: PrincipalDep, session: ReadSession) -> list[TokenPublic]:
    principal.require_admin()
    return [token_public(t) for t in svc.list_tokens(session)]


@router.delete("/{token_id}")
def revoke_token(token_id: ObjectId, principal: PrincipalDep, session: WriteSession) -> TokenPublic:
    principal.require_admin()
    row = svc.revoke_token(session, token_id=token_id, now=utcnow())
    record_change(session, principal, "delete", "token", token_id, "revoked")
    session.commit()
    return token_public(row)
