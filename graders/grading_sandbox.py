"""Run a submitted model on grading inputs (or a project's training) inside the lab's sandbox.

Every graded input is predicted by a fresh sandbox (``practicum.sandbox``): no network, an
unprivileged uid with no capabilities, read-only system, Python and lab code, the instructor
references masked, the model and the one input it predicts, size-capped tmpfs for anything it
writes, and whole-sandbox limits on memory, processes, CPU and wall time. What comes back is the
sandbox's result channel, capped in size and checked from its metadata before it is loaded.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from practicum.contracts.project_modules import MASKED_REFERENCE, reference_caches, reference_modules
from practicum.sandbox import limits as sandbox_limits
from practicum.sandbox.identity import GRADING_UID, identity_files
from practicum.sandbox.limits import MIB
from practicum.sandbox.mounts import lab_code_binds, python_binds
from practicum.sandbox.readback import TreeLimits, UnsafeFile, copy_tree
from practicum.sandbox.run import RunOutcome, run_sandboxed
from practicum.sandbox.spec import Bind, FileContent, SandboxSpec

from .output_tables import OutputTooLarge, read_output_table
from .sandbox_predict import LEARNER_ERROR

SandboxKind = Literal["bubblewrap", "none"]
PROJECTS_DIR = Path(__file__).resolve().parents[1] / "projects"
GRADING_DIR = "/grading"
MODEL_LIMITS = TreeLimits(max_files=20_000, max_bytes=4096 * MIB)
parse_memory = sandbox_limits.parse_memory


class SandboxFailure(RuntimeError):
    """The model could not produce predictions: its error, a timeout, or a limit hit."""


@dataclass(frozen=True)
class Limits:
    """A project's allowance (``resources`` of its spec) for one sandboxed run."""

    cpus: float
    memory_bytes: int
    time_limit_seconds: int
    gpu: bool = False

    def for_sandbox(self, *, result_bytes: int = 256 * MIB) -> sandbox_limits.Limits:
        return sandbox_limits.Limits(
            memory_bytes=self.memory_bytes,
            cpus=self.cpus,
            wall_seconds=self.time_limit_seconds,
            tmp_bytes=min(self.memory_bytes, 2048 * MIB),
            result_bytes=result_bytes,
        )


@dataclass(frozen=True)
class Predictions:
    """What a model produced: one checked output file per input, and what ran."""

    files: dict[str, Path] = field(repr=False)
    max_rows: dict[str, int]
    seconds: float  # all inputs, each in a fresh sandbox (interpreter start and model load included)
    code_hash: str  # SHA-256 of the model files that ran

    def frame(self, name: str) -> pd.DataFrame:
        return read_output_table(self.files[name], max_rows=self.max_rows[name], source=f"the model's output for {name!r}")


def lab_state_dirs() -> list[str]:
    """The lab's state folders (databases, hidden labels, course sources), kept out of every sandbox."""
    from practicum import __file__ as package_file

    found = [str(Path(os.path.realpath(package_file)).parent.parent / ".lab")]
    if os.environ.get("PRACTICUM_STATE_DIR"):
        found.append(os.environ["PRACTICUM_STATE_DIR"])
    return found


def grading_spec(
    command: Sequence[str],
    *,
    binds: Sequence[Bind] = (),
    hidden: Sequence[Path | str] = (),
    gpu: bool = False,
    mask_references: bool = True,
) -> SandboxSpec:
    """The grading sandbox: system, Python and lab code read-only, ``binds`` added, and the instructor
    references masked (unless the run is the training of a reference itself)."""
    from practicum import __file__ as package_file

    masked = MASKED_REFERENCE.read_bytes()
    passwd, group = identity_files(home="/tmp")
    return SandboxSpec(
        command=tuple(command),
        host_uid=GRADING_UID,
        binds=(*python_binds(), *lab_code_binds(Path(package_file).parent), *binds),
        files=(passwd, group, *(FileContent(path, masked) for path in reference_modules(PROJECTS_DIR) if mask_references)),
        hidden=tuple(str(p) for p in [*hidden, *lab_state_dirs(), *(reference_caches(PROJECTS_DIR) if mask_references else ())]),
        devices=tuple(str(p) for p in sorted(Path("/dev").glob("nvidia*"))) if gpu else (),
        env={"MLFLOW_TRACKING_URI": "file:///tmp/mlruns"},
        workdir="/tmp",
        hostname="grading",
    )


