"""nbgrader assignments through the grading service.

The learner submits with nbgrader (into their own inbound), then asks for a grading
(``practicum submit COURSE/ASSIGNMENT``). The intake copies their newest acceptable submission out of
the inbound (folders and regular files only, bounded) into the store: what is graded is that stored
copy, whatever the inbound holds later. A worker stages the copy as a one-learner inbound and runs
nbgrader's collect and autograde in the course folder, one grading of a course at a time (nbgrader
is not safe in parallel on one gradebook), the notebook in the sandboxed grading kernel.
"""

from __future__ import annotations

import fcntl
import io
import os
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from practicum import __version__
from practicum.contracts.exchange import learner_inbound
from practicum.contracts.grade_result import GradeResult
from practicum.graders.autograde import autograde_submission
from practicum.graders.exchange import latest_submission
from practicum.graders.results import assignment_result
from practicum.sandbox.limits import MIB
from practicum.sandbox.readback import TreeLimits, UnsafeFile, extract_tar, read_bounded, walk_regular

from .archives import BadSubmission
from .feedback import Feedback, TargetFeedback, rounded
from .items import GradableItem
from .settings import GradingSettings

ASSIGNMENT_LIMITS = TreeLimits(max_files=2000, max_bytes=500 * MIB)


def snapshot_assignment(settings: GradingSettings, learner: str, item: GradableItem) -> bytes:
    """The learner's newest submission of the assignment, as a tar of ``<its folder name>/...``."""
    inbound = Path(learner_inbound(settings.exchange_inbound_dir, item.course_id or "", learner))
    chosen = latest_submission(inbound, learner, item.assignment, ASSIGNMENT_LIMITS)
    if chosen is None:
        raise BadSubmission(f"you have no submission of {item.item_id} to grade: submit it with nbgrader first "
                            f"(nbgrader submit {item.assignment} --course {item.course_id})")
    buffer = io.BytesIO()
    try:
        with tarfile.open(fileobj=buffer, mode="w:", format=tarfile.PAX_FORMAT) as tar:
            for relative, size in walk_regular(chosen, ASSIGNMENT_LIMITS):
                data = read_bounded(chosen / relative, size)
                info = tarfile.TarInfo(f"{chosen.name}/{relative}")
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
    except UnsafeFile as error:
        raise BadSubmission(f"your submission of {item.item_id} cannot be taken: {error}") from None
    return buffer.getvalue()


@contextmanager
def course_lock(course_root: Path) -> Iterator[None]:
    """One grading of a course at a time, across the workers of this machine."""
    with open(course_root / ".practicum-grading.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def grade_assignment(settings: GradingSettings, item: GradableItem, learner: str, archive: Path, grading_id: str) -> GradeResult:
    course = settings.courses[item.course_id or ""]
    uid = int(str(course.get("uid") or 0)) or None
    with tempfile.TemporaryDirectory(prefix="practicum-assignment-") as tmp:
        staged = Path(tmp) / "inbounds"
        try:
            extract_tar(archive, staged / learner, ASSIGNMENT_LIMITS, what="the stored submission")
        except UnsafeFile as error:
            raise RuntimeError(f"the stored submission cannot be staged: {error}") from None
        staged.chmod(0o755)
        with course_lock(Path(item.course_root or "")):
            outcome = autograde_submission(
                Path(item.course_root or ""), item.course_id or "", item.assignment, learner, nbgrader=settings.nbgrader,
                env={**os.environ, **settings.nbgrader_env} if settings.nbgrader_env else None, owner_uid=uid, inbounds_root=staged,
            )
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

