"""nbgrader autograding of one learner's submission, run in the course folder.

nbgrader is not safe to run in parallel on one gradebook (nbgrader #917): callers
grade one submission of a course at a time.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry


class AutogradeError(RuntimeError):
    pass


@dataclass(frozen=True)
class AutogradeOutcome:
    course_id: str
    assignment: str
    student: str
    score: float
    max_score: float
    code_hash: str
    started_at: datetime
    finished_at: datetime

    @property
    def fraction(self) -> float:
        return self.score / self.max_score if self.max_score else 0.0


def autograde_submission(
    course_root: Path, course_id: str, assignment: str, student: str, *, nbgrader: str, env: Mapping[str, str] | None = None
) -> AutogradeOutcome:
    """Collect the learner's latest submission from the exchange, autograde it, read the gradebook."""
    started = datetime.now(UTC)
    run_env = dict(env if env is not None else os.environ)
    for verb in (["collect", assignment, "--update"], ["autograde", assignment, "--student", student, "--force"]):
        result = subprocess.run([nbgrader, *verb], cwd=course_root, env=run_env, capture_output=True, text=True)
        if result.returncode != 0:
            tail = " | ".join((result.stderr or result.stdout).strip().splitlines()[-3:])
            raise AutogradeError(f"nbgrader {verb[0]} {assignment} for {student} failed: {tail}")
    submitted = course_root / "submitted" / student / assignment
    if not submitted.is_dir():
        raise AutogradeError(f"{student} has no submission of {assignment} in {course_id}")
    with Gradebook(f"sqlite:///{course_root / 'gradebook.db'}", course_id=course_id) as gradebook:
        try:
            submission = gradebook.find_submission(assignment, student)
        except MissingEntry:
            raise AutogradeError(f"the gradebook has no graded submission of {assignment} by {student}") from None
        score, max_score = float(submission.score), float(submission.max_score)
    return AutogradeOutcome(
        course_id=course_id,
        assignment=assignment,
        student=student,
        score=score,
        max_score=max_score,
        code_hash=folder_hash(submitted),
        started_at=started,
        finished_at=datetime.now(UTC),
    )


def folder_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "timestamp.txt"):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
