"""Autograde one learner's nbgrader submission in a lab, as its grader: one verb for the CLI and the demo."""

from __future__ import annotations

import os

from practicum.graders.autograde import AutogradeOutcome, autograde_submission
from practicum.graders.course_copies import course_lock

from .courses import course_nbgrader_config
from .layout import StateLayout, venv_bin
from .sandboxes import course_uid, grading_environment


def autograde_in_lab(layout: StateLayout, course_id: str, assignment: str, student: str, *, sandboxed: bool = True) -> AutogradeOutcome:
    """Collect ``student``'s latest submission of ``assignment`` from their own inbound and grade it,
    the notebook running in the sandboxed grading kernel (unless the lab runs without sandboxes)."""
    with course_lock(layout.courses / course_id):  # the grading service merges into the same course
        # nbgrader runs the course folder's nbgrader_config.py as root; its instructor may have changed it.
        (layout.courses / course_id / "nbgrader_config.py").write_text(
            course_nbgrader_config(course_id, layout.exchange, layout.exchange_inbound, sandboxed=sandboxed)
        )
        return autograde_submission(
            layout.courses / course_id,
            course_id,
            assignment,
            student,
            nbgrader=str(venv_bin() / "nbgrader"),
            env={**os.environ, **grading_environment(layout)} if sandboxed else None,
            owner_uid=course_uid(layout, course_id) if sandboxed else None,
        )
