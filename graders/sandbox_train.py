"""Runs inside the sandbox: train a project's reference (or build its baseline) and save it.

    python -m practicum.graders.sandbox_train PROJECT_ID PUBLIC_DIR WORK_DIR {reference,baseline} [OPTIONS_JSON]

Calls ``practicum.projects.<PROJECT_ID>.reference.train_reference(PUBLIC_DIR, **options)`` (or
``baseline.build_baseline(PUBLIC_DIR)``), saves the MLflow pyfunc model to ``WORK_DIR/model`` and
the training time to ``WORK_DIR/training.json``. On failure writes the reason to
``WORK_DIR/error.txt`` and exits 1. It sees the public splits only.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
import time
import traceback
from pathlib import Path

from practicum.contracts.project_modules import BASELINE, REFERENCE

from .sandbox_predict import ERROR_FILE, TRACEBACK_CHARS

MODEL_FOLDER = "model"
TRAINING_FILE = "training.json"
KINDS = {"reference": REFERENCE, "baseline": BASELINE}
_PROJECT_ID = re.compile(r"^[a-z][a-z0-9_]*$")


def train_and_save(project_id: str, public_dir: Path, work_dir: Path, kind: str, options: dict) -> dict:
    import mlflow.pyfunc

    if not _PROJECT_ID.match(project_id):
        raise ValueError(f"not a project id: {project_id!r}")
    module_name, function_name = KINDS[kind]
    module = importlib.import_module(f"practicum.projects.{project_id}.{module_name}")
    started = time.perf_counter()
    model = getattr(module, function_name)(public_dir, **options)
    seconds = time.perf_counter() - started
    mlflow.pyfunc.save_model(str(work_dir / MODEL_FOLDER), python_model=model)
    record = {"project": project_id, "kind": kind, "options": options, "train_seconds": seconds}
    (work_dir / TRAINING_FILE).write_text(json.dumps(record, indent=2))
    return record


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (4, 5) or args[3] not in KINDS:
        print(__doc__, file=sys.stderr)
        return 2
    project_id, public_dir, work_dir, kind = args[0], Path(args[1]), Path(args[2]), args[3]
    try:
        options = json.loads(args[4]) if len(args) == 5 else {}
        train_and_save(project_id, public_dir, work_dir, kind, options)
    except Exception:  # noqa: BLE001 - whatever the project code raises is reported, not re-raised
        (work_dir / ERROR_FILE).write_text(traceback.format_exc()[-TRACEBACK_CHARS:])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
