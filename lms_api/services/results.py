"""Grade results from the grader: stored once per submission id, then progress and profile follow."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from practicum.contracts.grade_result import GradeResult

from ..audit import record_change
from ..db.engine import Database
from ..db.tables import CatalogItem, Evidence, Person, ProfileChange, ProgressEvent, Result
from ..db.types import utcnow
from ..errors import ApiError
from ..principal import Principal
from ..schemas.common import ensure_storable
from ..schemas.results import ResultPublic
from ..schemas.webhooks import EventType
from .evidence import item_weights
from .people import ensure_person
from .profiles import apply_evidence, mlflow_run_url
from .webhooks import enqueue_event


def body_digest(result: GradeResult) -> str:
    return hashlib.sha256(result.model_dump_json().encode()).hexdigest()


def post_result(db: Database, *, result: GradeResult, principal: Principal) -> tuple[int, bool]:
    """Store `result` unless its submission id is known; returns (result id, created).

    Idempotent under concurrency: the unique submission id decides the one winner; the others
    roll back and find the winner's row. The same id with a different body is a 409.
    """
    ensure_storable(result, "result")
    digest = body_digest(result)
    for _ in range(5):
        with db.write_lock, db.write() as session:
            existing = session.execute(
                select(Result.id, Result.body_sha256).where(Result.submission_id == result.submission_id)
            ).first()
            if existing is not None:
                if existing.body_sha256 != digest:
                    raise ApiError(
                        409, "submission_conflict",
                        f"Submission {result.submission_id!r} was recorded with a different result.",
                    )
                return existing.id, False
            try:
                result_id = _record(session, result=result, digest=digest, principal=principal, now=utcnow())
                session.commit()
                return result_id, True
            except IntegrityError:
                session.rollback()
    raise ApiError(503, "busy", "The result could not be stored; retry with the same submission id.")


def _record(session: Session, *, result: GradeResult, digest: str, principal: Principal, now: datetime) -> int:
    item = session.get(CatalogItem, result.item_id)
    if item is None:
        raise ApiError(422, "unknown_item", f"No catalog item {result.item_id!r}; sync the catalog first.")
    if item.kind != result.kind.value:
        raise ApiError(422, "item_kind_mismatch", f"{result.item_id!r} is a {item.kind}, not a {result.kind.value}.")
    if result.course_id is not None and result.course_id != item.course_id:
        raise ApiError(422, "course_mismatch", f"{result.item_id!r} belongs to course {item.course_id!r}.")
    person = ensure_person(session, name=result.learner)
    attempt = (session.scalar(
        select(func.count()).where(Result.person_id == person.id, Result.item_id == item.id)
    ) or 0) + 1
    first_pass = result.passed and not session.scalar(
        select(func.count()).where(Result.person_id == person.id, Result.item_id == item.id, Result.passed.is_(True))
    )
    row = Result(
        submission_id=result.submission_id, person_id=person.id, item_id=item.id, course_id=item.course_id,
        kind=item.kind, passed=result.passed, score=result.score, attempt=attempt, metrics=dict(result.metrics),
        targets=[t.model_dump(mode="json") for t in result.targets], mlflow_run_id=result.mlflow_run_id,
        dataset_version=result.dataset_version, code_hash=result.code_hash, grader_version=result.grader_version,
        feedback_url=result.feedback_url, started_at=result.started_at, finished_at=result.finished_at,
        received_at=now, body_sha256=digest,
    )
    session.add(row)
    session.flush()  # the unique submission id is checked here
    seconds = max(0, int((result.finished_at - result.started_at).total_seconds()))
    kinds = ["submitted", "passed" if result.passed else "failed"] + (["completed"] if first_pass else [])
    for kind in kinds:
        session.add(ProgressEvent(
            person_id=person.id, item_id=item.id, kind=kind, occurred_at=result.finished_at,
            seconds_spent=seconds if kind == "submitted" else 0, result_id=row.id, recorded_by=principal.actor,
            recorded_at=now,
        ))
    evidence = Evidence(
        person_id=person.id, kind="result", result_id=row.id, item_id=item.id, score=result.score,
        passed=result.passed, level=float(item.level), weights=item_weights(session, item.id),
        recorded_by=principal.actor, observed_at=result.finished_at, recorded_at=now,
    )
    session.add(evidence)
    session.flush()
    apply_evidence(session, person=person, evidence=evidence, now=now)
    enqueue_event(
        session, organisation_id=person.organisation_id, event_type=EventType.RESULT_RECORDED.value, now=now,
        data={"result_id": row.id, "submission_id": row.submission_id, "person": {"id": person.id, "name": person.name},
              "item_id": item.id, "passed": row.passed, "score": row.score, "mlflow_run_id": row.mlflow_run_id},
    )
    record_change(session, principal, "create", "result", row.id, f"submission {result.submission_id[:200]}")
    return row.id


def results_public(session: Session, rows: list[Result], *, mlflow_url: str) -> list[ResultPublic]:
    ids = [r.id for r in rows]
    names = dict(session.execute(
        select(Person.id, Person.name).where(Person.id.in_({r.person_id for r in rows}))
    ).all()) if rows else {}
    changes: dict[int, int] = {}
    if ids:
        changes = dict(session.execute(
            select(Evidence.result_id, func.count(ProfileChange.id))
            .join(ProfileChange, ProfileChange.evidence_id == Evidence.id)
            .where(Evidence.result_id.in_(ids)).group_by(Evidence.result_id)
        ).all())  # type: ignore[arg-type]
    return [
        ResultPublic(
            id=r.id, submission_id=r.submission_id, person_id=r.person_id, learner=names.get(r.person_id, ""),
            item_id=r.item_id, course_id=r.course_id, kind=r.kind, passed=r.passed, score=r.score, attempt=r.attempt,
            metrics=r.metrics, targets=r.targets, mlflow_run_id=r.mlflow_run_id,
            mlflow_run_url=mlflow_run_url(mlflow_url, r.mlflow_run_id) if r.mlflow_run_id else None,
            dataset_version=r.dataset_version, code_hash=r.code_hash, grader_version=r.grader_version,
            feedback_url=r.feedback_url, started_at=r.started_at, finished_at=r.finished_at, received_at=r.received_at,
            profile_changes=changes.get(r.id, 0),
        )
        for r in rows
    ]


def list_results(
    session: Session, *, person_ids: set[int] | None = None, person_id: int | None = None,
    course_id: str | None = None, item_id: str | None = None, passed: bool | None = None,
    since: datetime | None = None, organisation_id: int | None = None, limit: int, offset: int,
) -> tuple[list[Result], int]:
    query = select(Result)
    if organisation_id is not None:
        query = query.join(Person, Person.id == Result.person_id).where(Person.organisation_id == organisation_id)
    if person_ids is not None:
        query = query.where(Result.person_id.in_(person_ids))
    if person_id is not None:
        query = query.where(Result.person_id == person_id)
    if course_id is not None:
        query = query.where(Result.course_id == course_id)
    if item_id is not None:
        query = query.where(Result.item_id == item_id)
    if passed is not None:
        query = query.where(Result.passed.is_(passed))
    if since is not None:
        query = query.where(Result.received_at >= since)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Result.id).limit(limit).offset(offset)).all()
    return list(rows), total
