"""The caller's hub identity."""

from __future__ import annotations

from fastapi import APIRouter

from ..hub_auth import CurrentIdentity
from ..hub_client import HubIdentity
from ..schemas.common import ERROR_RESPONSES

router = APIRouter(tags=["me"], responses=ERROR_RESPONSES)


@router.get("/me")
def read_me(identity: CurrentIdentity) -> HubIdentity:
    return identity
