"""The bubblewrap command line that confines one learner's server.

The sandbox sees a file system assembled from read-only pieces (system, Python,
the lab's code), its own home, the public datasets read-only at ``/datasets`` and
the nbgrader exchange. Nothing else of the host is there: not other learners'
homes, not the lab's state (databases, hidden labels, course sources).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field

SANDBOX_UID = 1000
SANDBOX_DATASETS = "/datasets"
SANDBOX_EXCHANGE = "/srv/nbgrader/exchange"
SANDBOX_JUPYTER_CONFIG = "/srv/practicum/jupyter-config"

_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc")
_SECRET_FILES = ("/etc/shadow", "/etc/gshadow", "/etc/sudoers")


class SandboxUnavailable(RuntimeError):
    """bubblewrap is not installed."""


@dataclass(frozen=True)
class SandboxMounts:
    home_on_host: str
    home: str
    public_datasets: str
    exchange: str
    jupyter_etc: str
    # Read-only code the kernel needs: the Python installation, the venv, the lab's source.
    code_dirs: Sequence[str] = ()
    # Folders inside code_dirs that must stay invisible (the lab's state folder).
    hidden_dirs: Sequence[str] = ()
    gpu_devices: Sequence[str] = field(default=())


def bubblewrap_path() -> str:
    path = shutil.which("bwrap")
    if path is None:
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed: install it (apt-get install bubblewrap) "
            "or start the lab with --sandbox none"
        )
    return path


def bubblewrap_command(mounts: SandboxMounts, bwrap: str = "bwrap") -> list[str]:
    """The argv prefix that runs a command inside the sandbox (append ``--`` and the command)."""
    args = [
        bwrap,
        "--die-with-parent",
        "--new-session",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-user",
        "--uid", str(SANDBOX_UID),
        "--gid", str(SANDBOX_UID),
        "--hostname", "sandbox",
        "--proc", "/proc",
        "--dev", "/dev",
        "--tmpfs", "/tmp",
    ]
    for path in _SYSTEM_DIRS:
        if os.path.lexists(path):
            args += ["--ro-bind", path, path] if not os.path.islink(path) else ["--symlink", os.readlink(path), path]
    for path in _SECRET_FILES:
        if os.path.exists(path):
            args += ["--ro-bind", "/dev/null", path]
    for path in _outermost(mounts.code_dirs):
        args += ["--ro-bind", path, path]
    for path in mounts.hidden_dirs:
        args += ["--tmpfs", path]
    args += [
        "--bind", mounts.home_on_host, mounts.home,
        "--ro-bind", mounts.public_datasets, SANDBOX_DATASETS,
        "--bind", mounts.exchange, SANDBOX_EXCHANGE,
        "--ro-bind", mounts.jupyter_etc, SANDBOX_JUPYTER_CONFIG,
    ]
    for device in mounts.gpu_devices:
        args += ["--dev-bind", f"/dev/nvidia{device}", f"/dev/nvidia{device}"]
    if mounts.gpu_devices:
        for shared in ("/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools"):
            if os.path.exists(shared):
                args += ["--dev-bind", shared, shared]
    args += ["--chdir", mounts.home, "--"]
    return args


def _outermost(paths: Sequence[str]) -> list[str]:
    """Existing paths, without those already inside another one (one bind covers them)."""
    real = sorted({os.path.realpath(p) for p in paths if os.path.exists(p)})
    kept: list[str] = []
    for path in real:
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return kept
