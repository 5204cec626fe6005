"""Checks made before anything starts, so bad configuration fails fast and clearly."""

from __future__ import annotations

import errno
import os
import shutil
import socket
from collections.abc import Mapping
from pathlib import Path

from .errors import LabError


def check_ports_free(ip: str, ports: Mapping[str, int]) -> None:
    for name, port in ports.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            # As the servers do: a port whose last connections linger in TIME_WAIT is free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((ip, port))
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise LabError(
                        f"port {port} ({name}) on {ip} is already in use: stop what uses it "
                        "(`practicum down` if it is another lab) or choose other ports"
                    ) from None
                raise LabError(f"cannot bind {ip}:{port} ({name}): {exc.strerror}") from None


def check_executable(path: Path, *, what: str, fix: str) -> None:
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise LabError(f"{what} not found at {path}: {fix}")


def check_readable_dir(path: Path, *, what: str) -> None:
    if not path.exists():
        raise LabError(f"{what} {path} does not exist")
    if not path.is_dir():
        raise LabError(f"{what} {path} is not a folder")
    if not os.access(path, os.R_OK | os.X_OK):
        raise LabError(f"{what} {path} is not readable")
    try:
        next(os.scandir(path), None)
    except OSError as exc:
        raise LabError(f"{what} {path} is not readable: {exc.strerror}") from None


def check_readable_by_sandboxes(path: Path, *, what: str) -> None:
    """Sandboxes run as unprivileged uids: files only their owner may read are as good as absent."""
    from practicum.datasets.splits import unreadable_by_others

    found = unreadable_by_others(path)
    if found:
        raise LabError(
            f"{what} {path} holds files only their owner may read (e.g. {found[0]}); sandboxes read them as an "
            f"unprivileged user: `chmod -R a+rX {path}` (builds made by `practicum datasets build` are readable)"
        )


def resolve_sandbox_mode(requested: str) -> str:
    """'auto' means bubblewrap where it is installed."""
    if requested not in ("auto", "bubblewrap", "none"):
        raise LabError(f"unknown sandbox mode {requested!r}: use auto, bubblewrap or none")
    has_bwrap = shutil.which("bwrap") is not None
    if requested == "bubblewrap" and not has_bwrap:
        raise LabError("bubblewrap (bwrap) is not installed: apt-get install bubblewrap, or use --sandbox none")
    if requested == "auto":
        return "bubblewrap" if has_bwrap else "none"
    return requested
