"""Workers grade in the sandbox, record one result per grading (even when one is killed mid-grade) and
the outbox delivers it to the LMS once, however long the LMS is down."""

from __future__ import annotations

import base64
import os
import signal
import tempfile
import threading
import time
from pathlib import Path

import pytest
from grading_fixtures import sandbox_cgroup_names, submit_bytes
from mlflow.tracking import MlflowClient
from sqlalchemy import func, select

from practicum.contracts.grade_result import GradeResult
from practicum.grading.database import gradings, outbox, results, transaction
from practicum.grading.feedback import Feedback
from practicum.grading.instructor import queue_view, regrade
from practicum.grading.outbox import deliver_pending
from practicum.grading.worker import LocalPool, run_worker


def result_of(context, grading_id: str) -> tuple[GradeResult, Feedback]:
    with transaction(context.engine) as connection:
        row = connection.execute(select(results).where(results.c.grading_id == grading_id)).one()
    return GradeResult.model_validate_json(row.grade_result), Feedback.model_validate_json(row.feedback)


def hidden_tokens(build) -> set[str]:
    """Patient ids and label rows of the hidden split: none may appear in what the learner reads."""
    tokens = set()
    for path in (build / "hidden").rglob("*.csv"):
        lines = path.read_text().splitlines()
        for line in lines[1:]:
            tokens.add(line)
            tokens.update(cell for cell in line.split(",") if len(cell) >= 6)
    return tokens


def test_a_submission_is_graded_in_the_sandbox_and_its_feedback_holds_nothing_hidden(context, model_archive, small_build):
    receipt = submit_bytes(context, model_archive)
    assert run_worker(context, threading.Event(), once=True) == 1
    graded, feedback = result_of(context, receipt.grading_id)
    assert graded.submission_id == receipt.grading_id and graded.learner == "ada" and graded.item_id == "ehr_complication_risk"
    assert set(graded.metrics) >= {"auroc", "brier"} and [t.metric for t in feedback.targets] == [t.metric for t in graded.targets]
    assert feedback.metrics["auroc"] == float(f"{graded.metrics['auroc']:.3g}")
    assert feedback.error is None and "roc_calibration.png" in feedback.figures
    run = MlflowClient(context.settings.tracking_uri).get_run(graded.mlflow_run_id)
    assert run.data.tags["practicum.grading_id"] == receipt.grading_id
    shown = feedback.to_json() + "".join(base64.b64decode(png).decode("latin-1") for png in feedback.figures.values())
    leaked = [token for token in hidden_tokens(small_build) if token in shown]
    assert not leaked, leaked[:5]


def test_a_regrade_is_a_result_of_its_own(context, model_archive):
    receipt = submit_bytes(context, model_archive)
    run_worker(context, threading.Event(), once=True)
    (again,) = regrade(context, submission_id=receipt.submission_id, by="test")
    assert again == f"{receipt.submission_id}.regrade-1"
    run_worker(context, threading.Event(), once=True)
    first, second = result_of(context, receipt.grading_id)[0], result_of(context, again)[0]
    assert first.submission_id != second.submission_id and first.metrics == second.metrics
    assert queue_view(context)["counts"] == {"done": 2}


def test_the_outbox_waits_while_the_lms_is_down_and_delivers_once(tmp_path, small_build, model_archive, lms):
    from grading_fixtures import settings_for

    from practicum.grading.context import GradingContext

    context = GradingContext(settings_for(tmp_path, small_build, lms_url=lms.url, lms_token="t"))
    receipt = submit_bytes(context, model_archive)
    run_worker(context, threading.Event(), once=True)
    lms.down = True
    for _ in range(3):
        assert deliver_pending(context, now=time.time() + 10_000).waiting == 1
    assert len(lms.posts) == 3 and not lms.stored
    with transaction(context.engine) as connection:
        row = connection.execute(select(outbox)).one()
    assert row.tries == 3 and "HTTP 503" in row.last_error
    lms.down = False
    assert deliver_pending(context, now=time.time() + 10_000).delivered == 1
    assert deliver_pending(context, now=time.time() + 10_000).delivered == 0
    assert list(lms.stored) == [receipt.grading_id]
    context.close()


