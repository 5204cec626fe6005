"""Train a project's reference (or build its baseline) from a clean start inside the sandbox.

One verb, ``train_in_sandbox``, shared by the CLI (``practicum reference``), the benches and the
tests. The run sees what a learner's sandbox sees - the public splits, the lab's code, no network,
no hidden labels, no lab state - with the project's CPU and memory limits (and its GPU when the
spec allows one and the machine has one), so a reference that passes from here passes from a
learner's starting point. Grade the saved model with ``project_grading.grade_model``.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from practicum.contracts.project_spec import ProjectSpec, load_project_spec
from practicum.sandbox.limits import MIB
from practicum.sandbox.readback import TreeLimits, UnsafeFile, extract_tar, read_bounded
from practicum.sandbox.spec import Bind

from .grading_sandbox import SandboxFailure, SandboxKind, grading_spec, run_confined
from .project_grading import project_limits
from .sandbox_train import KINDS, MODEL_FOLDER, TRAINING_FILE

# Training takes longer than predicting; the project's time limit is for grading a submission.
DEFAULT_TRAINING_LIMIT_SECONDS = 1800
MODEL_BYTES = 2048 * MIB
ModelKind = Literal["reference", "baseline"]


@dataclass(frozen=True)
class TrainingRun:
    project_id: str
    kind: ModelKind
    model_dir: Path
    train_seconds: float  # inside the sandbox, data preparation included
    wall_seconds: float  # the whole sandboxed run: interpreter start, imports, saving
    options: dict[str, Any]


def train_in_sandbox(
    spec: ProjectSpec | Path,
    build_dir: Path,
    out_dir: Path,
    *,
    kind: ModelKind = "reference",
    options: dict[str, Any] | None = None,
    sandbox: SandboxKind = "bubblewrap",
    time_limit_seconds: int = DEFAULT_TRAINING_LIMIT_SECONDS,
) -> TrainingRun:
    """Train in the sandbox on ``build_dir/public`` and save the MLflow model to ``out_dir``
    (replaced if it exists). ``options`` go to ``train_reference`` as keyword arguments
    (e.g. ``{"max_epochs": 12}``). Raises ``SandboxFailure`` with the project's error."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {sorted(KINDS)}, not {kind!r}")
    project = spec if isinstance(spec, ProjectSpec) else load_project_spec(spec)
    options = dict(options or {})
    json.dumps(options)  # they cross into the sandbox as JSON: fail here, clearly, if they cannot
    build_dir = build_dir.resolve()
    out_dir = Path(out_dir).resolve()
    public = build_dir / "public"
    command = [sys.executable, "-m", "practicum.graders.sandbox_train", project.id, str(public), kind]
    if options:
        command.append(json.dumps(options))
    limits = project_limits(project, time_limit_seconds)
    spec = grading_spec(command, binds=[Bind(str(public))], hidden=[build_dir / "hidden", build_dir / "sources", build_dir / "secrets"],
                        gpu=limits.gpu, mask_references=False)
    with tempfile.TemporaryDirectory(prefix="practicum-training-") as tmp:
        work = Path(tmp)
        outcome = run_confined(spec, limits, result_path=work / "model.tar", doing=f"training of the {kind}", sandbox=sandbox, result_bytes=MODEL_BYTES)
        try:
            extract_tar(work / "model.tar", work / "out", TreeLimits(max_files=20_000, max_bytes=MODEL_BYTES))
            record = json.loads(read_bounded(work / "out" / TRAINING_FILE, 1 << 20))
        except (UnsafeFile, ValueError) as error:
            raise SandboxFailure(f"the {kind}'s training handed back no usable model: {error}") from None
        if out_dir.exists():
            shutil.rmtree(out_dir)
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(work / "out" / MODEL_FOLDER, out_dir)
    return TrainingRun(project.id, kind, out_dir, float(record["train_seconds"]), outcome.seconds, options)
