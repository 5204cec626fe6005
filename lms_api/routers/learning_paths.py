"""Learning paths: next courses and projects from the gap to the person's role target."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ..auth import PrincipalDep
from ..db.types import utcnow
from ..deps import AuditDep, ReadSession
from ..policy import readable_person
from ..schemas.common import ERROR_RESPONSES
from ..schemas.learning_paths import LearningPath
from ..services.learning_paths import learning_path
from .params import PersonId

router = APIRouter(tags=["learning paths"], responses=ERROR_RESPONSES)


@router.get("/people/{person_id}/learning-path")
def read_learning_path(
    person_id: PersonId, principal: PrincipalDep, session: ReadSession, audit: AuditDep,
    limit: Annotated[int, Query(ge=1, le=50)] = 5,
) -> LearningPath:
    person = readable_person(session, principal, person_id)
    audit.read(principal, "learning_path", person_id)
    return learning_path(session, person=person, now=utcnow(), limit=limit)
