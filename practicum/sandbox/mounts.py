"""The host pieces most sandboxes see: the system, the Python installation, the lab's code.

Only the lab's importable rooms are bound (``practicum/`` and the folders it links), never the
whole checkout: no ``.git``, no state folder, no tests, no course sources with hidden tests (the
projects' notebook sources inside a bound room are hidden: ``instructor_sources``).
Secret system files (shadow and its backups, sudoers, host keys) read as empty.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from collections.abc import Iterable, Sequence
from pathlib import Path

from .spec import Bind

SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
# Read as empty files inside every sandbox, whatever their host permissions.
SECRET_FILES = (
    "/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/sudoers",
    "/etc/security/opasswd", "/etc/.pwd.lock", "/etc/machine-id",
)
# Read as empty folders.
SECRET_DIRS = ("/etc/sudoers.d", "/etc/ssl/private", "/etc/ssh", "/etc/mysql", "/etc/postgresql", "/etc/redis", "/etc/rabbitmq")


LAB_PACKAGE = Path(__file__).resolve().parents[1]  # practicum/: its links name the lab's rooms


def system_entries() -> list[tuple[str, str | None]]:
    """(path, symlink target or None) for each system folder present on this host."""
    found = []
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            found.append((path, os.readlink(path)))
        elif os.path.isdir(path):
            found.append((path, None))
    return found


def secret_paths() -> tuple[list[str], list[str]]:
    """The secret files and folders of this host's /etc that exist (files, folders)."""
    files = [p for p in SECRET_FILES if os.path.lexists(p)]
    files += [str(p) for p in Path("/etc").glob("*.bak") if p.is_file()]
    return files, [p for p in SECRET_DIRS if os.path.isdir(p)]


def instructor_sources(package_dir: str | Path = LAB_PACKAGE) -> list[str]:
    """The nbgrader sources inside the lab's rooms: each project's ``notebook/`` (the starter notebook
    with its hidden tests; learners get it released, without them). Every sandbox sees them empty."""
    projects = Path(package_dir) / "projects"
    return sorted(os.path.realpath(p) for p in projects.glob("*/notebook") if p.is_dir())


def python_binds() -> list[Bind]:
    """The interpreter, its standard library and the virtual environment, read-only."""
    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    candidates |= {p for p in sysconfig.get_paths().values() if os.path.isdir(p)}
    return [Bind(p) for p in outermost(candidates) if not _under_system(p)]


def lab_code_binds(package_dir: str | Path) -> list[Bind]:
    """``practicum/`` and each room folder it links to (``practicum/graders -> ../graders``...)."""
    package = Path(os.path.realpath(package_dir))
    rooms = {str(package)}
    for entry in package.iterdir():
        if entry.is_symlink() and entry.is_dir():
            rooms.add(os.path.realpath(entry))
    return [Bind(p) for p in outermost(rooms)]


def outermost(paths: Iterable[str]) -> list[str]:
    """Existing real paths, without those inside another one (one bind covers them)."""
    real = sorted({os.path.realpath(p) for p in paths if os.path.exists(p)})
    kept: list[str] = []
    for path in real:
        if not any(inside(path, k) for k in kept):
            kept.append(path)
    return kept


def inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _under_system(path: str) -> bool:
    return any(inside(os.path.realpath(path), os.path.realpath(d)) for d in SYSTEM_DIRS if os.path.isdir(d))


def sandbox_path(host_path: str, binds: Sequence[Bind]) -> str | None:
    """Where ``host_path`` appears inside the sandbox through ``binds`` (None: it does not)."""
    real = os.path.realpath(host_path)
    for bind in sorted(binds, key=lambda b: len(b.source), reverse=True):
        source = os.path.realpath(bind.source)
        if inside(real, source):
            return bind.at.rstrip("/") + real[len(source):] if real != source else bind.at
    return None
