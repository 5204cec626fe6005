"""Learning records as xAPI 1.0.3 statements, and sending them to an LRS."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.tables import CatalogItem, Evidence, Person, ProgressEvent, Result
from ..errors import ApiError
from ..settings import Settings

XAPI_VERSION = "1.0.3"
STATEMENT_NAMESPACE = uuid.UUID("6f1f0a52-4c1e-4f55-9a4b-2d2b5f3c8e11")
VERBS: dict[str, tuple[str, str]] = {
    "started": ("http://adlnet.gov/expapi/verbs/attempted", "attempted"),
    "submitted": ("http://activitystrea.ms/schema/1.0/submit", "submitted"),
    "completed": ("http://adlnet.gov/expapi/verbs/completed", "completed"),
    "passed": ("http://adlnet.gov/expapi/verbs/passed", "passed"),
    "failed": ("http://adlnet.gov/expapi/verbs/failed", "failed"),
    "time_spent": ("http://adlnet.gov/expapi/verbs/progressed", "progressed"),
}
SCORED = ("http://adlnet.gov/expapi/verbs/scored", "scored")
# Evidence recorded outside grading (results have their progress events' statements).
EVIDENCE_KINDS = ("quiz", "rubric", "interview")
# Set by the LRS that stores a statement, never by the client that sends it (xAPI 1.0.3, 2.4.8 and 2.4.9).
LRS_SET = ("stored", "authority")
ACTIVITY_TYPES = {
    "project": "http://adlnet.gov/expapi/activities/performance",
    "assignment": "http://adlnet.gov/expapi/activities/assessment",
}


def activity_base(settings: Settings) -> str:
    if settings.public_url:
        return settings.public_url.rstrip("/") + settings.service_prefix
    return "urn:practicum:lms:"


def home_page(settings: Settings) -> str:
    """The IRL of the system that knows the actors' accounts (JupyterHub): always an http(s) URL."""
    if settings.public_hub_url:
        return settings.public_hub_url.rstrip("/") + "/"
    origin = (settings.public_url or settings.hub_host or settings.service_url).rstrip("/")
    base = "/" + settings.hub_base_url.strip("/") + "/" if settings.hub_base_url.strip("/") else "/"
    return f"{origin}{base}hub/"


def statements(
    session: Session, *, settings: Settings, person_ids: set[int] | None, organisation_id: int | None,
    since: datetime | None, limit: int, offset: int,
) -> list[dict[str, Any]]:
    """Statements of progress events and of quiz, rubric and interview evidence, oldest stored first."""
    window = limit + offset
    query = (
        select(ProgressEvent, Person, CatalogItem)
        .join(Person, Person.id == ProgressEvent.person_id)
        .join(CatalogItem, CatalogItem.id == ProgressEvent.item_id)
    )
    evidence_query = (
        select(Evidence, Person, CatalogItem)
        .join(Person, Person.id == Evidence.person_id)
        .outerjoin(CatalogItem, CatalogItem.id == Evidence.item_id)
        .where(Evidence.kind.in_(EVIDENCE_KINDS))
    )
    if person_ids is not None:
        query = query.where(ProgressEvent.person_id.in_(person_ids))
        evidence_query = evidence_query.where(Evidence.person_id.in_(person_ids))
    if organisation_id is not None:
        query = query.where(Person.organisation_id == organisation_id)
        evidence_query = evidence_query.where(Person.organisation_id == organisation_id)
    if since is not None:
        query = query.where(ProgressEvent.recorded_at >= since)
        evidence_query = evidence_query.where(Evidence.recorded_at >= since)
    rows = session.execute(query.order_by(ProgressEvent.recorded_at, ProgressEvent.id).limit(window)).all()
    evidence_rows = session.execute(evidence_query.order_by(Evidence.recorded_at, Evidence.id).limit(window)).all()
    result_ids = {event.result_id for event, _, _ in rows if event.result_id is not None}
    results = {r.id: r for r in session.scalars(select(Result).where(Result.id.in_(result_ids)))} if result_ids else {}
    base = activity_base(settings)
    homepage = home_page(settings)
    merged = [((e.recorded_at, 0, e.id), _statement(e, p, i, results.get(e.result_id or -1), base, homepage))
              for e, p, i in rows]
    merged += [((ev.recorded_at, 1, ev.id), _evidence_statement(ev, p, i, base, homepage)) for ev, p, i in evidence_rows]
    merged.sort(key=lambda pair: pair[0])
    return [statement for _, statement in merged[offset:window]]


def _actor(person: Person, homepage: str) -> dict[str, Any]:
    return {"objectType": "Agent", "name": person.display_name or person.name,
            "account": {"homePage": homepage, "name": person.name}}


