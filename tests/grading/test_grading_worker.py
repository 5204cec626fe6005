"""Workers grade in the sandbox, record one result per grading (even when one is killed mid-grade) and
the outbox delivers it to the LMS once, however long the LMS is down."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import threading
import time

from grading_fixtures import submit_bytes, sweeping_killed_sandboxes
from mlflow.tracking import MlflowClient
from sqlalchemy import func, select

from practicum.contracts.grade_result import GradeResult
from practicum.grading.database import gradings, outbox, results, transaction
from practicum.grading.feedback import Feedback
from practicum.grading.instructor import queue_view, regrade
from practicum.grading.outbox import deliver_pending
from practicum.grading.worker import run_worker


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


def test_a_worker_killed_mid_grade_is_replaced_and_the_grading_recorded_once(context, model_archive):
    with sweeping_killed_sandboxes():
        _kill_a_worker_mid_grade(context, model_archive)


def _kill_a_worker_mid_grade(context, model_archive) -> None:
    receipt = submit_bytes(context, model_archive)
    env = {**os.environ, **context.settings.to_env()}
    worker = subprocess.Popen([sys.executable, "-m", "practicum.grading", "worker"], env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with transaction(context.engine) as connection:
                state = connection.execute(select(gradings.c.state).where(gradings.c.id == receipt.grading_id)).scalar_one()
            if state == "running":
                break
            time.sleep(0.05)
        assert state == "running"
        time.sleep(0.5)  # well into the grading: its sandbox runs
        os.killpg(worker.pid, signal.SIGKILL)  # the worker and the sandbox it started
        worker.wait()
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
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
