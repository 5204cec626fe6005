"""The embedded default's workers: processes that poll the queue table and grade what they claim.

``python -m practicum.grading worker`` is one; the service keeps ``workers`` of them running (and
starts a new one when one dies: its grading is claimed again once its lease runs out). Each worker
names the cgroups of its sandboxes after itself (``$PRACTICUM_CGROUP_OWNER``), so the pool removes
what a killed worker's sandboxes left behind, processes included.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from practicum.sandbox.cgroups import OWNER_ENV, sweep_owned

from .assignments import sweep_scratch
from .context import GradingContext
from .settings import GradingSettings
from .tasks import grade_next

log = logging.getLogger("practicum.grading")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def run_worker(context: GradingContext, stop: threading.Event, *, once: bool = False) -> int:
    """Grade until ``stop`` is set (or, with ``once``, until the queue is empty); returns how many."""
    name = worker_name()
    graded = 0
    while not stop.is_set():
        if grade_next(context, name) is not None:
            graded += 1
        elif once:
            break
        else:
            stop.wait(context.settings.poll_seconds)
    return graded


def worker_main(settings: GradingSettings) -> int:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    context = GradingContext(settings)
    try:
        run_worker(context, stop)
    finally:
        context.close()
    return 0


class LocalPool:
    """Keeps ``size`` worker processes alive, in their own process groups (a grading's sandboxes with them)."""

    def __init__(self, settings: GradingSettings, size: int) -> None:
        self._env = {**os.environ, **settings.to_env()}
        self._course_roots = [Path(str(course["root"])) for course in settings.courses.values() if course.get("root")]
        self._size = size
        self._processes: dict[subprocess.Popen[bytes], str] = {}  # worker -> its cgroup owner tag

    def keep_alive(self) -> None:
        self.reap()
        while len(self._processes) < self._size:
            owner = f"worker-{uuid.uuid4().hex[:10]}"
            process = subprocess.Popen([sys.executable, "-m", "practicum.grading", "worker"], env={**self._env, OWNER_ENV: owner},
                                       start_new_session=True)
            self._processes[process] = owner

    def reap(self) -> None:
        """Forget the workers that exited, removing what their sandboxes left."""
        for process, owner in [(p, o) for p, o in self._processes.items() if p.poll() is not None]:
            log.warning("grading worker %d exited with %s", process.pid, process.returncode)
            self._forget(process, owner)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._processes if p.poll() is None]

    def stop(self, timeout: float = 20.0) -> None:
        for process in self._processes:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + timeout
        for process, owner in list(self._processes.items()):
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            self._forget(process, owner)

    def _forget(self, process: subprocess.Popen[bytes], owner: str) -> None:
        del self._processes[process]
        try:
            left = sweep_owned(owner)
        except Exception:  # a cgroup that will not go is logged; the next worker starts regardless
            log.exception("cannot remove the cgroups grading worker %d left", process.pid)
            return
        if left:
            log.warning("removed %d sandbox cgroup(s) grading worker %d left behind: %s", len(left), process.pid, ", ".join(left))
        if scratch := sweep_scratch(self._course_roots, owner):
            log.warning("removed %d scratch folder(s) grading worker %d left behind: %s", len(scratch), process.pid,
                        ", ".join(map(str, scratch)))