def test_a_result_the_lms_refuses_is_held_shown_to_the_instructor_and_redelivered_on_request(tmp_path, small_build, model_archive, lms):
    from grading_fixtures import settings_for

    from practicum.grading.context import GradingContext
    from practicum.grading.instructor import redeliver

    context = GradingContext(settings_for(tmp_path, small_build, lms_url=lms.url, lms_token="t"))
    receipt = submit_bytes(context, model_archive)
    run_worker(context, threading.Event(), once=True)
    lms.refusal = 404
    first = deliver_pending(context, now=time.time() + 10_000)
    assert (first.delivered, first.waiting, first.refused) == (0, 0, 1)
    for _ in range(3):  # held: not sent again, however late it is
        assert deliver_pending(context, now=time.time() + 100_000).refused == 1
    assert len(lms.posts) == 1
    (held,) = queue_view(context)["refused_deliveries"]
    assert held["grading_id"] == receipt.grading_id and "HTTP 404" in held["error"] and held["learner"] == "ada"
    assert queue_view(context)["undelivered_results"] == 1
    with pytest.raises(LookupError, match="no refused delivery of nope"):
        redeliver(context, ["nope"])
    lms.refusal = None
    assert redeliver(context) == [receipt.grading_id]
    assert redeliver(context) == []
    assert deliver_pending(context, now=time.time() + 10).delivered == 1
    assert list(lms.stored) == [receipt.grading_id] and not queue_view(context)["refused_deliveries"]
    context.close()


def test_an_lms_asking_to_wait_is_retried_not_refused(tmp_path, small_build, model_archive, lms):
    from grading_fixtures import settings_for

    from practicum.grading.context import GradingContext

    context = GradingContext(settings_for(tmp_path, small_build, lms_url=lms.url, lms_token="t"))
    submit_bytes(context, model_archive)
    run_worker(context, threading.Event(), once=True)
    for status in (429, 408):
        lms.refusal = status
        assert deliver_pending(context, now=time.time() + 10_000).waiting == 1
    lms.refusal = None
    assert deliver_pending(context, now=time.time() + 10_000).delivered == 1
    context.close()


def test_a_worker_killed_mid_grade_is_replaced_its_sandbox_removed_and_the_grading_recorded_once(context, model_archive):
    receipt = submit_bytes(context, model_archive)
    before = sandbox_cgroup_names()
    pool = LocalPool(context.settings, 1)
    pool.keep_alive()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with transaction(context.engine) as connection:
                state = connection.execute(select(gradings.c.state).where(gradings.c.id == receipt.grading_id)).scalar_one()
            left = sandbox_cgroup_names() - before
            if state == "running" and left:
                break
            time.sleep(0.05)
        assert state == "running" and left, "the worker never got its grading into the sandbox"
        (killed,) = pool.pids
        os.kill(killed, signal.SIGKILL)  # the worker only: its sandbox lives on, in the cgroup it made
        while pool.pids:
            time.sleep(0.05)
        assert sandbox_cgroup_names() - before, "the killed worker's sandbox cgroup should still be there"
        pool.reap()  # sees the dead worker (keep_alive would also start another): removes what it left
        assert not (left & sandbox_cgroup_names())
    finally:
        pool.stop()
    with transaction(context.engine) as connection:
        assert connection.execute(select(func.count()).select_from(results)).scalar_one() == 0
    # Its lease runs out; the next worker takes the grading again.
    assert run_worker(context, threading.Event(), once=True) == 0  # still leased
    time.sleep(context.settings.lease_seconds)
    assert run_worker(context, threading.Event(), once=True) == 1
    graded, _ = result_of(context, receipt.grading_id)
    with transaction(context.engine) as connection:
        row = connection.execute(select(gradings).where(gradings.c.id == receipt.grading_id)).one()
        assert connection.execute(select(func.count()).select_from(results)).scalar_one() == 1
    assert (row.state, row.tries) == ("done", 2)
    client = MlflowClient(context.settings.tracking_uri)
    runs = client.search_runs([client.get_run(graded.mlflow_run_id).info.experiment_id], filter_string=f"tags.`practicum.grading_id` = '{receipt.grading_id}'")
    assert [r.info.run_id for r in runs] == [graded.mlflow_run_id]


def test_a_killed_workers_scratch_folders_are_swept_and_a_live_workers_kept(tmp_path, monkeypatch):
    from practicum.graders.course_copies import scratch_root
    from practicum.grading.assignments import _scratch_prefix, sweep_scratch
    from practicum.sandbox.cgroups import OWNER_ENV

    course, temporary = tmp_path / "course", tmp_path / "tmp"
    course.mkdir(), temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    made = {}
    for owner in ("worker-dead", "worker-live"):
        monkeypatch.setenv(OWNER_ENV, owner)
        made[owner] = [Path(tempfile.mkdtemp(prefix=_scratch_prefix(".grading"), dir=scratch_root(course))),
                       Path(tempfile.mkdtemp(prefix=_scratch_prefix("practicum-assignment")))]
        (made[owner][0] / "course").mkdir()
    (course / "source").mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (scratch_root(course) / ".grading.worker-dead.link").symlink_to(outside)  # never followed, never removed

    assert sorted(sweep_scratch([course], "worker-dead")) == sorted(made["worker-dead"])
    assert not any(p.exists() for p in made["worker-dead"]) and all(p.is_dir() for p in made["worker-live"])
    assert (course / "source").is_dir() and outside.is_dir()
