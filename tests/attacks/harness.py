"""How the attack suite runs a hostile model and checks that the grader came through unharmed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import mlflow.pyfunc
import pandas as pd

from practicum.contracts.project_spec import ProjectSpec
from practicum.graders.grading_sandbox import Limits, Predictions, run_model
from practicum.sandbox.identity import GRADING_UID
from practicum.sandbox.limits import MIB

# Tight limits, so that every bomb ends within seconds: 512 MiB in all (tmpfs and shared memory
# included), one CPU, 15 s of wall time (interpreter start and model load take about 3 s of it).
ATTACK_LIMITS = Limits(cpus=1, memory_bytes=512 * MIB, time_limit_seconds=15)


def limits(*, seconds: int = 15, memory_bytes: int = 512 * MIB) -> Limits:
    return Limits(cpus=1, memory_bytes=memory_bytes, time_limit_seconds=seconds)


ONE_INPUT = {"x": pd.DataFrame({"x": [1]})}


@dataclass(frozen=True)
class AttackBuild:
    """A private copy of the small dataset build with canaries planted where no sandbox may look."""

    root: Path
    token: str  # planted in the hidden labels, the build's secrets and sources, and the lab state
    state_dir: Path  # the lab's state folder (PRACTICUM_STATE_DIR), inside a folder sandboxes see
    tracking_uri: str  # an MLflow store in the lab state, holding a run recorded before the attacks
    prior_run_id: str

    @property
    def public(self) -> Path:
        return self.root / "public"

    @property
    def hidden(self) -> Path:
        return self.root / "hidden"

    @property
    def masked(self) -> list[Path]:
        """What grade_model hides from a sandbox (run_model is told the same)."""
        return [self.hidden, self.root / "sources", self.root / "secrets"]


def save(model: mlflow.pyfunc.PythonModel, folder: Path) -> Path:
    """An MLflow pyfunc folder (no requirement inference: it would take seconds per model)."""
    mlflow.pyfunc.save_model(str(folder), python_model=model, pip_requirements=[])
    return folder


def attack(model: mlflow.pyfunc.PythonModel, build: AttackBuild, tmp_path: Path, *, inputs: Mapping[str, pd.DataFrame] = ONE_INPUT,
           limits: Limits = ATTACK_LIMITS, max_rows=None) -> Predictions:
    """Predict ``inputs`` with ``model`` in the grading sandbox, the way grade_model does."""
    return run_model(
        save(model, tmp_path / "submitted"), inputs, read_only=[build.public], hidden=build.masked, limits=limits,
        work_dir=_fresh(tmp_path / "work"), max_rows=max_rows,
    )


def reported(predictions: Predictions, name: str = "x") -> dict:
    """The JSON report a hostile model returned for input ``name``."""
    return json.loads(predictions.frame(name)["report"].iloc[0])


def _fresh(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=False)
    return folder


def tree_digest(folder: Path, *, skip: tuple[str, ...] = ()) -> str:
    """SHA-256 of every file's relative path, mode and bytes under ``folder``."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if any(relative == s or relative.startswith(f"{s}/") for s in skip):
            continue
        info = path.lstat()
        digest.update(f"{relative}\0{info.st_mode:o}\0".encode())
        if path.is_file() and not path.is_symlink():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


@contextmanager
def grader_peak_growth() -> Iterator[dict[str, int]]:
    """How far the grader's peak RSS rose above its RSS before the block (``growth`` bytes)."""
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    before = _status("VmRSS")
    box: dict[str, int] = {}
    try:
        yield box
    finally:
        box["growth"] = _status("VmHWM") - before


def _own_memory_cgroup() -> tuple[Path, str]:
    """(the memory controller's mount, this process's cgroup path in it): v1's memory hierarchy or v2's tree.

    Other sessions on this machine graded concurrently have memory cgroups of their own, so what
    lies under this process's memory cgroup is this suite's, and nobody else's."""
    lines = [line.split(":", 2) for line in Path("/proc/self/cgroup").read_text().splitlines()]
    for _, controllers, path in lines:
        if "memory" in controllers.split(","):
            return Path("/sys/fs/cgroup/memory"), path
    return Path("/sys/fs/cgroup"), next(path for _, controllers, path in lines if controllers == "")


def sandbox_processes(*, besides: frozenset[int] = frozenset()) -> list[str]:
    """This suite's sandboxed processes still alive (the grading uid, in a cgroup below ours), but ``besides``."""
    v1 = _own_memory_cgroup()[0].name == "memory"
    own = _own_memory_cgroup()[1].rstrip("/") + "/"
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in besides:
            continue
        try:
            status = dict(line.split(":\t", 1) for line in (entry / "status").read_text().splitlines() if ":\t" in line)
            groups = [line.split(":", 2) for line in (entry / "cgroup").read_text().splitlines()]
        except OSError:
            continue
        memory = next((path for _, controllers, path in groups if ("memory" in controllers.split(",") if v1 else controllers == "")), "")
        if int(status["Uid"].split()[0]) == GRADING_UID and not status["State"].startswith("Z") and f"{memory}/".startswith(own):
            found.append(f"{entry.name} {status['Name']} {status['State']} in {memory}")
    return found


def leftover_cgroups() -> list[str]:
    """Sandbox and scoring cgroups of this suite still present (under this process's memory cgroup)."""
    mount, own = _own_memory_cgroup()
    parent = mount / own.lstrip("/") / "practicum"
    return sorted(str(p) for p in parent.iterdir() if p.is_dir() and p.name.startswith(("grading-", "scoring-"))) if parent.is_dir() else []


def project_spec(task: str, *, targets: list[dict], evaluation: dict | None = None) -> ProjectSpec:
    """A project for one protocol with tight resources (1 CPU, 1 GiB, 60 s)."""
    options, dataset, metrics = {
        "complication_risk": ({"label": "nephropathy_5y"}, "ehr_risk", ("auroc", "brier")),
        "glucose_forecasting": ({"horizons_min": [30], "leakage_copies": 1}, "cgm", ("rmse_vs_persistence_30",)),
    }[task]
    return ProjectSpec.model_validate({
        "id": "attacked_project", "title": "Attacked", "scenario": "Hostile submissions.", "task": task,
        "evaluation": {**options, **(evaluation or {})}, "dataset": {"name": dataset, "version": "1"},
        "input_format": "-", "output_format": "-", "metrics": metrics, "targets": targets,
        "capabilities": {"ml_engineering": 0.5}, "resources": {"cpus": 1, "memory": "1G", "time_limit_seconds": 60},
        "attempt_limit": 3,
    })


def texts_of_run(tracking_uri: str, run_id: str) -> str:
    """Everything MLflow keeps of a run, as one text: tags, params, metrics and every artifact's bytes."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri)
    run = client.get_run(run_id)
    parts = [json.dumps(run.data.tags), json.dumps(run.data.params), json.dumps(run.data.metrics)]
    stack = [""]
    while stack:
        for artifact in client.list_artifacts(run_id, stack.pop() or None):
            if artifact.is_dir:
                stack.append(artifact.path)
            else:
                parts.append(Path(client.download_artifacts(run_id, artifact.path)).read_bytes().decode(errors="replace"))
    return "\n".join(parts)
