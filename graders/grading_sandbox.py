"""Run a submitted model on grading inputs (or a project's training) inside a bubblewrap sandbox.

The sandbox has no network (its own empty network namespace), its own PID/IPC/UTS
namespaces, a fresh /tmp, and a file system made of read-only pieces: the system, the
Python installation and the lab's code, the submitted model, the public inputs it is
given. The lab's state folder (databases, hidden labels) and every hidden folder are
covered by empty tmpfs mounts. Limits: CPU cores (affinity and thread variables), memory
(RLIMIT_DATA) and wall time (the process group is killed).
"""

from __future__ import annotations

import math
import os
import resource
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from practicum.contracts.project_modules import MASKED_REFERENCE, reference_modules

from .sandbox_predict import ERROR_FILE

SandboxKind = Literal["bubblewrap", "none"]
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc")
_SECRET_FILES = ("/etc/shadow", "/etc/gshadow", "/etc/sudoers")
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")
# A graded model must not train or predict with the instructor references: they are masked.
PROJECTS_DIR = Path(__file__).resolve().parents[1] / "projects"
_UNITS = {"k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


class SandboxFailure(RuntimeError):
    """The model could not produce predictions: its error, a timeout, or a limit hit."""


@dataclass(frozen=True)
class Limits:
    cpus: float
    memory_bytes: int
    time_limit_seconds: int
    gpu: bool = False


def parse_memory(text: str) -> int:
    """'4G', '512Mi', '2GiB' -> bytes (binary units)."""
    cleaned = text.strip().lower().removesuffix("b").removesuffix("i")
    if cleaned and cleaned[-1] in _UNITS:
        return int(float(cleaned[:-1]) * _UNITS[cleaned[-1]])
    return int(float(cleaned))


def code_dirs() -> list[str]:
    """What the sandboxed Python needs to import the lab and its libraries: the Python
    installation, the virtual environment and the checkout (an editable install)."""
    from practicum import __file__ as package_file

    checkout = Path(os.path.realpath(package_file)).parent.parent
    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(checkout)}
    candidates |= {os.path.realpath(p) for p in sysconfig.get_paths().values() if os.path.isdir(p)}
    return _outermost(list(candidates))


def lab_state_dirs() -> list[str]:
    """The lab's state folders (databases, hidden labels, course sources), hidden in every sandbox."""
    from practicum import __file__ as package_file

    checkout = Path(os.path.realpath(package_file)).parent.parent
    found = [str(checkout / ".lab")]
    if os.environ.get("PRACTICUM_STATE_DIR"):
        found.append(os.environ["PRACTICUM_STATE_DIR"])
    return found


def sandbox_command(
    *,
    work_dir: str,
    read_only: Sequence[str],
    hidden: Sequence[str],
    limits: Limits,
    bwrap: str = "bwrap",
    masked: Sequence[str] = (),
) -> list[str]:
    """The bubblewrap argv prefix (append the command). Each file in ``masked`` reads as ``MASKED_REFERENCE``."""
    threads = str(max(1, math.floor(limits.cpus)))
    args = [
        bwrap,
        "--die-with-parent",
        "--new-session",
        "--unshare-all",  # user, ipc, pid, net, uts, cgroup: no network at all
        "--clearenv",
        "--setenv", "HOME", "/tmp",
        "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin",
        "--setenv", "PYTHONNOUSERSITE", "1",
        "--setenv", "MPLBACKEND", "Agg",
        "--setenv", "MLFLOW_TRACKING_URI", "file:///tmp/mlruns",
        "--proc", "/proc",
        "--dev", "/dev",
        "--tmpfs", "/tmp",
    ]
    for name in _THREAD_VARIABLES:
        args += ["--setenv", name, threads]
    for path in _SYSTEM_DIRS:
        if os.path.lexists(path):
            args += ["--ro-bind", path, path] if not os.path.islink(path) else ["--symlink", os.readlink(path), path]
    for path in _SECRET_FILES:
        if os.path.exists(path):
            args += ["--ro-bind", "/dev/null", path]
    for path in code_dirs():
        args += ["--ro-bind", path, path]
    for path in [*hidden, *lab_state_dirs()]:
        if os.path.isdir(path) and any(_inside(path, c) for c in code_dirs()):
            args += ["--tmpfs", os.path.realpath(path)]
    for path in _outermost(read_only):
        args += ["--ro-bind", path, path]
    for path in masked:
        args += ["--ro-bind", str(MASKED_REFERENCE), path]
    args += ["--bind", work_dir, work_dir]
    if limits.gpu:
        for device in sorted(Path("/dev").glob("nvidia*")):
            args += ["--dev-bind", str(device), str(device)]
    return [*args, "--chdir", work_dir, "--"]


