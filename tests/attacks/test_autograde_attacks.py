"""Hostile notebooks against nbgrader autograde with the sandboxed grading kernel (graders.autograde).

One course (the intro course's `welcome`: a solution cell and a locked test cell with hidden tests,
2 points), graded as the lab grades it: `nbgrader collect` from each learner's own inbound, then
`nbgrader autograde`, the notebook executed by the `practicum-sandboxed` kernel (uid 1000 in a
sandbox, 512 MiB, no network). Each attack is one learner's notebook; its hostile cell prints what
it managed to read, so that what the grader stores (the autograded notebook, the gradebook) can be
searched for every secret. Every attack must end contained: secrets absent from what is stored, the
host's files as they were, a recorded result (score 0 or a clear AutogradeError), other learners'
grades intact, no sandbox process or cgroup left, and the next learner's correct notebook 2/2.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import resource
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from practicum.demo import WELCOME_SOLUTION
from practicum.graders.autograde import AutogradeError, AutogradeOutcome, autograde_submission, idle_autograde_servers
from practicum.graders.sandboxed_kernel import CONFIG_ENV, KernelSandbox, write_kernelspec
from practicum.lab.courses import course_nbgrader_config
from practicum.lab.sandboxes import code_dirs, masked_files
from practicum.sandbox.cgroups import Cgroup, CgroupLimits, cgroups_available
from practicum.sandbox.identity import GRADING_UID
from practicum.sandbox.limits import MIB

REPO = Path(__file__).resolve().parents[2]
COURSE = "intro_medical_ai"
ASSIGNMENT = "welcome"
NBGRADER = Path(sys.executable).with_name("nbgrader")
KERNEL_MEMORY = 512 * MIB
CELL_SECONDS = 3  # c.Execute.timeout: a cell that runs longer is stopped
GRADING_SECONDS = 90  # autograde_submission's own bound on each nbgrader run
WRONG = "def tissue_class(hu):\n    return 'air'\n"
HIDDEN_TEST = 'assert tissue_class(-850) == "lung"'  # the welcome notebook's first hidden test


def hidden_tests_of(notebook: Path) -> list[str]:
    """The first line of each hidden-test block of an nbgrader source notebook."""
    found = []
    for cell in json.loads(notebook.read_text())["cells"]:
        lines = "".join(cell["source"]).splitlines()
        found += [lines[i + 1].strip() for i, line in enumerate(lines[:-1]) if "BEGIN HIDDEN TESTS" in line]
    return found


PROJECT_SOURCES = sorted(REPO.glob("projects/*/notebook/*.ipynb"))
PROJECT_HIDDEN_TESTS = [test for notebook in PROJECT_SOURCES for test in hidden_tests_of(notebook)]


@dataclass
class Lab:
    root: Path
    course: Path
    inbounds: Path
    env: dict[str, str]
    marker: Path  # a host file no notebook may change
    secrets: dict[str, str]  # what: text that must never reach what the grader stores
    released: Path  # release/welcome/welcome.ipynb: what learners fetch
    graded: dict[str, float] = field(default_factory=dict)  # learner -> score, as graded so far

    def hostile(self, code: str, *, test_cell: str | None = None) -> str:
        """The released notebook with ``code`` (and a wrong solution) as the solution cell."""
        nb = json.loads(self.released.read_text())
        for cell in nb["cells"]:
            meta = cell["metadata"].get("nbgrader", {})
            if meta.get("solution"):
                cell["source"] = code + "\n" + WRONG
            if meta.get("grade") and test_cell is not None:
                cell["source"] = test_cell
        return json.dumps(nb)

    def solved(self, tag: str) -> str:
        nb = json.loads(self.released.read_text())
        for cell in nb["cells"]:
            if cell["metadata"].get("nbgrader", {}).get("solution"):
                cell["source"] = f"# {tag}\n{WELCOME_SOLUTION}"
        return json.dumps(nb)

    def submit(self, learner: str, notebook: str) -> None:
        """What `nbgrader submit` writes into the learner's own inbound."""
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f %Z")
        random = base64.urlsafe_b64encode(os.urandom(9)).decode("ascii")
        folder = self.inbounds / learner / f"{learner}+{ASSIGNMENT}+{stamp}+{random}"
        folder.mkdir(parents=True)
        (folder / f"{ASSIGNMENT}.ipynb").write_text(notebook)
        (folder / "timestamp.txt").write_text(stamp)

    def grade(self, learner: str, notebook: str) -> AutogradeOutcome:
        self.submit(learner, notebook)
        return autograde_submission(self.course, COURSE, ASSIGNMENT, learner, nbgrader=str(NBGRADER), env=self.env,
                                    kernel_memory_bytes=KERNEL_MEMORY, seconds=GRADING_SECONDS)

    def gradebook(self) -> dict[str, float]:
        with sqlite3.connect(f"file:{self.course / 'gradebook.db'}?mode=ro", uri=True) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            rows = db.execute(
                "SELECT student.id, SUM(COALESCE(grade.manual_score, grade.auto_score, 0)) FROM grade"
                " JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id"
                " JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id"
                " JOIN student ON submitted_assignment.student_id = student.id GROUP BY student.id"
            ).fetchall()
        return {student: float(score) for student, score in rows}

    def outputs(self, learner: str, *, solution_only: bool = False) -> str:
        """The outputs the autograded notebook stores (what its cells printed, errors included), as text;
        ``solution_only``: those of the learner's own cells (what hostile code printed)."""
        path = self.course / "autograded" / learner / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        if not path.exists():
            return ""
        texts = []
        for cell in json.loads(path.read_text())["cells"]:
            if solution_only and not cell["metadata"].get("nbgrader", {}).get("solution"):
                continue
            for output in cell.get("outputs", []):
                texts += [_text(output.get("text", "")), output.get("evalue", ""), *output.get("traceback", [])]
                texts += [_text(value) for value in output.get("data", {}).values()]
        return "\n".join(texts)

    def stored(self, learner: str) -> str:
        """What the grader keeps of one grading: the learner's autograded folder and the gradebook."""
        parts = [(self.course / "gradebook.db").read_bytes()]
        folder = self.course / "autograded" / learner
        parts += [p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()] if folder.exists() else []
        return b"\n".join(parts).decode("utf-8", errors="replace")


