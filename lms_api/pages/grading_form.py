"""The rubric grading form's post, recorded by the very function behind `POST /people/{id}/evidence`."""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy.orm import Session

from ..db.engine import Database
from ..db.tables import CatalogItem
from ..errors import ApiError
from ..policy import not_found
from ..principal import Principal
from ..routers.profiles import record_evidence
from ..schemas.profiles import EvidenceCreate
from ..services.people import person_by_name
from ..settings import Settings

PASSED_CHOICES = {"": None, "yes": True, "no": False}


def evidence_from_form(form: dict[str, str]) -> EvidenceCreate:
    try:
        score = float(form.get("score", ""))
    except ValueError as exc:
        raise ApiError(422, "invalid_request", "score: give a number from 0 to 1.") from exc
    if form.get("passed", "") not in PASSED_CHOICES:
        raise ApiError(422, "invalid_request", "passed: choose yes, no or 'from the score'.")
    try:
        return EvidenceCreate(
            kind="rubric", item_id=form.get("item_id") or None, score=score, passed=PASSED_CHOICES[form.get("passed", "")],
            note=form.get("note", ""),
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ApiError(422, "invalid_request", problems) from exc


def grade_from_form(db: Database, principal: Principal, course_id: str, form: dict[str, str], settings: Settings) -> str:
    """Record the form's rubric grade; returns the learner's name. The item must be of this course."""
    data = evidence_from_form(form)
    name = form.get("learner", "").strip()
    with db.write() as session:
        person = person_by_name(session, name=name) if name else None
        if person is None:
            raise not_found("learner", name or "(none given)")
        if data.item_id is None or _course_of(session, data.item_id) != course_id:
            raise ApiError(422, "unknown_item", f"Choose an item of the course '{course_id}'.")
        learner = person.name
        try:
            record_evidence(person_id=person.id, data=data, principal=principal, session=session, settings=settings)
        except ApiError as exc:
            if exc.status_code == 404:  # the same answer whether the name is unknown or not visible
                raise not_found("learner", name) from None
            raise
    return learner


def _course_of(session: Session, item_id: str) -> str | None:
    item = session.get(CatalogItem, item_id)
    return item.course_id if item is not None else None