def run_model(
    model_dir: Path,
    inputs: dict[str, pd.DataFrame],
    *,
    read_only: Sequence[Path],
    hidden: Sequence[Path],
    limits: Limits,
    sandbox: SandboxKind = "bubblewrap",
) -> tuple[dict[str, pd.DataFrame], float]:
    """The model's outputs for each named input, and the seconds prediction took."""
    if not (model_dir / "MLmodel").is_file():
        raise SandboxFailure(f"{model_dir} is not an MLflow model folder (no MLmodel file): save it with mlflow.pyfunc.save_model")
    with tempfile.TemporaryDirectory(prefix="practicum-grading-") as tmp:
        work = Path(tmp)
        (work / "inputs").mkdir()
        for name, frame in inputs.items():
            frame.to_parquet(work / "inputs" / f"{name}.parquet", index=False)
        command = [sys.executable, "-m", "practicum.graders.sandbox_predict", str(model_dir.resolve()), str(work)]
        seconds = run_confined(
            command,
            work_dir=work,
            read_only=[model_dir, *read_only],
            hidden=hidden,
            limits=limits,
            sandbox=sandbox,
            doing="prediction",
            masked=reference_modules(PROJECTS_DIR),
        )
        outputs = {}
        for name in inputs:
            produced = work / "outputs" / f"{name}.parquet"
            if not produced.exists():
                raise SandboxFailure(f"the model produced no output for {name!r}")
            outputs[name] = pd.read_parquet(produced)
        return outputs, seconds


def run_confined(
    command: list[str],
    *,
    work_dir: Path,
    read_only: Sequence[Path],
    hidden: Sequence[Path],
    limits: Limits,
    sandbox: SandboxKind = "bubblewrap",
    doing: str = "the run",
    masked: Sequence[str] = (),
) -> float:
    """Run ``command`` (a Python module of this lab that reports failures in ``work_dir/error.txt``)
    confined to the sandbox with ``work_dir`` writable; returns its seconds or raises SandboxFailure.
    The files in ``masked`` read as a module that raises ImportError."""
    if sandbox == "bubblewrap":
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            raise SandboxFailure("bubblewrap (bwrap) is not installed: install it (apt-get install bubblewrap) or use sandbox='none'")
        prefix = sandbox_command(
            work_dir=str(work_dir),
            read_only=[str(Path(p).resolve()) for p in read_only],
            hidden=[str(p) for p in hidden],
            limits=limits,
            bwrap=bwrap,
            masked=masked,
        )
        command = prefix + command
    started = time.perf_counter()
    returncode, output = _run_limited(command, limits, doing)
    seconds = time.perf_counter() - started
    error = work_dir / ERROR_FILE
    if error.exists():
        raise SandboxFailure(f"the model failed during {doing}:\n" + error.read_text())
    if returncode != 0:
        reason = "it ran out of memory" if returncode in (-signal.SIGKILL, 137) else f"exit status {returncode}"
        raise SandboxFailure(f"the sandboxed {doing} stopped ({reason}):\n{output[-2000:]}")
    return seconds


def _run_limited(command: list[str], limits: Limits, doing: str) -> tuple[int, str]:
    cores = sorted(os.sched_getaffinity(0))[: max(1, math.ceil(limits.cpus))]

    def confine() -> None:  # runs in the child before exec
        os.sched_setaffinity(0, cores)
        resource.setrlimit(resource.RLIMIT_DATA, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=confine, start_new_session=True
    )
    try:
        output, _ = process.communicate(timeout=limits.time_limit_seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise SandboxFailure(f"{doing} took longer than the limit of {limits.time_limit_seconds} s") from None
    return process.returncode, output.decode(errors="replace")


def _inside(path: str, folder: str) -> bool:
    real = os.path.realpath(path)
    return real == folder or real.startswith(folder.rstrip("/") + "/")


def _outermost(paths: Sequence[str]) -> list[str]:
    real = sorted({os.path.realpath(p) for p in paths if os.path.exists(p)})
    kept: list[str] = []
    for path in real:
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return kept
