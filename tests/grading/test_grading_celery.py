"""The queue at scale: Celery on the real RabbitMQ of this machine, workers running the same task code.
A worker killed mid-grade gives its message back; the grading is graded again once, after its lease."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from grading_fixtures import settings_for, submit_bytes, sweeping_killed_sandboxes
from sqlalchemy import func, select

from practicum.grading.celery_tasks import publish
from practicum.grading.context import GradingContext
from practicum.grading.database import gradings, results, transaction

BROKER = "amqp://guest:guest@127.0.0.1:5672//"
CELERY = os.path.join(os.path.dirname(sys.executable), "celery")


def broker_up() -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", 5672)) == 0


pytestmark = pytest.mark.skipif(not broker_up(), reason="RabbitMQ is not running on 127.0.0.1:5672")


@pytest.fixture
def celery_context(tmp_path, small_build):
    context = GradingContext(settings_for(tmp_path, small_build, executor="celery", workers=0, broker_url=BROKER,
                                          celery_queue=f"practicum-test-{uuid.uuid4().hex[:8]}"))
    yield context
    context.close()


def start_worker(context: GradingContext, log) -> subprocess.Popen:
    env = {**os.environ, **context.settings.to_env()}
    return subprocess.Popen(
        [CELERY, "-A", "practicum.grading.celery_tasks", "worker", "-Q", context.settings.celery_queue, "--concurrency", "1",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )


def states(context: GradingContext) -> dict[str, tuple[str, int]]:
    with transaction(context.engine) as connection:
        return {r.id: (r.state, r.tries) for r in connection.execute(select(gradings.c.id, gradings.c.state, gradings.c.tries))}


def wait_for(condition, timeout: float, what: str, log_path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout} s; worker log:\n{log_path.read_text()[-3000:]}")


def test_celery_workers_grade_what_the_intake_publishes_and_a_killed_one_loses_nothing(celery_context, model_archive, tmp_path):
    with sweeping_killed_sandboxes():
        _grade_through_celery_and_kill_a_worker(celery_context, model_archive, tmp_path)


def _grade_through_celery_and_kill_a_worker(context, model_archive, tmp_path) -> None:
    log_path = tmp_path / "worker.log"
    log = open(log_path, "ab")
    worker = start_worker(context, log)
    replacement = None
    try:
        first = submit_bytes(context, model_archive, learner="ada")
        publish(context.settings, first.grading_id)
        publish(context.settings, first.grading_id)  # a duplicate message grades nothing twice
        wait_for(lambda: states(context)[first.grading_id][0] == "done", 120, "the first grading was not done", log_path)

        second = submit_bytes(context, model_archive, learner="bo")
        publish(context.settings, second.grading_id)
        wait_for(lambda: states(context)[second.grading_id][0] == "running", 60, "the second grading did not start", log_path)
        time.sleep(0.5)
        os.killpg(worker.pid, signal.SIGKILL)  # the worker, its pool process and the sandbox
        worker.wait()
        replacement = start_worker(context, log)  # RabbitMQ gives the unacknowledged message to it
        wait_for(lambda: states(context)[second.grading_id][0] == "done", 180, "the killed grading was not redone", log_path)
        assert states(context)[second.grading_id] == ("done", 2)
        assert states(context)[first.grading_id] == ("done", 1)
        with transaction(context.engine) as connection:
            assert connection.execute(select(func.count()).select_from(results)).scalar_one() == 2
    finally:
        for process in (worker, replacement):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
        log.close()
