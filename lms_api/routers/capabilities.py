"""The capability framework: dimensions, levels and role targets with their stable ids."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from ..auth import PrincipalDep
from ..framework import DIMENSION_TITLES, LEVEL_DESCRIPTIONS, LEVEL_VALUES, ROLE_TARGETS, ROLE_TITLES
from ..schemas.common import ERROR_RESPONSES
from ..services.profiles import FAILURE_RATE, LEARNING_RATE

router = APIRouter(tags=["capabilities"], responses=ERROR_RESPONSES)


class DimensionInfo(BaseModel):
    id: str
    title: str


class LevelInfo(BaseModel):
    id: str
    value: int
    description: str


class RoleTargetInfo(BaseModel):
    id: str
    title: str
    targets: dict[str, int]


class Framework(BaseModel):
    dimensions: list[DimensionInfo]
    levels: list[LevelInfo]
    role_targets: list[RoleTargetInfo]
    update_rule: str


@router.get("/capabilities")
def read_framework(principal: PrincipalDep) -> Framework:
    return Framework(
        dimensions=[DimensionInfo(id=d.value, title=t) for d, t in DIMENSION_TITLES.items()],
        levels=[LevelInfo(id=level.value, value=v, description=LEVEL_DESCRIPTIONS[level]) for level, v in LEVEL_VALUES.items()],
        role_targets=[
            RoleTargetInfo(id=r.value, title=ROLE_TITLES[r], targets={d.value: t for d, t in targets.items()})
            for r, targets in ROLE_TARGETS.items()
        ],
        update_rule=(
            f"D = item level x score; passed and D > v: v += {LEARNING_RATE} x weight x (D - v); "
            f"failed and D < v: v -= {FAILURE_RATE} x weight x (v - D); interview: v = assessed level"
        ),
    )
