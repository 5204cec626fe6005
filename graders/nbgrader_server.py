"""One nbgrader process that autogrades one submission after another (nbgrader's API, as the formgrader calls it).

An ``nbgrader autograde`` process spends about two seconds starting (imports, traitlets config) before it
grades, as much as the two sandboxed kernel runs of a small assignment; a worker that grades all day pays it
once with this. The server is started with ``python -I`` (no course folder on ``sys.path``), reads one request
a line on stdin and answers one line on its own copy of stdout; nbgrader's and the kernels' output go to
/dev/null (the answer carries nbgrader's captured log). It grades in the course folder each request names:
the caller has written that folder's nbgrader_config.py and refused a folder holding other code
(``nbgrader_folders``), as before a command-line nbgrader.

The client (``AutogradeServer``) keeps the server in a cgroup of its own with nbgrader's memory limit, bounds
each grading's time, and starts a fresh server after any grading that failed, ran out of time or memory, or
left a process behind, so that nothing of one grading outlives it into the next.

    python -I -m practicum.graders.nbgrader_server
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from practicum.sandbox.cgroups import Cgroup, CgroupLimits, cgroups_available

CONFIG = "nbgrader_config.py"
REPLY_BYTES = 64 * 1024  # an answer holds a tail of nbgrader's log, never more


@dataclass(frozen=True)
class Answer:
    success: bool
    log: str


class ServerFailed(RuntimeError):
    """The server did not answer: it ran out of time (``timed_out``), out of memory, or died."""

    def __init__(self, message: str, *, timed_out: bool = False, out_of_memory: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out
        self.out_of_memory = out_of_memory


class AutogradeServer:
    """The grader's end: one server process at a time, started on first use, with ``env`` (the kernel sandbox's settings)."""

    def __init__(self, env: Mapping[str, str], memory_bytes: int, python: str = sys.executable) -> None:
        self._env = dict(env)
        self._memory_bytes = memory_bytes
        self._python = python
        self._process: subprocess.Popen[bytes] | None = None
        self._cgroup: Cgroup | None = None
        self._pending = b""

    def autograde(self, course_root: Path, assignment: str, student: str, seconds: float) -> Answer:
        process = self._started()
        request = json.dumps({"course_root": str(course_root), "assignment": assignment, "student": student}) + "\n"
        try:
            assert process.stdin is not None
            process.stdin.write(request.encode())
            process.stdin.flush()
            line = self._read_line(process, seconds)
        except ServerFailed:
            self.close()
            raise
        except (BrokenPipeError, OSError):
            self.close()
            raise ServerFailed("the nbgrader process ended before it graded") from None
        answer = Answer(**json.loads(line))
        if not answer.success or self._left_behind():
            self.close()
        return answer

    @property
    def running(self) -> tuple[int, str | None] | None:
        """The server's pid and cgroup name while it runs."""
        if self._process is None or self._process.poll() is not None:
            return None
        return self._process.pid, self._cgroup.name if self._cgroup is not None else None

    def close(self) -> None:
        process, self._process = self._process, None
        cgroup, self._cgroup = self._cgroup, None
        self._pending = b""
        if process is not None:
            if cgroup is not None:
                cgroup.kill()
            if process.poll() is None:
                process.kill()
            process.wait()
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    stream.close()
        if cgroup is not None:
            cgroup.remove()

    def _started(self) -> subprocess.Popen[bytes]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        self.close()
        if cgroups_available():
            self._cgroup = Cgroup.create(f"nbgrader-{uuid.uuid4().hex[:12]}", CgroupLimits(self._memory_bytes, pids=1024))
        self._process = subprocess.Popen(
            [self._python, "-I", "-m", "practicum.graders.nbgrader_server"], env=self._env, cwd="/",
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            preexec_fn=self._cgroup.join if self._cgroup is not None else None, start_new_session=True,
        )
        return self._process

    def _read_line(self, process: subprocess.Popen[bytes], seconds: float) -> bytes:
        assert process.stdout is not None
        deadline = time.monotonic() + seconds
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while b"\n" not in self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ServerFailed(f"took longer than {seconds:g} s", timed_out=True)
                if not selector.select(left):
                    continue
                chunk = os.read(process.stdout.fileno(), REPLY_BYTES)
                if not chunk:
                    process.wait()
                    out_of_memory = self._cgroup is not None and self._cgroup.usage().oom_kills > 0
                    raise ServerFailed("ran out of memory (the notebook's output or data is too large)" if out_of_memory
                                       else f"ended with status {process.returncode}", out_of_memory=out_of_memory)
                self._pending += chunk
                if len(self._pending) > REPLY_BYTES:
                    raise ServerFailed("answered more than an answer holds")
        line, _, self._pending = self._pending.partition(b"\n")
        return line

    def _left_behind(self) -> bool:
        """Whether the grading left a process (a kernel launcher that would not stop) beside the server."""
        if self._cgroup is None or self._process is None:
            return False
        return bool(self._cgroup.processes() - {self._process.pid})


# --- the server's end (in its own process) ------------------------------------------------------------


def _grade(request: dict[str, str]) -> dict[str, object]:
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    root = request["course_root"]
    config = PyFileConfigLoader(CONFIG, path=root).load_config()
    config.merge(Config({"CourseDirectory": {"root": root}}))
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    outcome = api.autograde(request["assignment"], request["student"], force=True, create=True)
    log = outcome.get("log") or ""
    if "Traceback (most recent call last):" not in log:  # nbgrader logs a notebook's own failure; else its exception
        log = f"{log}\n{outcome.get('error') or ''}".strip()
    return {"success": bool(outcome["success"]), "log": log[-(REPLY_BYTES // 4):]}


def main() -> int:
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)  # nbgrader's and the kernels' own output never reaches the answers
    os.dup2(quiet, 2)
    for line in sys.stdin:
        try:
            answer = _grade(json.loads(line))
        except Exception as error:  # noqa: BLE001 - the answer says what failed; the next request is served anew
            answer = {"success": False, "log": f"{type(error).__name__}: {error}"}
        replies.write(json.dumps(answer) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
