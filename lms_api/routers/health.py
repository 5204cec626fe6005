"""Liveness: answers without authentication."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

router = APIRouter(tags=["health"])


class HealthPublic(BaseModel):
    status: Literal["ok"]
    version: str


def package_version() -> str:
    try:
        return version("practicum")
    except PackageNotFoundError:
        return "0+unknown"


@router.get("/health")
def read_health() -> HealthPublic:
    return HealthPublic(status="ok", version=package_version())
