"""Run the grader's own work on a learner's output in a child process with a memory and time limit.

The output passed its metadata checks, but decoding and scoring it is still work a hostile table
could blow up; in a forked child under its own cgroup (or an address-space limit where cgroups are
unavailable) the worst it can do is fail that grading with a clear reason. The grader stays healthy.
"""

from __future__ import annotations

import os
import pickle
import resource
import select
import signal
import time
import traceback
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from practicum.sandbox.cgroups import Cgroup, CgroupLimits, cgroups_available
from practicum.sandbox.limits import MIB, describe_bytes

T = TypeVar("T")
DEFAULT_MEMORY_BYTES = 4096 * MIB
DEFAULT_SECONDS = 600.0


class Refused(ValueError):
    """The scored output was refused by the protocol (its message is for the learner)."""


class LimitExceeded(RuntimeError):
    """Scoring ran out of time or memory."""


def call_bounded(
    function: Callable[..., T],
    *args: Any,
    refusals: tuple[type[BaseException], ...],
    memory_bytes: int = DEFAULT_MEMORY_BYTES,
    seconds: float = DEFAULT_SECONDS,
    what: str = "scoring",
) -> T:
    """``function(*args)`` computed in a forked child; an exception of ``refusals`` there raises
    ``Refused`` here with its message; running out of limits raises ``LimitExceeded``."""
    cgroup = Cgroup.create(f"{what.replace(' ', '-')}-{uuid.uuid4().hex[:12]}", CgroupLimits(memory_bytes, pids=64)) if cgroups_available() else None
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, send, leave without running the parent's cleanup
        os.close(reader)
        try:
            if cgroup is not None:
                cgroup.join()
            else:
                resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
            try:
                message = ("ok", function(*args))
            except refusals as refusal:
                message = ("refused", str(refusal))
            except BaseException:  # noqa: BLE001 - reported to the parent as a grader error
                message = ("error", traceback.format_exc())
            with os.fdopen(writer, "wb") as out:
                pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
        finally:
            os._exit(0)
    os.close(writer)
    try:
        data = _read_until(reader, time.monotonic() + seconds)
    finally:
        os.close(reader)
        if data is None:
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        usage = cgroup.usage() if cgroup is not None else None
        if cgroup is not None:
            cgroup.remove()
    if data is None:
        raise LimitExceeded(f"{what} took longer than {seconds:g} s")
    if not data:
        oom = usage is not None and usage.oom_kills > 0
        raise LimitExceeded(f"{what} ran out of memory ({describe_bytes(memory_bytes)})" if oom else f"{what} stopped unexpectedly")
    kind, value = pickle.loads(data)  # written by our own child, never by learner code
    if kind == "refused":
        raise Refused(value)
    if kind == "error":
        raise RuntimeError(f"{what} failed:\n{value}")
    return value


def _read_until(fd: int, deadline: float) -> bytes | None:
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return None
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