def _evidence_statement(
    evidence: Evidence, person: Person, item: CatalogItem | None, base: str, homepage: str
) -> dict[str, Any]:
    """A quiz, rubric grade or HR interview as a `scored` statement; the recorder is the instructor."""
    if item is not None:
        activity = {"objectType": "Activity", "id": f"{base}items/{item.id}", "definition": {
            "name": {"en-US": item.title}, "type": ACTIVITY_TYPES.get(item.kind, ACTIVITY_TYPES["assignment"])}}
    else:
        activity = {"objectType": "Activity", "id": f"{base}evidence/{evidence.kind}", "definition": {
            "name": {"en-US": {"interview": "Capability interview", "quiz": "Quiz", "rubric": "Rubric grade"}[evidence.kind]},
            "type": ACTIVITY_TYPES["assignment"]}}
    outcome: dict[str, Any] = {"extensions": {f"{base}xapi/extensions/evidence-kind": evidence.kind}}
    if evidence.score is not None:
        outcome.update({"score": {"scaled": evidence.score, "raw": evidence.score, "min": 0, "max": 1}})
    if evidence.passed is not None:
        outcome["success"] = evidence.passed
    if evidence.kind == "interview":
        outcome["extensions"][f"{base}xapi/extensions/capability-levels"] = dict(evidence.weights)
    context: dict[str, Any] = {"platform": "Practicum"}
    if item is not None:
        context["contextActivities"] = {"parent": [{"objectType": "Activity", "id": f"{base}courses/{item.course_id}"}]}
    recorder = evidence.recorded_by
    if recorder.startswith("user:"):
        context["instructor"] = {"objectType": "Agent", "account": {"homePage": homepage, "name": recorder[5:]}}
    return {
        "id": str(uuid.uuid5(STATEMENT_NAMESPACE, f"evidence:{evidence.id}")),
        "actor": _actor(person, homepage), "verb": {"id": SCORED[0], "display": {"en-US": SCORED[1]}},
        "object": activity, "result": outcome, "context": context,
        "timestamp": evidence.observed_at.isoformat(), "stored": evidence.recorded_at.isoformat(),
        "version": XAPI_VERSION,
    }


def _statement(
    event: ProgressEvent, person: Person, item: CatalogItem, result: Result | None, base: str, homepage: str
) -> dict[str, Any]:
    verb_id, verb_name = VERBS[event.kind]
    statement: dict[str, Any] = {
        "id": str(uuid.uuid5(STATEMENT_NAMESPACE, f"progress-event:{event.id}")),
        "actor": _actor(person, homepage),
        "verb": {"id": verb_id, "display": {"en-US": verb_name}},
        "object": {
            "objectType": "Activity", "id": f"{base}items/{item.id}",
            "definition": {"name": {"en-US": item.title}, "type": ACTIVITY_TYPES.get(item.kind, ACTIVITY_TYPES["assignment"])},
        },
        "context": {
            "platform": "Practicum",
            "contextActivities": {"parent": [{"objectType": "Activity", "id": f"{base}courses/{item.course_id}"}]},
        },
        "timestamp": event.occurred_at.isoformat(),
        "stored": event.recorded_at.isoformat(),
        "version": XAPI_VERSION,
    }
    outcome: dict[str, Any] = {}
    if event.seconds_spent:
        outcome["duration"] = f"PT{event.seconds_spent}S"
    if result is not None and event.kind in ("passed", "failed", "completed"):
        outcome.update({
            "score": {"scaled": result.score, "raw": result.score, "min": 0, "max": 1},
            "success": result.passed, "completion": result.passed,
        })
        if result.mlflow_run_id:
            outcome["extensions"] = {f"{base}xapi/extensions/mlflow-run": result.mlflow_run_id}
    if outcome:
        statement["result"] = outcome
    return statement


def send_to_lrs(http: httpx.Client, settings: Settings, batch: list[dict[str, Any]]) -> int:
    """POST the statements to `{lrs_url}/statements`; returns how many the LRS accepted."""
    if not settings.lrs_url:
        raise ApiError(409, "no_lrs", "No LRS is configured (PRACTICUM_LMS_LRS_URL).")
    if not batch:
        return 0
    auth = (settings.lrs_username, settings.lrs_password) if settings.lrs_username else None
    # The LMS is the client here: what the LRS sets (stored, authority) is left to the LRS.
    outgoing = [{k: v for k, v in statement.items() if k not in LRS_SET} for statement in batch]
    try:
        response = http.post(
            settings.lrs_url.rstrip("/") + "/statements", json=outgoing, auth=auth,
            headers={"X-Experience-API-Version": XAPI_VERSION},
        )
    except httpx.HTTPError as exc:
        raise ApiError(502, "lrs_unavailable", f"The LRS did not answer: {type(exc).__name__}") from exc
    if response.status_code not in (200, 204):
        raise ApiError(502, "lrs_refused", f"The LRS answered HTTP {response.status_code}.")
    return len(batch)
