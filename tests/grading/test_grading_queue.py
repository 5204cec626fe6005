"""The queue under load: 200 submissions from 50 learners at once, claimed by racing workers, each graded
once; on SQLite and on the machine's real PostgreSQL (a fresh database per test)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from grading_fixtures import settings_for, submit_bytes
from sqlalchemy import func, select

from practicum.grading import queue
from practicum.grading.attempts import AttemptLimit
from practicum.grading.context import GradingContext
from practicum.grading.database import gradings, outbox, results, transaction
from practicum.grading.instructor import set_attempt_limit


def test_200_submissions_from_50_learners_are_each_graded_once(tmp_path, small_build, database_url, model_archive):
    context = GradingContext(settings_for(tmp_path, small_build, database_url=database_url))
    set_attempt_limit(context, "ehr_complication_risk", AttemptLimit(total=None, per_day=None), by="test")
    learners = [f"learner-{i:02d}" for i in range(50)]
    with ThreadPoolExecutor(8) as pool:
        receipts = list(pool.map(lambda i: submit_bytes(context, model_archive, learner=learners[i % 50]), range(200)))
    assert len({r.grading_id for r in receipts}) == 200

    graded: list[str] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        while (claimed := queue.claim(context.engine, name, 30)) is not None:
            assert queue.finish(context.engine, claimed, grade_result="{}", feedback="{}")
            with lock:
                graded.append(claimed.grading_id)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(graded) == sorted(r.grading_id for r in receipts)  # none lost, none twice
    with transaction(context.engine) as connection:
        assert connection.execute(select(func.count()).select_from(results)).scalar_one() == 200
        assert connection.execute(select(func.count()).select_from(outbox)).scalar_one() == 200
        assert connection.execute(select(func.max(gradings.c.tries))).scalar_one() == 1
    context.close()


def test_two_tries_of_one_grading_record_one_result(context, model_archive):
    receipt = submit_bytes(context, model_archive)
    first = queue.claim(context.engine, "w1", lease_seconds=-1)  # its lease is over at once: as if it had died
    second = queue.claim(context.engine, "w2", lease_seconds=30)
    assert first and second and (first.grading_id, second.grading_id) == (receipt.grading_id,) * 2
    assert not queue.renew(context.engine, first, 30)  # the first worker learns it lost the grading
    assert queue.finish(context.engine, second, grade_result="{}", feedback="{}")
    assert not queue.finish(context.engine, first, grade_result="{}", feedback="{}")
    assert queue.claim(context.engine, "w3", 30) is None


def test_a_failing_grader_is_retried_then_given_up_with_its_reason(context, model_archive):
    receipt = submit_bytes(context, model_archive)
    for attempt in range(1, context.settings.max_tries + 1):
        claimed = queue.claim(context.engine, "w", 30)
        assert claimed and claimed.try_number == attempt
        state = queue.give_up_or_retry(context.engine, claimed, context.settings.max_tries, "OSError: disk full")
    assert state == "failed" and queue.claim(context.engine, "w", 30) is None
    with transaction(context.engine) as connection:
        row = connection.execute(select(gradings).where(gradings.c.id == receipt.grading_id)).one()
    assert (row.state, row.error) == ("failed", "OSError: disk full")