def _text(value: str | list[str]) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def leaks(secret: str, text: str) -> bool:
    """Whether ``secret`` is in ``text``, even quoted or escaped (a notebook printed as JSON)."""
    plain = lambda s: re.sub(r"\x1b\[[0-9;]*m|[\\\"'\s]", "", s)  # noqa: E731 (colours of a traceback too)
    return plain(secret) in plain(text)


@pytest.fixture(scope="module")
def lab(tmp_path_factory, own_cgroup) -> Lab:
    if not Path("/usr/bin/bwrap").exists() or os.geteuid() != 0:
        pytest.skip("the sandboxed grading kernel needs bubblewrap and root")
    root = tmp_path_factory.mktemp("autograde_attacks")
    course = root / "course"
    shutil.copytree(REPO / "courses" / COURSE / "source" / ASSIGNMENT, course / "source" / ASSIGNMENT)
    config = course_nbgrader_config(COURSE, root / "exchange", root / "inbound") + f"c.Execute.timeout = {CELL_SECONDS}\nc.KernelManager.shutdown_wait_time = 1\n"
    (course / "nbgrader_config.py").write_text(config)
    (root / "exchange" / COURSE).mkdir(parents=True)
    (root / "inbound" / COURSE).mkdir(parents=True)
    env = {**os.environ, "PATH": f"{NBGRADER.parent}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
    done = subprocess.run([str(NBGRADER), "generate_assignment", ASSIGNMENT], cwd=course, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    released = course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert not leaks(HIDDEN_TEST, released.read_text())

    (root / "public").mkdir()
    (root / "public" / "readme.txt").write_text("public data\n")
    write_kernelspec(root / "kernels" / "share", python=sys.executable)
    sandbox = KernelSandbox(code_dirs=code_dirs(), public_datasets=str(root / "public"), masked_files=masked_files(),
                            memory_bytes=KERNEL_MEMORY, pids=256, work_bytes=256 * MIB)
    sandbox.write(root / "kernels" / "sandbox.json")
    env |= {"JUPYTER_PATH": str(root / "kernels" / "share"), CONFIG_ENV: str(root / "kernels" / "sandbox.json")}

    token = secrets.token_hex(8)
    state = root / "state"  # the lab's state folder
    state.mkdir()
    (state / "secrets.json").write_text(json.dumps({"hub_api_token": f"STATE-{token}"}))
    labels = root / "hidden_labels"
    labels.mkdir()
    (labels / "test_labels.csv").write_text(f"patient_id,label\nLABELS-{token},1\n")
    marker = root / "host_marker.txt"
    marker.write_text("untouched\n")
    shadow = [line for line in Path("/etc/shadow").read_text().splitlines() if line.strip()]
    lab = Lab(root, course, root / "inbound" / COURSE, env, marker, released=released, secrets={
        "lab state": f"STATE-{token}",
        "hidden labels": f"LABELS-{token}",
        "ada's notebook": f"ADA-{token}",
        "the host's /etc/shadow": shadow[0],
    })
    first = lab.grade("ada", lab.solved(f"ADA-{token}"))  # another learner's work, graded before the attacks
    assert (first.score, first.max_score) == (2.0, 2.0)
    lab.graded["ada"] = 2.0
    assert f"ADA-{token}" not in (course / "gradebook.db").read_text(errors="replace")
    return lab


@pytest.fixture(scope="module")
def own_cgroup():
    """This test process in a cgroup of its own while the attacks run (cgroup v1): every process its
    gradings start (nbgrader, kernel launchers, sandboxes) and every cgroup they make live below it,
    apart from anything else running on the host. (On v2 a cgroup holding a process cannot delegate
    controllers to children, so there the checks look at the host's grading-uid processes instead.)"""
    if cgroups_available() != "v1":
        yield None
        return
    group = Cgroup.create(f"autograde-attacks-{secrets.token_hex(4)}", CgroupLimits(memory_bytes=16 << 30, pids=4096))
    group.join()
    try:
        yield group
    finally:
        for _, folder in group.dirs:  # back to where this process was: <own cgroup>/practicum/<group>
            Path(folder).parent.parent.joinpath("cgroup.procs").write_text(str(os.getpid()))
        group.remove()


def _left_behind(group: Cgroup | None) -> tuple[list[str], list[str]]:
    """Processes (but this one and the idle autograde servers, alone in their cgroups) and cgroups the gradings
    left behind."""
    servers = idle_autograde_servers()
    if group is not None:
        folders = {p.name for _, folder in group.dirs for p in Path(folder, "practicum").glob("*") if p.is_dir()}
        kept = {os.getpid(), *(pid for pid, _ in servers)}
        return [str(pid) for pid in sorted(group.processes() - kept)], sorted(folders - {name for _, name in servers})
    processes = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if entry.stat().st_uid == GRADING_UID and re.search(r"/(nbgrader|kernel)-", (entry / "cgroup").read_text()):
                processes.append(entry.name)
        except OSError:
            continue
    return processes, []


@pytest.fixture(autouse=True)
def nothing_lost_nothing_left(own_cgroup):
    """(Overrides the attack suite's build check: these attacks do not touch the dataset build.)
    After every attack, no process and no cgroup of its grading is left behind."""
    yield
    processes, cgroups = _left_behind(own_cgroup)
    assert processes == [], "processes outlived their grading"
    assert cgroups == [], "an nbgrader or kernel cgroup was left behind"


def contained(lab: Lab, learner: str, result: AutogradeOutcome | AutogradeError, *, then_correct: bool = True) -> None:
    """The attack's result is recorded, nothing secret is stored, nothing else changed, grading still works."""
    if isinstance(result, AutogradeOutcome):
        assert (result.score, result.max_score) == (0.0, 2.0), result
    else:
        assert str(result).startswith("nbgrader autograde") and learner in str(result), result
    stored, printed = lab.stored(learner), lab.outputs(learner, solution_only=True)
    for what, text in lab.secrets.items():
        assert not leaks(text, stored), f"{what} reached what the grader stores for {learner}"
    for text in [HIDDEN_TEST, *PROJECT_HIDDEN_TESTS]:
        assert not leaks(text, printed), f"the hidden test {text!r} reached what {learner}'s code printed"
    assert lab.marker.read_text() == "untouched\n"
    grades = lab.gradebook()
    assert {k: grades.get(k) for k in lab.graded} == lab.graded, "another learner's grade changed"
    assert grades.get(learner, 0.0) == 0.0
    lab.graded[learner] = 0.0
    if not then_correct:
        return
    after = f"good_after_{learner}"
    good = lab.grade(after, lab.solved(after))
    assert (good.score, good.max_score) == (2.0, 2.0)
    lab.graded[after] = 2.0


def attack(lab: Lab, learner: str, notebook: str) -> AutogradeOutcome | AutogradeError:
    try:
        return lab.grade(learner, notebook)
    except AutogradeError as error:
        return error


READ = """
import glob, os
print("ATTACK ran as", os.getuid(), "in", os.getcwd())
for path in {paths!r} + sorted(glob.glob("/submission/*")):
    try:
        with open(path, "rb") as handle:
            print("READ", path, handle.read(200_000).decode("utf-8", "replace"))
    except Exception as error:
        print("DENIED", path, type(error).__name__)
for folder in {folders!r}:
    try:
        print("LISTED", folder, os.listdir(folder))
    except Exception as error:
        print("DENIED", folder, type(error).__name__)
print("ENV", dict(os.environ))
"""


def test_reading_the_gradebook_sources_others_work_and_host_secrets_finds_nothing(lab: Lab) -> None:
    ada = next((lab.course / "submitted" / "ada" / ASSIGNMENT).glob("*.ipynb"))
    paths = [
        lab.course / "gradebook.db",
        lab.course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        ada,
        lab.course / "autograded" / "ada" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        *(lab.inbounds / "ada").glob(f"*/{ASSIGNMENT}.ipynb"),
        lab.root / "state" / "secrets.json",
        lab.root / "hidden_labels" / "test_labels.csv",
        REPO / "courses" / COURSE / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        *PROJECT_SOURCES,
        REPO / ".git" / "config",
        "/etc/shadow",
        "/etc/gshadow",
        "/proc/1/environ",
    ]
    folders = [lab.course, lab.course / "submitted", lab.inbounds, lab.root / "state", REPO, REPO / "projects" / "ehr_complication_risk"]
    result = attack(lab, "mallory_reads", lab.hostile(READ.format(paths=[str(p) for p in paths], folders=[str(f) for f in folders])))

    outputs = lab.outputs("mallory_reads")
    assert "ATTACK ran as 1000" in outputs
    contained(lab, "mallory_reads", result)
    assert outputs.count("DENIED") == len(paths) - 2 + len(folders) - 2, outputs  # the lab's code is listed
    assert "READ /etc/shadow \n" in outputs and "READ /etc/gshadow \n" in outputs  # read as empty
    assert CONFIG_ENV not in outputs and "JUPYTER_PATH" not in outputs


WRITE = """
import os, sqlite3
print("ATTACK writes")
for path in {paths!r}:
    try:
        with open(path, "a") as handle:
            handle.write("PWN" + "ED by a learner")  # the marker is not in the notebook's own source
        print("WROTE", path)
    except Exception as error:
        print("DENIED", path, type(error).__name__)
try:
    with sqlite3.connect({gradebook!r}) as db:
        db.execute("UPDATE grade SET manual_score = 1000")
    print("WROTE the gradebook with sqlite")
except Exception as error:
    print("DENIED sqlite", type(error).__name__)
for folder in ("/submission", "/home/jovyan/work", "/tmp", "/dev/shm"):
    try:
        os.symlink("/etc/shadow", os.path.join(folder, "pwned-link"))
        print("LINKED in", folder)
    except Exception as error:
        print("DENIED link in", folder, type(error).__name__)

def _steal(info):  # runs before the next cell: the locked test cell, its hidden tests restored by nbgrader
    for path in {stolen!r}:
        try:
            with open(path, "w") as handle:
                handle.write(info.raw_cell)
            print("WROTE", path)
        except OSError as error:
            print("DENIED", path, type(error).__name__)
get_ipython().events.register("pre_run_cell", _steal)
"""


def test_writing_the_gradebook_autograded_files_host_files_or_stolen_hidden_tests_changes_nothing(lab: Lab) -> None:
    """Besides writing where it must not, the notebook copies the hidden tests' source (the kernel runs
    them, so code in it can read them) to every place it can: nothing this grading writes where the
    learner reads (their inbound, the exchange) holds a hidden test; what the sandbox wrote is gone with it.
    (What hostile code prints lands in the instructor's autograded notebook: the feedback path must keep
    it from the learner.)"""
    code_file = REPO / "graders" / "autograde.py"
    code_before = hashlib.sha256(code_file.read_bytes()).hexdigest()
    autograded_ada = lab.course / "autograded" / "ada" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    ada_before = autograded_ada.read_bytes()
    paths = [
        lab.course / "gradebook.db",
        autograded_ada,
        lab.course / "submitted" / "ada" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        lab.course / "pwned.txt",
        lab.marker,
        code_file,
        REPO / "practicum" / "pwned.py",
        "/submission/welcome.ipynb",
        "/submission/pwned.txt",
        "/home/jovyan/work/pwned.txt",
        "/etc/passwd",
    ]
    inbound = lab.inbounds / "mallory_writes"
    stolen = [inbound / "stolen.txt", lab.root / "exchange" / COURSE / "stolen.txt", "/submission/stolen.txt",
              "/home/jovyan/work/stolen.txt", "/tmp/stolen.txt", "/dev/shm/stolen.txt"]
    code = WRITE.format(paths=[str(p) for p in paths], gradebook=str(lab.course / "gradebook.db"), stolen=[str(p) for p in stolen])
    result = attack(lab, "mallory_writes", lab.hostile(code))

    outputs = lab.outputs("mallory_writes")
    assert "ATTACK writes" in outputs
    wrote = re.findall(r"^WROTE (.+)$", outputs, re.MULTILINE)
    # only into the sandbox's own tmpfs folders, gone with it
    assert wrote == ["/home/jovyan/work/pwned.txt", "/home/jovyan/work/stolen.txt", "/tmp/stolen.txt", "/dev/shm/stolen.txt"], wrote
    assert autograded_ada.read_bytes() == ada_before
    assert hashlib.sha256(code_file.read_bytes()).hexdigest() == code_before
    assert not (REPO / "practicum" / "pwned.py").exists()
    assert [p for p in lab.root.rglob("pwned*")] == [] and [p for p in lab.root.rglob("stolen*")] == []
    for path in lab.course.rglob("*"):
        assert not path.is_file() or b"PWNED by a learner" not in path.read_bytes(), path
    for path in [*inbound.rglob("*"), *(lab.root / "exchange").rglob("*")]:  # what the learner can get back
        assert not path.is_file() or not leaks(HIDDEN_TEST, path.read_text(errors="replace")), path
    contained(lab, "mallory_writes", result)


NETWORK = """
import os, socket
print("ATTACK network; interfaces:", sorted(name for _, name in socket.if_nameindex()))
for host, port in {targets!r}:
    try:
        socket.create_connection((host, port), timeout=1).close()
        print("CONNECTED", host, port)
    except OSError as error:
        print("REFUSED", host, port, type(error).__name__)
try:
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.sendto(b"PWNED", ("127.0.0.1", {udp_port}))
    print("SENT udp")
except OSError as error:
    print("REFUSED udp", type(error).__name__)
try:
    unix = socket.socket(socket.AF_UNIX)
    unix.settimeout(1)
    unix.connect({abstract!r})
    print("CONNECTED abstract")
except OSError as error:
    print("REFUSED abstract", type(error).__name__)
"""


class Listener:
    """A TCP, a UDP and an abstract unix socket on the host's loopback, counting who reaches them."""

    def __init__(self) -> None:
        self.reached: list[str] = []
        self.closed = threading.Event()
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.abstract = f"\0practicum-attack-{secrets.token_hex(4)}"
        self.unix = socket.socket(socket.AF_UNIX)
        self.unix.bind(self.abstract)
        self.unix.listen()
        for sock in (self.tcp, self.udp, self.unix):
            sock.settimeout(0.2)
            threading.Thread(target=self._watch, args=(sock,), daemon=True).start()

    def _watch(self, sock: socket.socket) -> None:
        while not self.closed.is_set():
            try:
                if sock.type == socket.SOCK_DGRAM:
                    self.reached.append(f"udp {sock.recv(100)!r}")
                else:
                    sock.accept()[0].close()
                    self.reached.append(str(sock.family))
            except (TimeoutError, OSError):
                continue

    def close(self) -> None:
        self.closed.set()
        for sock in (self.tcp, self.udp, self.unix):
            sock.close()


def test_network_to_loopback_services_is_unreachable(lab: Lab) -> None:
    listener = Listener()
    try:
        port = listener.tcp.getsockname()[1]
        targets = [("127.0.0.1", port), ("127.0.0.1", 5432), ("127.0.0.1", 6379), ("127.0.0.1", 5672), ("127.0.0.1", 3306),
                   ("127.0.0.1", 22), ("127.0.0.1", 8000), ("127.0.0.1", 8081), ("::1", 6379), ("::1", port)]
        code = NETWORK.format(targets=targets, udp_port=listener.udp.getsockname()[1], abstract=listener.abstract)
        result = attack(lab, "mallory_network", lab.hostile(code))
    finally:
        listener.close()

    outputs = lab.outputs("mallory_network")
    assert "interfaces: ['lo']" in outputs
    assert "CONNECTED" not in outputs and outputs.count("REFUSED") == len(targets) + 1
    assert listener.reached == []
    contained(lab, "mallory_network", result)


def test_a_locked_test_cell_edited_to_pass_is_restored(lab: Lab) -> None:
    result = attack(lab, "mallory_unlocks", lab.hostile("print('ATTACK unlocked')", test_cell="pass"))

    assert isinstance(result, AutogradeOutcome) and result.score == 0.0
    autograded = json.loads((lab.course / "autograded" / "mallory_unlocks" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
    test_cell = next(c for c in autograded["cells"] if c["metadata"].get("nbgrader", {}).get("grade"))
    assert 'assert tissue_class(-1000) == "air"' in "".join(test_cell["source"])
    contained(lab, "mallory_unlocks", result)


INVALID_NOTEBOOKS = {  # learner: (what they submit as welcome.ipynb, what the error names)
    "mallory_not_json": ('{"cells": [ not json', "NotJSONError: Notebook does not appear to be JSON"),
    "mallory_nested": ("[" * 100_000 + "]" * 100_000, "RecursionError"),  # deeper than the parser recurses
}


def test_invalid_notebooks_get_a_clear_error(lab: Lab) -> None:
    for learner, (text, cause) in INVALID_NOTEBOOKS.items():
        result = attack(lab, learner, text)

        assert isinstance(result, AutogradeError), result
        assert f"autograde {ASSIGNMENT} for {learner} failed: " in str(result) and cause in str(result), result
        contained(lab, learner, result, then_correct=learner == "mallory_nested")


def test_a_memory_bomb_is_stopped_by_the_kernels_memory_limit(lab: Lab) -> None:
    bomb = (
        "print('ATTACK memory')\n"
        "shm = open('/dev/shm/fill', 'wb')\n"
        "try:\n    for _ in range(48):\n        shm.write(b'x' * (4 << 20))\nexcept OSError as error:\n    print('shm full', error)\n"
        "chunks = []\n"
        "while True:\n    chunks.append(bytearray(64 << 20))\n    chunks[-1][::4096] = b'x' * len(chunks[-1][::4096])\n"
    )
    result = attack(lab, "mallory_memory", lab.hostile(bomb))

    assert isinstance(result, AutogradeError) and "DeadKernelError" in str(result), result  # the sandbox's OOM kill
    contained(lab, "mallory_memory", result)


def test_an_endless_loop_that_ignores_interrupts_is_stopped(lab: Lab) -> None:
    loop = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nprint('ATTACK loop', flush=True)\nwhile True:\n    pass\n"
    result = attack(lab, "mallory_loop", lab.hostile(loop))

    assert isinstance(result, AutogradeError) and "CellTimeoutError" in str(result), result
    contained(lab, "mallory_loop", result)


FLOOD = """
import os, sys
print("ATTACK flood", flush=True)
chunk = b"E" * (1 << 20)
for _ in range(300):  # the kernel's own stderr (what a subprocess would write to): it is nbgrader's
    os.write(sys.stderr.fileno(), chunk)
"""


def test_a_flood_on_the_kernels_stderr_does_not_fill_the_graders_memory(lab: Lab) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result = attack(lab, "mallory_floods", lab.hostile(FLOOD))

    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    assert grown < 32 * MIB, f"the grader kept {grown / MIB:.0f} MiB of the flood"
    contained(lab, "mallory_floods", result)
