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
import shutil
import tarfile
import tempfile
from collections.abc import Iterable
from pathlib import Path

from practicum import __version__
from practicum.contracts.exchange import learner_inbound
from practicum.contracts.grade_result import GradeResult
from practicum.graders.autograde import SUBMISSION_LIMITS, AutogradeError, autograde_submission
from practicum.graders.course_copies import (
    GRADEBOOK,
    copy_for_grading,
    course_lock,
    grading_config,
    merge_graded,
    scratch_root,
)
from practicum.graders.exchange import latest_submission
from practicum.graders.protocols.annotation_agreement import AnnotationAgreement, grade_annotation_submission
from practicum.graders.results import assignment_result, with_annotation_agreement
from practicum.graders.sandboxed_kernel import KERNEL_NAME as GRADING_KERNEL
from practicum.graders.tables import TableError
from practicum.sandbox.cgroups import OWNER_ENV
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


def _scratch_prefix(kind: str, owner: str | None = None) -> str:
    """Scratch folders carry their worker's owner tag (``$PRACTICUM_CGROUP_OWNER``), so that what a killed
    worker left (a TemporaryDirectory is not removed on SIGKILL) can be told from a live worker's."""
    owner = os.environ.get(OWNER_ENV, "") if owner is None else owner
    return f"{kind}.{owner}." if owner else f"{kind}."


def sweep_scratch(course_roots: Iterable[Path], owner: str) -> list[Path]:
    """Remove the scratch folders the worker tagged ``owner`` left in the courses and the temporary folder."""
    left = []
    for folder, kind in [*((Path(root).parent / ".grading-copies", ".grading") for root in course_roots),
                         (Path(tempfile.gettempdir()), "practicum-assignment")]:
        for path in folder.glob(_scratch_prefix(kind, owner) + "*") if folder.is_dir() else ():
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
                left.append(path)
    return left


def grade_assignment(settings: GradingSettings, item: GradableItem, learner: str, archive: Path, grading_id: str) -> GradeResult:
    course = settings.courses[item.course_id or ""]
    uid = int(str(course.get("uid") or 0)) or None
    course_root = Path(item.course_root or "")
    with tempfile.TemporaryDirectory(prefix=_scratch_prefix("practicum-assignment")) as tmp:
        staged = Path(tmp) / "submission"
        try:
            extract_tar(archive, staged, SUBMISSION_LIMITS, what="the stored submission")
        except UnsafeFile as error:
            raise RuntimeError(f"the stored submission cannot be staged: {error}") from None
        entries = [p for p in staged.iterdir() if p.is_dir()]
        if len(entries) != 1:
            raise RuntimeError(f"the stored submission holds {len(entries)} submission folders, not one")
        (entry,) = entries
        # Beside the course folder (its file system), out of its owner's reach: nbgrader runs code from there.
        with tempfile.TemporaryDirectory(prefix=_scratch_prefix(".grading"), dir=scratch_root(course_root)) as scratch:
            config = grading_config(item.course_id or "", GRADING_KERNEL if settings.nbgrader_env else None)
            copy = copy_for_grading(course_root, item.assignment, Path(scratch) / "course", learner, config)
            outcome = autograde_submission(
                copy, item.course_id or "", item.assignment, learner, nbgrader=settings.nbgrader,
                env={**os.environ, **settings.nbgrader_env} if settings.nbgrader_env else None, submission=entry,
            )
            agreement = _score_after_autograde(settings, course, item, copy / "submitted" / learner / item.assignment)
            try:
                written = merge_graded(copy, course_root, item.assignment, learner, SUBMISSION_LIMITS)
            except UnsafeFile as error:
                raise AutogradeError(f"your notebook left something in its folder that is not a folder or a regular file ({error})") from None
            if uid is not None:  # the formgrader runs as the course's uid: what root wrote becomes its
                with course_lock(course_root):
                    for path in (*written, course_root / GRADEBOOK):
                        own(path, uid, always=True)
    result = assignment_result(outcome, submission_id=grading_id)
    return with_annotation_agreement(result, agreement) if agreement is not None else result


def _score_after_autograde(settings: GradingSettings, course: dict[str, object], item: GradableItem, submitted: Path) -> AnnotationAgreement | None:
    """The grader's own scoring of a submission the course file names a scorer for (``scored_by``), outside the
    sandbox, against the build's hidden reference; None for every other assignment."""
    scorer = dict(course.get("scored_by") or {}).get(item.assignment)  # type: ignore[call-overload]
    if scorer is None:
        return None
    if scorer != "annotation_agreement":
        raise RuntimeError(f"{item.item_id}: unknown scorer {scorer!r}")
    try:
        return grade_annotation_submission(submitted, public_dir=settings.datasets_dir / "public", hidden_dir=settings.datasets_dir / "hidden")
    except (TableError, UnsafeFile, FileNotFoundError) as error:
        raise AutogradeError(f"your marks cannot be scored: {error}") from None


def assignment_feedback(grading_id: str, item: GradableItem, result: GradeResult) -> Feedback:
    """Points and the pass mark only: nbgrader's own feedback shows the hidden tests' source, so it is not used."""
    return Feedback(
        grading_id=grading_id, item_id=item.item_id, title=item.title, passed=result.passed, score=result.score,
        metrics={name: rounded(value) for name, value in result.metrics.items()},
        targets=[TargetFeedback(metric=t.metric, rule=f"{t.direction.value} {t.threshold:g}", value=rounded(t.value), met=t.met,
                                margin=rounded(t.margin)) for t in result.targets],
        error=None, figures={}, graded_at=result.finished_at, grader_version=__version__,
    )

