"""An IPython kernel inside the lab's sandbox, for nbgrader's autograde (kernelspec ``practicum-sandboxed``).

nbgrader executes a learner's notebook, hidden tests included, through a Jupyter kernel; with this
kernelspec that kernel runs as an unprivileged uid in a fresh sandbox (no network, no capabilities,
the lab's state, gradebook and course sources absent, whole-sandbox memory and process limits).
nbgrader itself, the gradebook and the hidden tests' sources stay outside, with the grader.

    python -m practicum.graders.sandboxed_kernel -f CONNECTION_FILE [KERNEL ARGS]   (the kernelspec's argv)

The notebook's folder (nbgrader's working copy of the submission) is copied into the sandbox's own
writable tmpfs before the kernel starts: whatever the notebook writes vanishes with the sandbox and
never reaches a folder the grader or the formgrader reads. The kernel's five ZeroMQ ports are
relayed in by the network bridge; nothing else crosses.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from practicum.contracts.project_modules import MASKED_REFERENCE
from practicum.sandbox.bridge import BridgeSpec, Inbound
from practicum.sandbox.command import IN_SANDBOX
from practicum.sandbox.identity import GRADING_UID, identity_files
from practicum.sandbox.limits import MIB, Limits
from practicum.sandbox.serve import ServeSpec, serve
from practicum.sandbox.spec import Bind, FileContent, LimitedSpec, SandboxSpec, Tmpfs

KERNEL_NAME = "practicum-sandboxed"
CONFIG_ENV = "PRACTICUM_KERNEL_SANDBOX"
SUBMISSION = "/submission"
WORK = "/home/jovyan/work"
CONNECTION = "/run/kernel/connection.json"
_PORTS = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")


@dataclass(frozen=True)
class KernelSandbox:
    """What a grading kernel sees and may use (a JSON file named by $PRACTICUM_KERNEL_SANDBOX)."""

    code_dirs: tuple[str, ...]
    public_datasets: str = ""
    masked_files: tuple[str, ...] = ()
    hidden_dirs: tuple[str, ...] = ()
    memory_bytes: int = 4096 * MIB
    cpus: float = 2.0
    pids: int = 512
    work_bytes: int = 1024 * MIB

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def read(cls, path: str | Path) -> KernelSandbox:
        raw = json.loads(Path(path).read_text())
        tuples = {name: tuple(raw.get(name, ())) for name in ("code_dirs", "masked_files", "hidden_dirs")}
        return cls(**{**raw, **tuples})


def write_kernelspec(data_dir: Path, python: str = sys.executable) -> Path:
    """Install the kernelspec under ``data_dir/kernels/`` (put ``data_dir`` on JUPYTER_PATH)."""
    folder = data_dir / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [python, "-m", "practicum.graders.sandboxed_kernel", "-f", "{connection_file}"],
        "display_name": "Python 3 (sandboxed for grading)",
        "language": "python",
        # Interrupts travel as messages: a signal to this launcher would stop the sandbox instead.
        "interrupt_mode": "message",
        "metadata": {"debugger": False},
    }
    (folder / "kernel.json").write_text(json.dumps(spec, indent=2))
    return folder


def kernel_launch(config: KernelSandbox, connection: dict, notebook_dir: str, extra_args: list[str], python: str) -> ServeSpec:
    ports = [int(connection[name]) for name in _PORTS]
    inside = {**connection, "ip": "127.0.0.1", "transport": "tcp"}
    passwd, group = identity_files(home="/home/jovyan")
    masked = MASKED_REFERENCE.read_bytes()
    binds = [*(Bind(path) for path in config.code_dirs), Bind(notebook_dir, SUBMISSION)]
    env = {"HOME": "/home/jovyan", "NBGRADER_EXECUTION": os.environ.get("NBGRADER_EXECUTION", "autograde")}
    if config.public_datasets:
        binds.append(Bind(config.public_datasets, "/datasets"))
        env["PRACTICUM_DATA_DIR"] = "/datasets"
    # nbgrader writes the notebook it executes, hidden tests restored, into this folder first: the
    # kernel gets the cells one by one, and the files there read as empty.
    notebooks = tuple(sorted(str(path) for path in Path(notebook_dir).glob("*.ipynb")))
    spec = SandboxSpec(
        command=(python, "-m", "practicum.graders.sandboxed_kernel", "--inside", CONNECTION, *extra_args),
        host_uid=GRADING_UID,
        binds=tuple(binds),
        hidden=(*notebooks, *config.hidden_dirs),
        tmpfs=(Tmpfs("/home/jovyan", config.work_bytes),),
        files=(passwd, group, FileContent(CONNECTION, json.dumps(inside).encode()), *(FileContent(p, masked) for p in config.masked_files)),
        env=env,
        workdir="/home/jovyan",
        hostname="grading",
    )
    limits = Limits(memory_bytes=config.memory_bytes, cpus=config.cpus, pids=config.pids, tmp_bytes=config.work_bytes)
    bridge = BridgeSpec(inbound=tuple(Inbound(host_port=p, inner_port=p, host_ip=connection.get("ip", "127.0.0.1")) for p in ports))
    return ServeSpec(LimitedSpec(spec, limits, cgroup_name=f"kernel-{uuid.uuid4().hex[:12]}"), bridge)


def _inside(connection_file: str, extra_args: list[str]) -> int:
    """In the sandbox: copy the submission into the writable work folder, then become the kernel."""
    Path(WORK).mkdir(parents=True, exist_ok=True)
    shutil.copytree(SUBMISSION, WORK, dirs_exist_ok=True, symlinks=True)
    os.chdir(WORK)
    os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f", connection_file, *extra_args])
    return 1


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) >= 2 and args[0] == "--inside":
        return _inside(args[1], args[2:])
    if len(args) < 2 or args[0] != "-f":
        print(__doc__, file=sys.stderr)
        return 2
    if os.environ.get(IN_SANDBOX):
        print(
            "A grading kernel runs learner code, which only the lab's grader starts (outside any sandbox): "
            "autograde with `practicum autograde COURSE ASSIGNMENT --student NAME` on the lab's host.",
            file=sys.stderr,
        )
        return 1
    if CONFIG_ENV not in os.environ:
        print(f"{CONFIG_ENV} must name the kernel sandbox's settings (a JSON file)", file=sys.stderr)
        return 2
    connection = json.loads(Path(args[1]).read_text())
    config = KernelSandbox.read(os.environ[CONFIG_ENV])
    return serve(kernel_launch(config, connection, os.getcwd(), args[2:], sys.executable))


if __name__ == "__main__":
    sys.exit(main())
