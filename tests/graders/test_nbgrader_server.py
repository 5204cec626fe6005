"""One nbgrader process autogrades one submission after another (graders.nbgrader_server): kept between
gradings that went well, replaced after one that failed or ran out of time, never left running the grading."""

from __future__ import annotations

import os

import pytest
from test_course_copies import (
    RIGHT,
    answered,
    course_here,  # noqa: F401 (a fixture)
)
from test_exchange_collect import (
    ASSIGNMENT,
    COURSE,
    NBGRADER,
    generated,  # noqa: F401 (a fixture)
    nbgrader_env,
)
from test_exchange_collect import course as collector_course  # noqa: F401 (a fixture)

from practicum.graders.autograde import (
    AutogradeError,
    autograde_submission,
    close_autograde_servers,
    idle_autograde_servers,
)
from practicum.graders.course_copies import copy_for_grading, grading_config


@pytest.fixture(autouse=True)
def no_servers_before_or_after():
    close_autograde_servers()
    yield
    close_autograde_servers()
    assert idle_autograde_servers() == []


def grade(course, learner: str, where, **options):
    folder = answered(course, learner, RIGHT)
    copy = copy_for_grading(course.root, ASSIGNMENT, where, learner, grading_config(COURSE, None))
    return autograde_submission(copy, COURSE, ASSIGNMENT, learner, nbgrader=str(NBGRADER), env=nbgrader_env(), submission=folder, **options)


def server_pids() -> list[int]:
    return [pid for pid, _ in idle_autograde_servers()]


def test_one_process_grades_one_submission_after_another(course_here, tmp_path):  # noqa: F811
    first = grade(course_here, "ada", tmp_path / "ada")
    (pid,) = server_pids()
    second = grade(course_here, "bo", tmp_path / "bo")
    assert server_pids() == [pid]
    assert first.score == second.score == first.max_score > 0
    assert os.waitpid(pid, os.WNOHANG) == (0, 0)  # still running, alone


def test_a_failed_grading_takes_its_process_with_it_and_the_next_gets_a_fresh_one(course_here, tmp_path):  # noqa: F811
    grade(course_here, "ada", tmp_path / "ada")
    (pid,) = server_pids()
    folder = answered(course_here, "cy", RIGHT)
    (folder / f"{ASSIGNMENT}.ipynb").write_text("not a notebook")
    copy = copy_for_grading(course_here.root, ASSIGNMENT, tmp_path / "cy", "cy", grading_config(COURSE, None))
    with pytest.raises(AutogradeError, match=f"autograde {ASSIGNMENT} for cy failed: .*NotJSONError"):
        autograde_submission(copy, COURSE, ASSIGNMENT, "cy", nbgrader=str(NBGRADER), env=nbgrader_env(), submission=folder)
    assert server_pids() == []
    with pytest.raises(ProcessLookupError):  # stopped and reaped
        os.kill(pid, 0)
    again = grade(course_here, "bo", tmp_path / "bo")
    assert again.score == again.max_score and server_pids() != [pid]


def test_a_grading_out_of_time_is_stopped_with_its_process(course_here, tmp_path):  # noqa: F811
    with pytest.raises(AutogradeError, match=f"autograde {ASSIGNMENT} for ada took longer than 0.2 s"):
        grade(course_here, "ada", tmp_path / "ada", seconds=0.2)
    assert server_pids() == []
    assert grade(course_here, "ada", tmp_path / "again").score > 0
