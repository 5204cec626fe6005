"""Runs inside the sandbox: train a project's reference (or build its baseline) and hand it back.

    python -m practicum.graders.sandbox_train PROJECT_ID PUBLIC_DIR {reference,baseline} [OPTIONS_JSON]

Calls ``practicum.projects.<PROJECT_ID>.reference.train_reference(PUBLIC_DIR, **options)`` (or
``baseline.build_baseline(PUBLIC_DIR)``), saves the MLflow pyfunc model in the sandbox's /tmp and
writes it, with ``training.json`` (the training time), as a tar stream to the result channel. A
failure is printed to the log and ends with status ``LEARNER_ERROR``. It sees the public splits only.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from practicum.contracts.project_modules import BASELINE, REFERENCE

from .sandbox_predict import LEARNER_ERROR, report, result_channel

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
    if len(args) not in (3, 4) or args[2] not in KINDS:
        print(__doc__, file=sys.stderr)
        return 2
    project_id, public_dir, kind = args[0], Path(args[1]), args[2]
    channel = result_channel()
    try:
        options = json.loads(args[3]) if len(args) == 4 else {}
        with tempfile.TemporaryDirectory(prefix="training-") as tmp:
            work = Path(tmp)
            train_and_save(project_id, public_dir, work, kind, options)
            with tarfile.open(fileobj=channel, mode="w|") as archive:
                archive.add(work / MODEL_FOLDER, arcname=MODEL_FOLDER)
                archive.add(work / TRAINING_FILE, arcname=TRAINING_FILE)
        channel.flush()
    except BaseException as error:  # noqa: BLE001 - whatever the project code raises is reported, not re-raised
        report(error)
        return LEARNER_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
