"""Take a learner's submission: check it, store it durably, queue its grading, then answer.

The answer (a ``Receipt``) is given only once the archive is on disk and the submission and its
grading are committed: an acknowledged submission survives any crash after it. The attempt limit is
checked in the same transaction that counts the submission, under a lock on the learner and item, so
that simultaneous submissions cannot both take the last attempt.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection

from practicum.contracts.grade_result import ItemKind

from .archives import BadSubmission, check_submission
from .assignments import snapshot_assignment
from .attempts import AttemptsLeft, after_one_more, attempts_left, check_attempt_allowed, effective_limit
from .context import GradingContext
from .database import gradings, lock_key, submissions, transaction
from .items import GradableItem, item_named
from .store import IncomingBlob


@dataclass(frozen=True)
class Receipt:
    submission_id: str
    grading_id: str
    learner: str
    item_id: str
    blob: str
    size_bytes: int
    submitted_at: datetime
    attempts_left: AttemptsLeft

    def to_json(self) -> dict[str, object]:
        return {
            "submission_id": self.submission_id,
            "grading_id": self.grading_id,
            "learner": self.learner,
            "item_id": self.item_id,
            "sha256": self.blob,
            "size_bytes": self.size_bytes,
            "submitted_at": self.submitted_at.isoformat(),
            "attempts_left": self.attempts_left.to_json(),
        }


class NotReady(RuntimeError):
    """The service cannot grade at all (no hidden split): nothing is taken, no attempt is used."""


def precheck(context: GradingContext, *, learner: str, item_id: str, now: datetime | None = None) -> AttemptsLeft:
    """Refuse early (before an upload is read) when no attempt is left; ``submit`` checks again."""
    item = item_named(context.items, item_id)
    if item.kind is ItemKind.PROJECT and not (context.settings.datasets_dir / "hidden").is_dir():
        raise NotReady(
            f"this lab cannot grade yet: {context.settings.datasets_dir} has no hidden test split "
            "(build the datasets: make datasets, or practicum datasets build)"
        )
    now = now or datetime.now(UTC)
    with transaction(context.engine) as connection:
        left = attempts_left(connection, learner, item_id, effective_limit(connection, item_id, item.default_limit), now)
    check_attempt_allowed(left, item_id)
    return left


def submit(context: GradingContext, *, learner: str, item_id: str, upload: IncomingBlob, now: datetime | None = None) -> Receipt:
    """Store ``upload`` (an archive being received; discarded if refused) as ``learner``'s submission."""
    try:
        item = item_named(context.items, item_id)
        if item.kind is not ItemKind.PROJECT:
            raise BadSubmission(f"{item_id} is an nbgrader assignment: submit it with nbgrader, then ask for its grading without a file")
        check_submission(upload.partial)
        blob = upload.commit()
    except BaseException:
        upload.discard()
        raise
    return _record(context, learner, item, blob, upload.size, now or datetime.now(UTC))


def submit_assignment(context: GradingContext, *, learner: str, item_id: str, now: datetime | None = None) -> Receipt:
    """Take a copy of ``learner``'s newest nbgrader submission of ``item_id`` from their inbound and queue it."""
    item = item_named(context.items, item_id)
    if item.kind is not ItemKind.ASSIGNMENT:
        raise BadSubmission(f"{item_id} is a project: send its model (practicum submit {item_id} MODEL_DIR)")
    archive = snapshot_assignment(context.settings, learner, item)
    blob = context.store.put(archive, context.settings.max_upload_bytes)
    return _record(context, learner, item, blob, len(archive), now or datetime.now(UTC))


def _record(context: GradingContext, learner: str, item: GradableItem, blob: str, size: int, now: datetime) -> Receipt:
    item_id = item.item_id
    with transaction(context.engine) as connection:
        lock_key(connection, f"attempts:{learner}:{item_id}")
        left = attempts_left(connection, learner, item_id, effective_limit(connection, item_id, item.default_limit), now)
        check_attempt_allowed(left, item_id)
        # Ids travel in URL paths and MLflow filters: an assignment's "/" becomes "--".
        submission_id = f"{item_id.replace('/', '--')}.{uuid.uuid4().hex}"
        connection.execute(
            submissions.insert().values(
                id=submission_id, learner=learner, kind=item.kind.value, item_id=item_id, course_id=item.course_id,
                blob=blob, size_bytes=size, submitted_at=now,
            )
        )
        queue_grading(connection, submission_id, grading_id=submission_id, reason="submission", now=now)
    return Receipt(
        submission_id=submission_id, grading_id=submission_id, learner=learner, item_id=item_id, blob=blob,
        size_bytes=size, submitted_at=now, attempts_left=after_one_more(left),
    )


def queue_grading(connection: Connection, submission_id: str, *, grading_id: str, reason: str, now: datetime) -> None:
    connection.execute(
        gradings.insert().values(id=grading_id, submission_id=submission_id, reason=reason, state="queued", tries=0, queued_at=now)
    )


def receive(context: GradingContext, data: bytes) -> IncomingBlob:
    """An upload of bytes already in memory (the CLI on the grader's machine, tests)."""
    upload = context.store.incoming(context.settings.max_upload_bytes)
    try:
        upload.write(data)
    except BaseException:
        upload.discard()
        raise
    return upload
