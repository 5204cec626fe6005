"""The caller as a `Principal`: an LMS token (checked first, locally) or a hub identity (a network call, cached)."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select

from .db.engine import Database
from .db.tables import ApiToken
from .db.types import utcnow
from .deps import DatabaseDep, HubClientDep, SettingsDep
from .errors import ApiError
from .hub_auth import get_current_identity, token_from_header
from .hub_client import HubIdentity
from .principal import Principal
from .services.people import sync_person_from_hub
from .tokens import hash_token, looks_like_lms_token

_ASK_FOR_TOKEN = {"WWW-Authenticate": 'Bearer realm="practicum-lms"'}


def principal_for_token(db: Database, token: str, now: datetime) -> Principal | None:
    with db.read() as session:
        row = session.execute(
            select(ApiToken.id, ApiToken.scopes, ApiToken.organisation_id, ApiToken.expires_at, ApiToken.revoked_at)
            .where(ApiToken.token_hash == hash_token(token))
        ).first()
    if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    scopes = frozenset(row.scopes.split())
    return Principal(
        actor=f"token:{row.id}", name=f"token:{row.id}", is_admin="admin" in scopes, scopes=scopes,
        organisation_id=row.organisation_id, token_id=row.id,
    )


class HubPeopleCache:
    """hub identity -> Principal, so a person is synced from hub groups once per identity change."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._lock = threading.Lock()
        self._entries: dict[tuple[object, ...], tuple[float, Principal]] = {}

    def principal(self, db: Database, identity: HubIdentity) -> Principal:
        key = (identity.name, identity.kind, identity.admin, tuple(sorted(identity.groups)))
        now = time.monotonic()
        with self._lock:
            cached = self._entries.get(key)
        if cached and cached[0] > now:
            return cached[1]
        principal = self._resolve(db, identity)
        with self._lock:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            self._entries[key] = (now + self._seconds, principal)
        return principal

    @staticmethod
    def _resolve(db: Database, identity: HubIdentity) -> Principal:
        if identity.kind == "service":
            return Principal(actor=f"service:{identity.name}", name=identity.name)
        person_id = sync_person_from_hub(db, identity)
        return Principal(actor=f"user:{identity.name}", name=identity.name, person_id=person_id, is_admin=identity.admin)


async def get_principal(request: Request, settings: SettingsDep, hub: HubClientDep, db: DatabaseDep) -> Principal:
    token = token_from_header(request)
    if token is not None and looks_like_lms_token(token):
        principal = await run_in_threadpool(principal_for_token, db, token, utcnow())
        if principal is None:
            raise ApiError(401, "invalid_token", "This LMS token is unknown, expired or revoked.", headers=_ASK_FOR_TOKEN)
        return principal
    identity = await get_current_identity(request, settings, hub)
    people: HubPeopleCache = request.app.state.hub_people
    return await run_in_threadpool(people.principal, db, identity)


PrincipalDep = Annotated[Principal, Depends(get_principal)]
