"""Path and query parameters shared by the routers (bounded so databases never see absurd values)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query

from ..schemas.common import MAX_ID

PersonId = Annotated[int, Path(ge=1, le=MAX_ID, description="LMS person id")]
ObjectId = Annotated[int, Path(ge=1, le=MAX_ID)]
CourseId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
ItemId = Annotated[
    str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?$")
]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000)]
Format = Annotated[Literal["json", "csv"], Query(description="csv: a spreadsheet export of the same rows")]
NameFilter = Annotated[str | None, Query(min_length=1, max_length=200, pattern=r"^[^\x00]*$")]
