"""nbgrader autograding of one learner's submission, run in the course folder.

Collecting reads only that learner's own inbound (``graders.exchange``); autograding runs
nbgrader as the grader, with every notebook executed by the ``practicum-sandboxed`` kernel
(``graders.sandboxed_kernel``): learner code and the hidden tests it is checked with run in a
sandbox as an unprivileged uid, while nbgrader writes the gradebook outside it. nbgrader itself
works on the learner's files (it parses their notebook and holds the kernel's outputs), so it runs
under a memory limit and a wall-time limit of its own; breaking either fails this grading only.

Autograding goes through one nbgrader process per grader process, kept between gradings
(``graders.nbgrader_server``: nbgrader's own start is paid once); collecting runs nbgrader's command.
nbgrader is not safe to run in parallel on one gradebook (nbgrader #917): callers grade one
submission of a course folder at a time (``graders.course_copies`` gives each grading a folder).
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import subprocess
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from practicum.graders.exchange import place_submission
from practicum.graders.nbgrader_folders import CodeInCourseFolder, refuse_code_in
from practicum.graders.nbgrader_server import AutogradeServer, ServerFailed
from practicum.sandbox.cgroups import Cgroup, CgroupLimits, cgroups_available
from practicum.sandbox.identity import own
from practicum.sandbox.limits import MIB
from practicum.sandbox.readback import TreeLimits, UnsafeFile, tree_hash
from practicum.sandbox.run import HeadTail

NBGRADER_MEMORY_BYTES = 2048 * MIB
NBGRADER_SECONDS = 1800
SUBMISSION_LIMITS = TreeLimits(max_files=2000, max_bytes=500 * MIB)
LOG_TAIL_BYTES = 256 * 1024  # what is kept of nbgrader's output (its first and last bytes), for the error message
_REAP_SECONDS = 10.0
# The last line of a Python traceback: "nbformat.reader.NotJSONError: Notebook does not appear to be JSON: ..."
_EXCEPTION_LINE = re.compile(r"^\s*(?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:Error|Exception|Exit|Interrupt)(?::.*)?$")


class AutogradeError(RuntimeError):
    pass


@dataclass(frozen=True)
class AutogradeOutcome:
    course_id: str
    assignment: str
    student: str
    score: float
    max_score: float
    code_hash: str
    started_at: datetime
    finished_at: datetime

    @property
    def fraction(self) -> float:
        return self.score / self.max_score if self.max_score else 0.0


def autograde_submission(
    course_root: Path,
    course_id: str,
    assignment: str,
    student: str,
    *,
    nbgrader: str,
    env: Mapping[str, str] | None = None,
    owner_uid: int | None = None,
    kernel_memory_bytes: int = 4096 * MIB,
    seconds: float = NBGRADER_SECONDS,
    submission: Path | None = None,
) -> AutogradeOutcome:
    """Collect the learner's latest submission, autograde it, read the gradebook.

    ``env`` must carry the course's kernel sandbox settings (JUPYTER_PATH with the
    ``practicum-sandboxed`` kernelspec and $PRACTICUM_KERNEL_SANDBOX); the course's
    nbgrader_config.py names the collector and the kernel. ``owner_uid`` gets the course folder
    back afterwards (the formgrader runs as that uid). ``submission`` is the inbound submission folder to
    grade (the grading service's stored copy), placed as nbgrader's collect would without running it;
    without it, nbgrader's collect takes the learner's newest from their inbound."""
    started = datetime.now(UTC)
    run_env = dict(env if env is not None else os.environ)
    memory = NBGRADER_MEMORY_BYTES + kernel_memory_bytes
    submitted = course_root / "submitted" / student / assignment
    try:
        if submission is None:
            collect = ["collect", assignment, "--update", "--student", student]
            _nbgrader(nbgrader, collect, course_root, run_env, memory, seconds, what=f"collect {assignment} for {student}")
        else:
            if submitted.exists():
                shutil.rmtree(submitted)
            try:
                place_submission(submission, submitted, SUBMISSION_LIMITS)
            except UnsafeFile as error:
                raise AutogradeError(f"the submission of {assignment} by {student} cannot be placed: {error}") from None
        if not submitted.is_dir():
            raise AutogradeError(f"{student} has no submission of {assignment} in {course_id}")
        _autograde(course_root, assignment, student, run_env, memory, seconds)
    finally:
        if owner_uid is not None:
            own(course_root, owner_uid, always=True)
    with Gradebook(f"sqlite:///{course_root / 'gradebook.db'}", course_id=course_id) as gradebook:
        try:
            submission = gradebook.find_submission(assignment, student)
        except MissingEntry:
            raise AutogradeError(f"the gradebook has no graded submission of {assignment} by {student}") from None
        score, max_score = float(submission.score), float(submission.max_score)
    try:
        code_hash = tree_hash(submitted, skip=frozenset({"timestamp.txt"}))
    except UnsafeFile as error:
        raise AutogradeError(f"the submission of {assignment} by {student} cannot be hashed: {error}") from None
    return AutogradeOutcome(
        course_id=course_id,
        assignment=assignment,
        student=student,
        score=score,
        max_score=max_score,
        code_hash=code_hash,
        started_at=started,
        finished_at=datetime.now(UTC),
    )


# Idle autograde servers by (process, memory limit, environment): a grading takes one (or starts one) and gives it
# back, so that gradings in parallel threads each have their own and a forked child never uses its parent's.
_idle: dict[tuple[int, int, tuple[tuple[str, str], ...]], list[AutogradeServer]] = {}
_idle_lock = threading.Lock()


def _autograde(course_root: Path, assignment: str, student: str, env: dict[str, str], memory_bytes: int, seconds: float) -> None:
    what = f"autograde {assignment} for {student}"
    try:
        refuse_code_in(course_root)
    except CodeInCourseFolder as error:
        raise AutogradeError(str(error)) from None
    key = (os.getpid(), memory_bytes, tuple(sorted(env.items())))
    with _idle_lock:
        idle = _idle.get(key)
        server = idle.pop() if idle else AutogradeServer(env, memory_bytes)
    try:
        answer = server.autograde(course_root.resolve(), assignment, student, seconds)
    except ServerFailed as error:
        raise AutogradeError(f"nbgrader {what} {error}") from None
    finally:
        with _idle_lock:
            _idle.setdefault(key, []).append(server)
    if not answer.success:
        raise AutogradeError(f"nbgrader {what} failed: {_failure(answer.log)}")


def idle_autograde_servers() -> list[tuple[int, str | None]]:
    """This process's idle servers that run: their pids and cgroup names (nothing of a grading runs in them)."""
    with _idle_lock:
        return [server.running for (pid, *_), servers in _idle.items() if pid == os.getpid() for server in servers if server.running]


def close_autograde_servers() -> None:
    """Stop this process's idle servers (at exit; a worker's are stopped with it)."""
    with _idle_lock:
        for (pid, *_), servers in _idle.items():
            for server in servers if pid == os.getpid() else ():
                server.close()
        _idle.clear()


atexit.register(close_autograde_servers)


def _nbgrader(nbgrader: str, verb: list[str], cwd: Path, env: dict[str, str], memory_bytes: int, seconds: float, *, what: str) -> None:
    try:
        refuse_code_in(cwd)
    except CodeInCourseFolder as error:
        raise AutogradeError(str(error)) from None
    cgroup = Cgroup.create(f"nbgrader-{uuid.uuid4().hex[:12]}", CgroupLimits(memory_bytes, pids=1024)) if cgroups_available() else None
    try:
        process = subprocess.Popen(
            [nbgrader, *verb], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            preexec_fn=cgroup.join if cgroup is not None else None, start_new_session=True,
        )
        # The kernels nbgrader starts write to its output too (learner code can flood it): keep its end only.
        tail = HeadTail(LOG_TAIL_BYTES)
        reader = threading.Thread(target=tail.consume, args=(process.stdout,), daemon=True)
        reader.start()
        try:
            process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            if cgroup is not None:
                cgroup.kill()
            process.kill()
            process.wait()
            raise AutogradeError(f"nbgrader {what} took longer than {seconds:g} s") from None
        finally:
            reader.join(_REAP_SECONDS)
            if reader.is_alive() and cgroup is not None:  # something nbgrader started still holds its output
                cgroup.kill()
                reader.join(_REAP_SECONDS)
        if process.returncode != 0:
            out_of_memory = cgroup is not None and cgroup.usage().oom_kills > 0
            if out_of_memory:
                raise AutogradeError(f"nbgrader {what} ran out of memory (the notebook's output or data is too large)")
            raise AutogradeError(f"nbgrader {what} failed: {_failure(tail.text())}")
    finally:
        if cgroup is not None:
            cgroup.remove()


def _failure(output: str, limit: int = 300) -> str:
    """Why nbgrader failed: the exception its last traceback ends on (nbgrader's own last lines only say
    "see the above traceback"), else its last lines."""
    lines = output.strip().splitlines()
    starts = [i for i, line in enumerate(lines) if line.rstrip().endswith("Traceback (most recent call last):")]
    if starts:
        cause = next((line.strip() for line in lines[starts[-1] + 1 :] if _EXCEPTION_LINE.match(line)), None)
        if cause:
            return cause[:limit]
    return " | ".join(lines[-3:])[:limit]
