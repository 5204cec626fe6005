"""Dependencies on what `create_app` puts in `app.state`.

The getters are `async def`: FastAPI runs a plain `def` dependency in a worker thread, and a thread
hop costs far more than reading an attribute.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from .audit import AuditBuffer
from .db.engine import Database
from .hub_client import HubClient
from .oauth import OAuthStateStore
from .settings import Settings


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_hub_client(request: Request) -> HubClient:
    hub: HubClient = request.app.state.hub_client
    return hub


async def get_oauth_states(request: Request) -> OAuthStateStore:
    states: OAuthStateStore = request.app.state.oauth_states
    return states


async def get_database(request: Request) -> Database:
    db: Database = request.app.state.database
    return db


async def get_audit(request: Request) -> AuditBuffer:
    audit: AuditBuffer = request.app.state.audit
    return audit


def read_session(db: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    with db.read() as session:
        yield session


def write_session(db: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    with db.write() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
HubClientDep = Annotated[HubClient, Depends(get_hub_client)]
OAuthStatesDep = Annotated[OAuthStateStore, Depends(get_oauth_states)]
DatabaseDep = Annotated[Database, Depends(get_database)]
AuditDep = Annotated[AuditBuffer, Depends(get_audit)]
ReadSession = Annotated[Session, Depends(read_session)]
WriteSession = Annotated[Session, Depends(write_session)]
