"""nbgrader assignments through the grading service.

The learner submits with nbgrader (into their own inbound), then asks for a grading
(``practicum submit COURSE/ASSIGNMENT``). The intake copies their newest acceptable submission out of
the inbound (folders and regular files only, bounded) into the store: what is graded is that stored
copy, whatever the inbound holds later. A worker places the copy as nbgrader's collect would and runs
nbgrader's autograde in a copy of the course that is merged back afterwards
(``graders.course_copies``: nbgrader is not safe in parallel on one gradebook), so that many
learners of one course are graded at once; the notebooks run in the sandboxed grading kernel.
"""

from __future__ import annotations

import io
import os
import tarfile
import tempfile
from pathlib import Path

from practicum import __version__
from practicum.contracts.exchange import learner_inbound
from practicum.contracts.grade_result import GradeResult
from practicum.graders.autograde import SUBMISSION_LIMITS, AutogradeError, autograde_submission
from practicum.graders.course_copies import GRADEBOOK, copy_for_grading, course_lock, merge_graded
from practicum.graders.exchange import latest_submission
from practicum.graders.results import assignment_result
from practicum.sandbox.identity import own
from practicum.sandbox.readback import UnsafeFile, extract_tar, read_bounded, walk_regular

from .archives import BadSubmission
from .feedback import Feedback, TargetFeedback, rounded
from .items import GradableItem
from .settings import GradingSettings


def snapshot_assignment(settings: GradingSettings, learner: str, item: GradableItem) -> bytes:
    """The learner's newest submission of the assignment, as a tar of ``<its folder name>/...``."""
    inbound = Path(learner_inbound(settings.exchange_inbound_dir, item.course_id or "", learner))
    chosen = latest_submission(inbound, learner, item.assignment, SUBMISSION_LIMITS)
    if chosen is None:
        raise BadSubmission(f"you have no submission of {item.item_id} to grade: submit it with nbgrader first "
                            f"(nbgrader submit {item.assignment} --course {item.course_id})")
    buffer = io.BytesIO()
    try:
        with tarfile.open(fileobj=buffer, mode="w:", format=tarfile.PAX_FORMAT) as tar:
            for relative, size in walk_regular(chosen, SUBMISSION_LIMITS):
                data = read_bounded(chosen / relative, size)
                info = tarfile.TarInfo(f"{chosen.name}/{relative}")
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
    except UnsafeFile as error:
        raise BadSubmission(f"your submission of {item.item_id} cannot be taken: {error}") from None
    return buffer.getvalue()


def grade_assignment(settings: GradingSettings, item: GradableItem, learner: str, archive: Path, grading_id: str) -> GradeResult:
    course = settings.courses[item.course_id or ""]
    uid = int(str(course.get("uid") or 0)) or None
    course_root = Path(item.course_root or "")
    with tempfile.TemporaryDirectory(prefix="practicum-assignment-") as tmp:
        staged = Path(tmp) / "submission"
        try:
            extract_tar(archive, staged, SUBMISSION_LIMITS, what="the stored submission")
        except UnsafeFile as error:
            raise RuntimeError(f"the stored submission cannot be staged: {error}") from None
        entries = [p for p in staged.iterdir() if p.is_dir()]
        if len(entries) != 1:
            raise RuntimeError(f"the stored submission holds {len(entries)} submission folders, not one")
        (entry,) = entries
        # Inside the course folder: the copy is graded on the course's file system, with its owner.
        with tempfile.TemporaryDirectory(prefix=".grading-", dir=course_root) as scratch:
            copy = copy_for_grading(course_root, item.assignment, Path(scratch) / "course")
            outcome = autograde_submission(
                copy, item.course_id or "", item.assignment, learner, nbgrader=settings.nbgrader,
                env={**os.environ, **settings.nbgrader_env} if settings.nbgrader_env else None, submission=entry,
            )
            try:
                written = merge_graded(copy, course_root, item.assignment, learner, SUBMISSION_LIMITS)
            except UnsafeFile as error:
                raise AutogradeError(f"your notebook left something in its folder that is not a folder or a regular file ({error})") from None
            if uid is not None:  # the formgrader runs as the course's uid: what root wrote becomes its
                with course_lock(course_root):
                    for path in (*written, course_root / GRADEBOOK):
                        own(path, uid, always=True)
    return assignment_result(outcome, submission_id=grading_id)


def assignment_feedback(grading_id: str, item: GradableItem, result: GradeResult) -> Feedback:
    """Points and the pass mark only: nbgrader's own feedback shows the hidden tests' source, so it is not used."""
    return Feedback(
        grading_id=grading_id, item_id=item.item_id, title=item.title, passed=result.passed, score=result.score,
        metrics={name: rounded(value) for name, value in result.metrics.items()},
        targets=[TargetFeedback(metric=t.metric, rule=f"{t.direction.value} {t.threshold:g}", value=rounded(t.value), met=t.met,
                                margin=rounded(t.margin)) for t in result.targets],
        error=None, figures={}, graded_at=result.finished_at, grader_version=__version__,
    )