def stage_model(model_dir: Path, destination: Path) -> str:
    """Copy a submitted model (folders and regular files only, bounded) to where the sandbox reads it;
    returns the SHA-256 of what was copied, the code hash of the grading."""
    if not (Path(model_dir) / "MLmodel").is_file():
        raise SandboxFailure(f"{model_dir} is not an MLflow model folder (no MLmodel file): save it with mlflow.pyfunc.save_model")
    try:
        return copy_tree(model_dir, destination, MODEL_LIMITS)
    except UnsafeFile as error:
        raise SandboxFailure(f"the model folder cannot be graded: {error}") from None


def run_model(
    model_dir: Path,
    inputs: Mapping[str, pd.DataFrame],
    *,
    read_only: Sequence[Path],
    hidden: Sequence[Path],
    limits: Limits,
    sandbox: SandboxKind = "bubblewrap",
    work_dir: Path,
    max_rows: Callable[[str, pd.DataFrame], int] | None = None,
    code_hash: str | None = None,
) -> Predictions:
    """Predict each named input in a fresh sandbox; inputs and outputs live in ``work_dir`` (the
    caller's, removed by the caller). With ``code_hash`` (from ``stage_model``), ``model_dir`` is
    already staged."""
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    staged = Path(model_dir) if code_hash else work / "model"
    if not code_hash:
        code_hash = stage_model(model_dir, staged)
    files, caps, seconds = {}, {}, 0.0
    for name, frame in inputs.items():
        input_file = work / f"{name}.input.parquet"
        frame.to_parquet(input_file, index=False)
        input_file.chmod(0o644)
        caps[name] = max_rows(name, frame) if max_rows else 10 * max(1, len(frame))
        command = [sys.executable, "-m", "practicum.graders.sandbox_predict", f"{GRADING_DIR}/model", f"{GRADING_DIR}/input.parquet"]
        spec = grading_spec(
            command,
            binds=[Bind(str(staged), f"{GRADING_DIR}/model"), Bind(str(input_file), f"{GRADING_DIR}/input.parquet"),
                   *(Bind(str(Path(p).resolve())) for p in read_only)],
            hidden=hidden,
            gpu=limits.gpu,
        )
        files[name] = work / f"{name}.output.parquet"
        outcome = run_confined(spec, limits, result_path=files[name], doing="prediction", sandbox=sandbox)
        seconds += outcome.seconds
        try:
            read_output_table(files[name], max_rows=caps[name], source=f"the model's output for {name!r}", metadata_only=True)
        except OutputTooLarge as error:
            raise SandboxFailure(str(error)) from None
    return Predictions(files, caps, seconds, code_hash)


def run_confined(
    spec: SandboxSpec,
    limits: Limits,
    *,
    result_path: Path,
    doing: str = "the run",
    sandbox: SandboxKind = "bubblewrap",
    result_bytes: int = 256 * MIB,
) -> RunOutcome:
    """Run a lab module in the sandbox (it reports a learner's failure with status LEARNER_ERROR);
    raises SandboxFailure with a clear reason unless it ended well."""
    outcome = run_sandboxed(
        spec,
        limits.for_sandbox(result_bytes=result_bytes),
        result_path=result_path,
        cgroup_name=f"grading-{uuid.uuid4().hex[:12]}",
        confinement=sandbox,
    )
    if outcome.ok:
        return outcome
    if outcome.stopped_by == "time":
        raise SandboxFailure(f"{doing} took longer than the limit of {limits.time_limit_seconds} s")
    if outcome.exit_status == LEARNER_ERROR:
        raise SandboxFailure(f"the model failed during {doing}:\n{outcome.log}")
    detail = f":\n{outcome.log[-2000:]}" if outcome.log else ""
    raise SandboxFailure(f"the sandboxed {doing} stopped ({outcome.reason()}){detail}")
