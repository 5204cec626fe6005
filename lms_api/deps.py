"""Dependencies on what `create_app` puts in `app.state`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from .hub_client import HubClient
from .oauth import OAuthStateStore
from .settings import Settings


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_hub_client(request: Request) -> HubClient:
    hub: HubClient = request.app.state.hub_client
    return hub


def get_oauth_states(request: Request) -> OAuthStateStore:
    states: OAuthStateStore = request.app.state.oauth_states
    return states


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
HubClientDep = Annotated[HubClient, Depends(get_hub_client)]
OAuthStatesDep = Annotated[OAuthStateStore, Depends(get_oauth_states)]
