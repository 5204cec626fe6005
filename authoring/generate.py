"""nbgrader's student version of one assignment, generated in a scratch course folder."""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

from nbgrader.apps import NbGraderAPI
from traitlets.config import Config

from .errors import AuthoringError

# What a notebook run leaves beside the sources is neither generated nor released.
NOT_SOURCES = shutil.ignore_patterns("model", "mlruns", "__pycache__", ".ipynb_checkpoints")


def generate_release(course_id: str, assignment_id: str, source: Path, work: Path, shown: str) -> Path:
    """``nbgrader generate_assignment`` of ``source`` (a source/<assignment>/ folder) in ``work``; returns
    the release folder. ``shown`` names the source in the one-line error."""
    root = work / course_id
    shutil.copytree(source, root / "source" / assignment_id, ignore=NOT_SOURCES)
    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.course_id = course_id
    config.CourseDirectory.db_url = f"sqlite:///{work / 'gradebook.db'}"
    config.Exchange.root = str(work / "exchange")
    _alembic_on_path()
    result = NbGraderAPI(config=config).generate_assignment(assignment_id, force=True, create=True)
    if not result["success"]:
        raise AuthoringError(f"{shown}: nbgrader generate_assignment failed: {_reason(result)}")
    return root / "release" / assignment_id


def _alembic_on_path() -> None:
    # nbgrader runs `alembic` from PATH to set up its gradebook: the one installed beside this Python.
    here = str(Path(sys.executable).parent)
    if here not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = here + os.pathsep + os.environ.get("PATH", "")


def _reason(result: dict) -> str:
    text = (result.get("error") or "") + "\n" + (result.get("log") or "")
    errors = [m.group(0).strip() for m in _EXCEPTION_LINE.finditer(text) if not m.group(0).strip().startswith("nbgrader.")]
    return (errors[-1] if errors else "see `nbgrader generate_assignment` for the traceback")[:300]


_EXCEPTION_LINE = re.compile(r"^\s*[\w.]*(?:Error|Exception): .+$", re.MULTILINE)
