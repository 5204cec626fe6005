"""The caller as a `Principal`: an LMS token (checked first, locally) or a hub identity (a network call, cached)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import bindparam, select

from .db.engine import Database
from .db.loop_reader import LoopReader
from .db.prepared import ReadQuery, Row
from .db.tables import ApiToken, Person, PersonRole
from .db.types import utcnow
from .errors import ApiError
from .hub_auth import get_current_identity, token_from_header
from .hub_client import HubIdentity
from .principal import Principal
from .services.people import sync_person_from_hub
from .tokens import Scope, hash_token, looks_like_lms_token

_ASK_FOR_TOKEN = {"WWW-Authenticate": 'Bearer realm="practicum-lms"'}

TOKEN_COLUMNS = (ApiToken.id, ApiToken.scopes, ApiToken.organisation_id, ApiToken.expires_at, ApiToken.revoked_at)


# Checked on every request (no cache): a revoked or expired token is refused at once, by every
# worker and after a revocation from the CLI alike. It is one lookup on a unique index.
TOKEN_QUERY = ReadQuery(select(*TOKEN_COLUMNS).where(ApiToken.token_hash == bindparam("token_hash")))

# The organisation a person reads as HR: an admin gave them the role `hr` and placed them there.
HR_ORGANISATION_QUERY = (
    select(Person.organisation_id).join(PersonRole, PersonRole.person_id == Person.id)
    .where(Person.id == bindparam("person_id"), PersonRole.role == "hr", Person.organisation_id.is_not(None))
)


def principal_from_token_row(row: Row | None, now: datetime) -> Principal | None:
    """The principal of a token row (the `TOKEN_COLUMNS`), None when it may not act (revoked, expired)."""
    if row is None:
        return None
    token_id, scopes_text, organisation_id, expires_at, revoked_at = row[:5]
    if revoked_at is not None or (expires_at is not None and expires_at <= now):
        return None
    scopes = frozenset(scopes_text.split())
    return Principal(
        actor=f"token:{token_id}", name=f"token:{token_id}", is_admin="admin" in scopes, scopes=scopes,
        organisation_id=organisation_id, token_id=token_id,
    )


class HubPeopleCache:
    """hub identity -> Principal, so a person is synced from hub groups once per identity change."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._lock = threading.Lock()
        self._entries: dict[tuple[object, ...], tuple[float, Principal]] = {}

    @staticmethod
    def _key(identity: HubIdentity) -> tuple[object, ...]:
        return (identity.name, identity.kind, identity.admin, tuple(sorted(identity.groups)))

    def forget_all(self) -> None:
        with self._lock:
            self._entries = {}

    def cached(self, identity: HubIdentity) -> Principal | None:
        """The principal if it is known and fresh (cheap: no database; safe on the event loop)."""
        with self._lock:
            cached = self._entries.get(self._key(identity))
        if cached and cached[0] > time.monotonic():
            return cached[1]
        return None

    def principal(self, db: Database, identity: HubIdentity) -> Principal:
        cached = self.cached(identity)
        if cached is not None:
            return cached
        principal = self._resolve(db, identity)
        now = time.monotonic()
        with self._lock:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            self._entries[self._key(identity)] = (now + self._seconds, principal)
        return principal

    @staticmethod
    def _resolve(db: Database, identity: HubIdentity) -> Principal:
        if identity.kind == "service":
            return Principal(actor=f"service:{identity.name}", name=identity.name)
        person_id, active = sync_person_from_hub(db, identity)
        if not active:
            # Deactivated (SCIM `active: false`, or an admin): refused, and not cached, so reactivation
            # counts at once; a deactivation counts within `identity_cache_seconds`.
            raise ApiError(403, "account_inactive", "This account is deactivated in the LMS.")
        with db.read() as session:
            hr_organisation = session.scalar(HR_ORGANISATION_QUERY, {"person_id": person_id})
        # An HR person reads their organisation as an `hr:read` token bound to it would (the HR pages).
        return Principal(
            actor=f"user:{identity.name}", name=identity.name, person_id=person_id, is_admin=identity.admin,
            scopes=frozenset({Scope.HR_READ}) if hr_organisation is not None else frozenset(),
            organisation_id=hr_organisation,
        )


@dataclass(frozen=True)
class Credentials:
    """What a request presents: an LMS token (its hash, not checked yet) or a hub user's principal.

    Routes take `PrincipalDep`. The hottest read takes `CredentialsDep` instead, to check the token in
    the same statement that reads its data (one database round trip, and still no token cache).
    """

    token_hash: str | None = None
    principal: Principal | None = None


def invalid_token() -> ApiError:
    return ApiError(401, "invalid_token", "This LMS token is unknown, expired or revoked.", headers=_ASK_FOR_TOKEN)


async def get_credentials(request: Request) -> Credentials:
    """Reads the app's state directly (no sub-dependencies): this runs on every request."""
    token = token_from_header(request)
    if token is not None and looks_like_lms_token(token):
        return Credentials(token_hash=hash_token(token))
    state = request.app.state
    identity = await get_current_identity(request, state.settings, state.hub_client)
    people: HubPeopleCache = state.hub_people
    cached = people.cached(identity)
    if cached is not None:
        return Credentials(principal=cached)
    return Credentials(principal=await run_in_threadpool(people.principal, state.database, identity))


async def get_principal(request: Request) -> Principal:
    credentials = await get_credentials(request)
    if credentials.principal is not None:
        return credentials.principal
    reader: LoopReader = request.app.state.loop_reader
    rows = await reader.rows(TOKEN_QUERY, token_hash=credentials.token_hash)
    principal = principal_from_token_row(rows[0] if rows else None, utcnow())
    if principal is None:
        raise invalid_token()
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
CredentialsDep = Annotated[Credentials, Depends(get_credentials)]
