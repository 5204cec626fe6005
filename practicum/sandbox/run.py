"""Run one command in a sandbox to its end, under whole-sandbox limits, with bounded capture.

The sandbox's standard output is its *result channel*: copied to a file the caller names, up to
``Limits.result_bytes`` (more stops the run). Its standard error is its log: the caller keeps the
first and last bytes, never all of it. Wall time, memory (with tmpfs and shared memory) and the
process count are enforced for the sandbox as a whole by a cgroup; a run that breaks one is
stopped and the outcome says which. Nothing here reads a file the sandbox could have written.
"""

from __future__ import annotations

import logging
import os
import resource
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .cgroups import Cgroup, CgroupLimits, CgroupUsage, cgroups_available
from .command import prepared_command, sandbox_environment
from .limits import Limits, describe_bytes
from .spec import SandboxSpec

log = logging.getLogger(__name__)
Confinement = Literal["bubblewrap", "none"]
Stop = Literal["time", "memory", "processes", "result size"]
_REAP_SECONDS = 10.0


@dataclass(frozen=True)
class RunOutcome:
    exit_status: int | None
    stopped_by: Stop | None
    seconds: float
    log: str
    result_bytes: int
    limits: Limits
    memory_peak_bytes: int | None = None

    @property
    def ok(self) -> bool:
        return self.stopped_by is None and self.exit_status == 0

    def reason(self) -> str:
        """One sentence for a learner: why the run did not end well."""
        limits = self.limits
        if self.stopped_by == "time":
            return f"it took longer than the limit of {limits.wall_seconds:g} s"
        if self.stopped_by == "memory":
            return f"it ran out of memory (the sandbox may use {describe_bytes(limits.memory_bytes)} in all, files in /tmp included)"
        if self.stopped_by == "processes":
            return f"it started more than {limits.pids} processes or threads"
        if self.stopped_by == "result size":
            return f"its output was larger than {describe_bytes(limits.result_bytes)}"
        return f"exit status {self.exit_status}" if self.exit_status is not None else "it was stopped"


def run_sandboxed(
    spec: SandboxSpec,
    limits: Limits,
    *,
    result_path: Path,
    cgroup_name: str,
    confinement: Confinement = "bubblewrap",
    extra_fds: Sequence[int] = (),
) -> RunOutcome:
    """Run ``spec`` to its end; ``result_path`` (created here, must not exist) receives its stdout."""
    if limits.wall_seconds is None:
        raise ValueError("a run to completion needs a wall-time limit")
    cgroup = _cgroup(cgroup_name, limits)
    try:
        if confinement == "bubblewrap":
            with prepared_command(spec, limits) as prepared:
                return _run(prepared.argv, [*prepared.fds, *extra_fds], None, limits, result_path, cgroup)
        return _run(list(spec.command), list(extra_fds), sandbox_environment(spec, limits), limits, result_path, cgroup)
    finally:
        if cgroup is not None:
            cgroup.remove()


def _cgroup(name: str, limits: Limits) -> Cgroup | None:
    if cgroups_available() is None:
        log.warning("cgroups are not available: sandbox limits apply per process only")
        return None
    return Cgroup.create(name, CgroupLimits(memory_bytes=limits.memory_bytes, pids=limits.pids, cpus=limits.cpus))


def _run(argv: list[str], fds: list[int], env: dict[str, str] | None, limits: Limits, result_path: Path, cgroup: Cgroup | None) -> RunOutcome:
    cores = sorted(os.sched_getaffinity(0))[: max(1, -(-int(limits.cpus * 1000) // 1000))]

    def confine() -> None:  # in the child, before exec
        if cgroup is not None:
            cgroup.join()
        else:
            resource.setrlimit(resource.RLIMIT_DATA, (limits.memory_bytes, limits.memory_bytes))
        os.sched_setaffinity(0, cores)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    result_fd = os.open(result_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    started = time.monotonic()
    process = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=fds,
        preexec_fn=confine, start_new_session=True, env=env, cwd="/",
    )
    overflow = threading.Event()
    tail = HeadTail(limits.log_bytes)
    copier = threading.Thread(target=_copy_result, args=(process.stdout, result_fd, limits.result_bytes, overflow), daemon=True)
    logger = threading.Thread(target=tail.consume, args=(process.stderr,), daemon=True)
    copier.start()
    logger.start()
    stopped: Stop | None = None
    deadline = started + limits.wall_seconds
    while process.poll() is None:
        if overflow.is_set():
            stopped = "result size"
            break
        if time.monotonic() >= deadline:
            stopped = "time"
            break
        try:
            process.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            pass
    if process.poll() is None:
        _kill(process, cgroup)
    seconds = time.monotonic() - started
    copier.join(_REAP_SECONDS)
    logger.join(_REAP_SECONDS)
    if copier.is_alive() or logger.is_alive():  # something still holds the pipes open: end it
        _kill(process, cgroup)
        copier.join(_REAP_SECONDS)
        logger.join(_REAP_SECONDS)
    written = os.fstat(result_fd).st_size
    os.close(result_fd)
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()
    usage = cgroup.usage() if cgroup is not None else CgroupUsage(None, 0, 0, None)
    if stopped is None and overflow.is_set():
        stopped = "result size"
    if stopped is None and usage.oom_kills:
        stopped = "memory"
    if stopped is None and process.returncode != 0 and usage.pids_limit_hits:
        stopped = "processes"
    exit_status = process.returncode if stopped is None else None
    return RunOutcome(exit_status, stopped, seconds, tail.text(), written, limits, usage.memory_peak_bytes)


def _kill(process: subprocess.Popen[bytes], cgroup: Cgroup | None) -> None:
    if cgroup is not None:
        cgroup.kill()
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=_REAP_SECONDS)
    except subprocess.TimeoutExpired:
        log.error("sandbox process %s did not die after SIGKILL", process.pid)


def _copy_result(stream, fd: int, limit: int, overflow: threading.Event) -> None:
    written = 0
    while chunk := stream.read1(1 << 20):
        if written + len(chunk) > limit:
            os.write(fd, chunk[: limit - written])
            overflow.set()
            break
        os.write(fd, chunk)
        written += len(chunk)
    while stream.read1(1 << 20):  # drain until the sandbox is stopped, keeping nothing
        pass


class HeadTail:
    """The first and last bytes of a stream (half of ``limit`` each), and how much was skipped."""

    def __init__(self, limit: int) -> None:
        self.half = max(1, limit // 2)
        self.head = bytearray()
        self.tail = bytearray()
        self.skipped = 0

    def consume(self, stream) -> None:
        while chunk := stream.read1(1 << 16):
            room = self.half - len(self.head)
            if room > 0:
                self.head += chunk[:room]
                chunk = chunk[room:]
            if chunk:
                self.tail += chunk
                if len(self.tail) > self.half:
                    self.skipped += len(self.tail) - self.half
                    del self.tail[: len(self.tail) - self.half]

    def text(self) -> str:
        middle = f"\n[... {self.skipped} bytes of output left out ...]\n" if self.skipped else ""
        return (bytes(self.head).decode(errors="replace") + middle + bytes(self.tail).decode(errors="replace")).strip()
