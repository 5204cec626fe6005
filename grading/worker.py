"""The embedded default's workers: processes that poll the queue table and grade what they claim.

``python -m practicum.grading worker`` is one; the service keeps ``workers`` of them running (and
starts a new one when one dies: its grading is claimed again once its lease runs out).
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
        self._size = size
        self._processes: list[subprocess.Popen[bytes]] = []

    def keep_alive(self) -> None:
        for process in [p for p in self._processes if p.poll() is not None]:
            log.warning("grading worker %d exited with %s; starting another", process.pid, process.returncode)
            self._processes.remove(process)
        while len(self._processes) < self._size:
            self._processes.append(
                subprocess.Popen([sys.executable, "-m", "practicum.grading", "worker"], env=self._env, start_new_session=True)
            )

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._processes if p.poll() is None]

    def stop(self, timeout: float = 20.0) -> None:
        for process in self._processes:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + timeout
        for process in self._processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self._processes.clear()
