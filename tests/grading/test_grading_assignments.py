"""The assignment intake reads a folder the learner writes (their own nbgrader inbound): a hostile
inbound gets its hostile entries skipped or refused, never followed, and what is stored is a copy."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from grading_fixtures import settings_for

from practicum.contracts.grade_result import GradeResult, ItemKind
from practicum.graders.autograde import AutogradeError
from practicum.grading.archives import BadSubmission
from practicum.grading.assignments import snapshot_assignment
from practicum.grading.attempts import AttemptLimit
from practicum.grading.items import GradableItem

COURSE, ASSIGNMENT = "intro", "welcome"
ITEM = GradableItem(item_id=f"{COURSE}/{ASSIGNMENT}", kind=ItemKind.ASSIGNMENT, title="welcome",
                    default_limit=AttemptLimit(None, None), spec=None, course_id=COURSE, course_root=Path("/nonexistent"))


def submission(inbound: Path, owner: str, stamp: str, text: str) -> Path:
    folder = inbound / f"{owner}+{ASSIGNMENT}+{stamp}+abc"
    folder.mkdir(parents=True)
    (folder / "welcome.ipynb").write_text(text)
    return folder


def names_in(archive: bytes) -> dict[str, bytes]:
    import io
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isreg()}


@pytest.fixture
def inbounds(tmp_path, small_build):
    root = tmp_path / "inbounds"
    settings = settings_for(tmp_path, small_build, exchange_inbound_dir=str(root))
    return settings, root / COURSE


def test_the_newest_honest_submission_is_copied_and_hostile_newer_ones_are_skipped(inbounds, tmp_path):
    settings, course = inbounds
    ada = course / "ada"
    submission(ada, "ada", "2026-12-01 10:00:00.000000 UTC", "ada's own")
    secret = tmp_path / "secret.txt"
    secret.write_text("the grader's secret")
    linked = submission(ada, "ada", "2026-12-01 11:00:00.000000 UTC", "x")
    (linked / "welcome.ipynb").unlink()
    (linked / "welcome.ipynb").symlink_to(secret)  # a link inside a newer submission
    other = submission(course / "bo", "bo", "2026-12-01 09:00:00.000000 UTC", "bo's work")
    os.symlink(other, ada / f"ada+{ASSIGNMENT}+2026-12-01 12:00:00.000000 UTC+lnk")  # a link to another learner's
    submission(ada, "bo", "2026-12-01 13:00:00.000000 UTC", "forged as bo")  # names someone else
    fifo = ada / f"ada+{ASSIGNMENT}+2026-12-01 14:00:00.000000 UTC+fifo"
    fifo.mkdir()
    os.mkfifo(fifo / "welcome.ipynb")
    copied = names_in(snapshot_assignment(settings, "ada", ITEM))
    assert list(copied.values()) == [b"ada's own"]
    assert all(name.startswith("ada+welcome+2026-12-01 10:00:00") for name in copied)


def test_no_honest_submission_is_a_clear_refusal(inbounds):
    settings, course = inbounds
    submission(course / "ada", "bo", "2026-12-01 13:00:00.000000 UTC", "forged as bo")
    with pytest.raises(BadSubmission, match="submit it with nbgrader first"):
        snapshot_assignment(settings, "ada", ITEM)
    with pytest.raises(BadSubmission, match="submit it with nbgrader first"):
        snapshot_assignment(settings, "cy", ITEM)  # a learner without an inbound


def test_a_learner_name_that_is_not_one_folder_is_refused(inbounds):
    settings, _ = inbounds
    with pytest.raises(ValueError, match="cannot name an nbgrader inbound folder"):
        snapshot_assignment(settings, "..", ITEM)


PRACTICE = GradableItem(item_id="imaging/annotation_practice", kind=ItemKind.ASSIGNMENT, title="practice",
                        default_limit=AttemptLimit(None, None), spec=None, course_id="imaging", course_root=Path("/nonexistent"))
SCORED = {"root": "/nonexistent", "uid": 0, "scored_by": {"annotation_practice": "annotation_agreement"}}


def test_an_assignment_the_course_file_scores_is_graded_against_the_hidden_reference(tmp_path, small_build):
    """The annotation practice: the learner's marks file, scored by the grader outside the sandbox."""
    import pandas as pd

    from practicum.graders.results import with_annotation_agreement
    from practicum.grading.assignments import _score_after_autograde

    settings = settings_for(tmp_path, small_build)
    reference = pd.read_csv(small_build / "hidden" / "ct" / "practice_annotations.csv")
    perfect, half = tmp_path / "perfect", tmp_path / "half"
    for folder, rows in ((perfect, reference), (half, reference.iloc[: len(reference) // 2])):
        folder.mkdir()
        rows.to_csv(folder / "annotations.csv", index=False)
    good = _score_after_autograde(settings, SCORED, PRACTICE, perfect)
    weak = _score_after_autograde(settings, SCORED, PRACTICE, half)
    assert good.sensitivity == 1.0 and good.passed and not weak.passed
    assert _score_after_autograde(settings, {"root": "/nonexistent"}, PRACTICE, perfect) is None  # not a scored assignment

    points = GradeResult(submission_id="s", learner="ada", kind=ItemKind.ASSIGNMENT, item_id=PRACTICE.item_id, course_id="imaging",
                         metrics={"points_fraction": 0.9}, targets=[], passed=True, score=0.9, code_hash="h", grader_version="1",
                         started_at=datetime.now(UTC), finished_at=datetime.now(UTC))
    assert with_annotation_agreement(points, good).passed and not with_annotation_agreement(points, weak).passed
    combined = with_annotation_agreement(points, weak)
    assert combined.metrics["annotation_sensitivity"] == weak.sensitivity and combined.score == 0.9
    assert {t.metric for t in combined.targets} == {"annotation_sensitivity", "annotation_false_marks_per_scan"}

    (tmp_path / "none").mkdir()
    with pytest.raises(AutogradeError, match="your marks cannot be scored"):
        _score_after_autograde(settings, SCORED, PRACTICE, tmp_path / "none")
    (half / "annotations.csv").write_text("seriesuid,coordX,coordY,coordZ,diameter_mm\nnot-a-scan,nan,0,0,5\n")
    with pytest.raises(AutogradeError, match="your marks cannot be scored"):
        _score_after_autograde(settings, SCORED, PRACTICE, half)
