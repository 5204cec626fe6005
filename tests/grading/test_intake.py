"""The intake: what it refuses (with nothing stored), what it stores before it answers, attempt limits."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from grading_fixtures import PROJECT, submit_bytes, tar_of
from sqlalchemy import func, select

from practicum.grading.archives import BadSubmission
from practicum.grading.attempts import AttemptLimit, AttemptLimitReached
from practicum.grading.database import gradings, submissions, transaction
from practicum.grading.instructor import set_attempt_limit
from practicum.grading.items import UnknownItem
from practicum.grading.store import TooLarge

MLMODEL = {"model/MLmodel": b"flavors: {}\n"}


def stored_rows(context) -> int:
    with transaction(context.engine) as connection:
        return connection.execute(select(func.count()).select_from(submissions)).scalar_one()


def stored_blobs(context) -> list:
    return sorted(p.name for p in context.store.root.rglob("*") if p.is_file())


def test_a_submission_is_on_disk_and_queued_when_the_receipt_comes(context, model_archive):
    receipt = submit_bytes(context, model_archive)
    assert context.store.verified_path(receipt.blob).read_bytes() == model_archive
    with transaction(context.engine) as connection:
        row = connection.execute(select(gradings).where(gradings.c.id == receipt.grading_id)).one()
    assert (row.state, row.reason, row.submission_id) == ("queued", "submission", receipt.submission_id)
    assert receipt.attempts_left.today == 2 and receipt.attempts_left.total == 9
    again = submit_bytes(context, model_archive)
    assert again.blob == receipt.blob and again.submission_id != receipt.submission_id  # same bytes: one blob
    assert len(stored_blobs(context)) == 1


@pytest.mark.parametrize(
    "archive, reason",
    [
        (b"not a tar at all" * 100, "not a tar archive"),
        (tar_of({"model/conda.yaml": b"x"}), "no model/MLmodel"),
        (tar_of({**MLMODEL, "../outside.py": b"x"}), "outside its folder"),
        (tar_of({**MLMODEL, "/etc/cron.d/x": b"x"}), "outside its folder"),
        (tar_of(MLMODEL, links={"model/python_model.pkl": "/hidden/labels.csv"}), "not a folder or a regular file"),
        (tar_of({**MLMODEL, "elsewhere/x.py": b"x"}), "neither under model/"),
    ],
    ids=["not-tar", "no-mlmodel", "dot-dot", "absolute", "symlink", "stray-file"],
)
def test_a_malformed_submission_is_refused_and_nothing_is_stored(context, model_archive, archive, reason):
    kept = submit_bytes(context, model_archive)
    with pytest.raises(BadSubmission, match=reason):
        submit_bytes(context, archive)
    assert stored_rows(context) == 1 and stored_blobs(context) == [kept.blob]


def test_an_upload_over_the_size_limit_is_cut_off(tmp_path, small_build, model_archive):
    from grading_fixtures import settings_for

    from practicum.grading.context import GradingContext

    small = GradingContext(settings_for(tmp_path, small_build, max_upload_bytes=len(model_archive) - 1))
    with pytest.raises(TooLarge):
        submit_bytes(small, model_archive)
    assert not [p for p in small.store.root.rglob("*") if p.is_file()]


def test_an_unknown_item_is_named_with_the_known_ones(context, model_archive):
    with pytest.raises(UnknownItem, match="glucose_cgm_forecasting"):
        submit_bytes(context, model_archive, item_id="no_such_project")


def test_attempts_per_day_and_in_total_at_their_boundaries(context, model_archive):
    day = datetime(2026, 12, 2, 23, 59, tzinfo=UTC)
    set_attempt_limit(context, PROJECT, AttemptLimit(total=4, per_day=2), by="test")
    assert submit_bytes(context, model_archive, now=day).attempts_left.today == 1
    assert submit_bytes(context, model_archive, now=day).attempts_left.today == 0
    with pytest.raises(AttemptLimitReached, match="today") as refused:
        submit_bytes(context, model_archive, now=day)
    assert refused.value.left.resets_at == datetime(2026, 12, 3, tzinfo=UTC)
    submit_bytes(context, model_archive, learner="grace", now=day)  # another learner's attempts are their own
    next_day = day + timedelta(minutes=1)
    left = submit_bytes(context, model_archive, now=next_day).attempts_left
    assert (left.total, left.today) == (1, 1)
    submit_bytes(context, model_archive, now=next_day)
    with pytest.raises(AttemptLimitReached, match="every allowed attempt"):
        submit_bytes(context, model_archive, now=next_day + timedelta(days=5))
    assert stored_rows(context) == 5


def test_simultaneous_submissions_cannot_share_the_last_attempt(tmp_path, small_build, database_url, model_archive):
    from grading_fixtures import settings_for

    from practicum.grading.context import GradingContext

    context = GradingContext(settings_for(tmp_path, small_build, database_url=database_url))
    set_attempt_limit(context, PROJECT, AttemptLimit(total=3, per_day=None), by="test")
    outcomes: list[str] = []

    def one() -> None:
        try:
            submit_bytes(context, model_archive)
            outcomes.append("stored")
        except AttemptLimitReached:
            outcomes.append("refused")

    threads = [threading.Thread(target=one) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused"] * 7 + ["stored"] * 3
    assert stored_rows(context) == 3
