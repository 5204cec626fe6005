"""The bubblewrap command line that confines one learner's server.

The sandbox sees a file system assembled from read-only pieces (system, Python,
the lab's code), its own home, the public datasets read-only at ``/datasets`` and
the nbgrader exchange. Nothing else of the host is there: not other learners'
homes, not the lab's state (databases, hidden labels, course sources), not the
projects' instructor reference solutions (each ``reference.py`` reads as a module that
raises a clear ImportError).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field

from practicum.contracts.project_modules import MASKED_REFERENCE

SANDBOX_UID = 1000
# The Jupyter Docker stacks' user name: nbgrader then takes the learner's name from
# JUPYTERHUB_USER (nbgrader.utils.get_username), as in the Kubernetes image.
SANDBOX_USER = "jovyan"
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
    # Files inside code_dirs replaced by MASKED_REFERENCE (the projects' instructor references).
    masked_files: Sequence[str] = ()
    gpu_devices: Sequence[str] = field(default=())
    # Folder with the sandbox's passwd and group files (write_identity_files), bound over /etc's.
    identity_dir: str | None = None


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
    if mounts.identity_dir:
        for name in ("passwd", "group"):
            args += ["--ro-bind", os.path.join(mounts.identity_dir, name), f"/etc/{name}"]
    for path in _outermost(mounts.code_dirs):
        args += ["--ro-bind", path, path]
    for path in mounts.hidden_dirs:
        args += ["--tmpfs", path]
    for path in mounts.masked_files:
        args += ["--ro-bind", str(MASKED_REFERENCE), path]
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


def write_identity_files(folder: str, host_etc: str = "/etc") -> None:
    """passwd and group for sandboxes: the host's, with uid/gid 1000 named jovyan."""
    os.makedirs(folder, exist_ok=True)
    for name, entry in (
        ("passwd", f"{SANDBOX_USER}:x:{SANDBOX_UID}:{SANDBOX_UID}:Learner:/home/{SANDBOX_USER}:/bin/bash"),
        ("group", f"{SANDBOX_USER}:x:{SANDBOX_UID}:"),
    ):
        try:
            with open(os.path.join(host_etc, name)) as handle:
                lines = handle.read().splitlines()
        except OSError:
            lines = []
        kept = [line for line in lines if not _names_sandbox_identity(line)]
        with open(os.path.join(folder, name), "w") as handle:
            handle.write("\n".join([*kept, entry]) + "\n")


def _names_sandbox_identity(line: str) -> bool:
    fields = line.split(":")
    return len(fields) > 2 and (fields[0] == SANDBOX_USER or fields[2] == str(SANDBOX_UID))


def _outermost(paths: Sequence[str]) -> list[str]:
    """Existing paths, without those already inside another one (one bind covers them)."""
    real = sorted({os.path.realpath(p) for p in paths if os.path.exists(p)})
    kept: list[str] = []
    for path in real:
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return kept
