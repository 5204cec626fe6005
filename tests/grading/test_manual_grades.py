"""A grade the instructor changes in the formgrader (the course's gradebook) becomes a grading of its
own, with its result and LMS delivery; an unchanged gradebook records nothing, and an assignment never
graded through the service is not followed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from grading_fixtures import settings_for
from nbgrader.api import Gradebook
from sqlalchemy import select

from practicum.contracts.grade_result import GradeResult
from practicum.demo import WELCOME_SOLUTION
from practicum.grading.context import GradingContext
from practicum.grading.database import gradings, outbox, results, transaction
from practicum.grading.intake import submit_assignment
from practicum.grading.manual_grades import sync_manual_grades
from practicum.grading.outbox import deliver_pending
from practicum.grading.worker import run_worker
from practicum.lab.courses import course_nbgrader_config

REPO = Path(__file__).resolve().parents[2]
COURSE, ASSIGNMENT = "intro_medical_ai", "welcome"
NBGRADER = Path(sys.executable).with_name("nbgrader")


def nbgrader_env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{NBGRADER.parent}:{os.environ.get('PATH', '/usr/bin:/bin')}"}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("generated") / "course"
    shutil.copytree(REPO / "courses" / COURSE / "source" / ASSIGNMENT, root / "source" / ASSIGNMENT)
    (root / "nbgrader_config.py").write_text(course_nbgrader_config(COURSE, root.parent / "exchange", root.parent / "inbound", sandboxed=False))
    done = subprocess.run([str(NBGRADER), "generate_assignment", ASSIGNMENT], cwd=root, env=nbgrader_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return root


@pytest.fixture
def context(tmp_path, small_build, generated, monkeypatch, lms):
    monkeypatch.setenv("PATH", nbgrader_env()["PATH"])
    root = tmp_path / "course"
    shutil.copytree(generated, root)
    inbounds = tmp_path / "inbounds"
    settings = settings_for(tmp_path, small_build, courses={COURSE: {"root": str(root), "uid": 0}},
                            exchange_inbound_dir=str(inbounds), nbgrader=str(NBGRADER), lms_url=lms.url, lms_token="t")
    context = GradingContext(settings)
    yield context
    context.close()


def submit_solved(context: GradingContext, learner: str) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    folder = Path(context.settings.exchange_inbound_dir) / COURSE / learner / f"{learner}+{ASSIGNMENT}+{stamp}+abc"
    folder.mkdir(parents=True)
    root = Path(str(context.settings.courses[COURSE]["root"]))
    notebook = json.loads((root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
    for cell in notebook["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("solution"):
            cell["source"] = WELCOME_SOLUTION
    (folder / f"{ASSIGNMENT}.ipynb").write_text(json.dumps(notebook))
    submit_assignment(context, learner=learner, item_id=f"{COURSE}/{ASSIGNMENT}")


def give_manual_score(context: GradingContext, learner: str, points: float) -> None:
    """What the formgrader does when the instructor overrides the autograded points."""
    root = Path(str(context.settings.courses[COURSE]["root"]))
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", course_id=COURSE) as gradebook:
        grade = gradebook.find_grade("test_tissue_class", ASSIGNMENT, ASSIGNMENT, learner)
        grade.manual_score = points
        gradebook.db.commit()


def recorded(context: GradingContext) -> dict[str, tuple[str, float]]:
    with transaction(context.engine) as connection:
        rows = connection.execute(select(gradings.c.id, gradings.c.reason, results.c.grade_result).join(results)).all()
    return {r.id: (r.reason, GradeResult.model_validate_json(r.grade_result).metrics["points"]) for r in rows}


def test_a_changed_formgrader_grade_is_recorded_once_and_delivered(context, lms):
    submit_solved(context, "ada")
    assert run_worker(context, threading.Event(), once=True) == 1
    (autograded,) = recorded(context).values()
    assert autograded == ("submission", 2.0)
    assert sync_manual_grades(context) == []  # the gradebook says what the result says
    give_manual_score(context, "ada", 1.0)
    (manual,) = sync_manual_grades(context)
    assert manual.endswith(".manual-1") and recorded(context)[manual] == ("manual", 1.0)
    assert sync_manual_grades(context) == []
    give_manual_score(context, "ada", 1.5)
    (again,) = sync_manual_grades(context)
    assert again.endswith(".manual-2") and recorded(context)[again] == ("manual", 1.5)
    with transaction(context.engine) as connection:
        waiting = set(connection.execute(select(outbox.c.grading_id).where(outbox.c.delivered_at.is_(None))).scalars())
    assert {manual, again} <= waiting
    assert deliver_pending(context).delivered == 3
    assert lms.stored[manual]["metrics"]["points"] == 1.0 and lms.stored[again]["metrics"]["points"] == 1.5
    assert lms.stored[again]["learner"] == "ada" and lms.stored[again]["item_id"] == f"{COURSE}/{ASSIGNMENT}"


def test_the_service_reads_a_gradebook_again_only_when_it_changed(context, monkeypatch):
    import practicum.grading.manual_grades as manual_grades

    submit_solved(context, "ada")
    run_worker(context, threading.Event(), once=True)
    reads = []
    real = manual_grades._complete_grades
    monkeypatch.setattr(manual_grades, "_complete_grades", lambda *args: reads.append(args) or real(*args))
    follower = manual_grades.ManualGrades(context)
    assert follower.sync() == [] and follower.sync() == [] and len(reads) == 1
    give_manual_score(context, "ada", 0.5)
    (manual,) = follower.sync()
    assert recorded(context)[manual] == ("manual", 0.5) and len(reads) == 2


def test_a_grade_changed_while_the_learner_is_being_graded_is_taken_at_a_later_look(context):
    from practicum.grading.manual_grades import ManualGrades

    submit_solved(context, "ada")
    run_worker(context, threading.Event(), once=True)
    give_manual_score(context, "ada", 1.0)
    submit_solved(context, "ada")  # queued: its autograde may be merging into the gradebook
    follower = ManualGrades(context)
    assert follower.sync() == []
    with transaction(context.engine) as connection:  # say it was claimed and failed, leaving the gradebook as it is
        connection.execute(gradings.update().where(gradings.c.state == "queued").values(state="failed"))
    (manual,) = follower.sync()  # the gradebook did not change since, and is read again
    assert recorded(context)[manual] == ("manual", 1.0)


def test_only_assignments_graded_through_the_service_are_followed(context):
    submit_solved(context, "ada")
    run_worker(context, threading.Event(), once=True)
    give_manual_score(context, "ada", 0.0)
    root = Path(str(context.settings.courses[COURSE]["root"]))
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", course_id=COURSE) as gradebook:  # graded elsewhere (by hand)
        gradebook.add_student("bo")
        gradebook.add_submission(ASSIGNMENT, "bo")
    ids = sync_manual_grades(context)
    assert len(ids) == 1 and recorded(context)[ids[0]] == ("manual", 0.0)
    assert not any("bo" in grading_id for grading_id in recorded(context))
