"""`nbgrader collect` with the lab's collector (graders.exchange.PrivateInboundCollect), on a real course.

Each learner's sandbox sees only ``<inbounds>/<course>/<learner>/`` as the course's inbound and
writes there what ``nbgrader submit`` writes: ``<learner>+welcome+<timestamp UTC>+<random>/``
with the notebook and timestamp.txt. Everything in those folders is the learner's to forge: the
collector must take only what a folder says about its owner, copy only folders and regular files
within limits, and leave everything else (other learners, the inbounds, the course) as it was.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from nbgrader.coursedir import CourseDirectory

from practicum.graders.exchange import PrivateInboundCollect
from practicum.lab.courses import course_nbgrader_config

REPO = Path(__file__).resolve().parents[2]
COURSE = "intro_medical_ai"
ASSIGNMENT = "welcome"
WELCOME_SOURCE = REPO / "courses" / COURSE / "source" / ASSIGNMENT
NBGRADER = Path(sys.executable).with_name("nbgrader")
COLLECT_SECONDS = 60  # a collect that hangs (a FIFO opened for reading) fails the test instead
SECRET = "HIDDEN-LABELS-6c1f0e: patient 17 has a nodule"
T0 = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)


def nbgrader_env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{NBGRADER.parent}:{os.environ.get('PATH', '/usr/bin:/bin')}"}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A course folder with `welcome` generated (source/, release/, gradebook.db), copied per test."""
    root = tmp_path_factory.mktemp("generated") / "course"
    shutil.copytree(WELCOME_SOURCE, root / "source" / ASSIGNMENT)
    (root / "nbgrader_config.py").write_text(course_nbgrader_config(COURSE, root.parent / "exchange", root.parent / "inbound"))
    done = subprocess.run([str(NBGRADER), "generate_assignment", ASSIGNMENT], cwd=root, env=nbgrader_env(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return root


@dataclass
class Course:
    root: Path
    inbounds: Path  # <inbounds>/<course>: one folder per learner
    secret_dir: Path  # what no submission may bring in (the hidden labels)

    def notebook(self, tag: str) -> str:
        """The released notebook, its solution cell marked with ``tag``."""
        nb = json.loads((self.root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
        for cell in nb["cells"]:
            if cell["metadata"].get("nbgrader", {}).get("solution"):
                cell["source"] = f"# {tag}\ndef tissue_class(hu):\n    return 'air'\n"
        return json.dumps(nb)

    def submit(self, learner: str, tag: str, *, when: datetime = T0, named_for: str | None = None,
               stamp: str | None = None) -> Path:
        """What `nbgrader submit` writes into ``learner``'s own inbound."""
        stamp = stamp if stamp is not None else when.strftime("%Y-%m-%d %H:%M:%S.%f %Z")
        random = base64.urlsafe_b64encode(os.urandom(9)).decode("ascii")
        folder = self.inbounds / learner / f"{named_for or learner}+{ASSIGNMENT}+{stamp}+{random}"
        folder.mkdir(parents=True)
        (folder / f"{ASSIGNMENT}.ipynb").write_text(self.notebook(tag))
        (folder / "timestamp.txt").write_text(stamp)
        return folder

    def collect(self, *args: str) -> str:
        done = subprocess.run([str(NBGRADER), "collect", ASSIGNMENT, "--update", *args], cwd=self.root, env=nbgrader_env(),
                              capture_output=True, text=True, timeout=COLLECT_SECONDS)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout + done.stderr

    def submitted(self) -> dict[str, str]:
        """learner -> the tag of their collected notebook (folders and regular files only, checked)."""
        found = {}
        top = self.root / "submitted"
        for learner in sorted(top.iterdir()) if top.exists() else []:
            folder = learner / ASSIGNMENT
            if not folder.exists():  # nbgrader makes submitted/<learner>/ before the copy is refused
                assert list(learner.iterdir()) == []
                continue
            kinds = {p.name: stat.S_IFMT(p.lstat().st_mode) for p in folder.rglob("*")}
            assert set(kinds.values()) <= {stat.S_IFREG, stat.S_IFDIR}, f"{learner.name}: {kinds}"
            first = json.loads((folder / f"{ASSIGNMENT}.ipynb").read_text())
            found[learner.name] = next(c["source"] for c in first["cells"] if c["metadata"].get("nbgrader", {}).get("solution")).splitlines()[0][2:]
        return found


@pytest.fixture
def course(tmp_path: Path, generated: Path) -> Course:
    root = tmp_path / "course"
    shutil.copytree(generated, root)
    (root / "nbgrader_config.py").write_text(course_nbgrader_config(COURSE, tmp_path / "exchange", tmp_path / "inbound"))
    (tmp_path / "exchange" / COURSE).mkdir(parents=True)
    (tmp_path / "inbound" / COURSE).mkdir(parents=True)
    secret = tmp_path / "hidden_labels"
    secret.mkdir()
    (secret / "test_labels.csv").write_text(SECRET + "\n")
    return Course(root, tmp_path / "inbound" / COURSE, secret)


def snapshot(top: Path, *, skip: str = "course/submitted") -> dict[str, tuple]:
    """Every entry under ``top`` (links not followed, special files never opened): kind, mode, content."""
    state: dict[str, tuple] = {}
    for folder, dirs, files in os.walk(top):
        for name in dirs + files:
            path = Path(folder, name)
            relative = path.relative_to(top).as_posix()
            if relative == skip or relative.startswith(skip + "/"):
                continue
            info = path.lstat()
            if stat.S_ISREG(info.st_mode):
                content = hashlib.sha256(path.read_bytes()).hexdigest()
            elif stat.S_ISLNK(info.st_mode):
                content = os.readlink(path)
            else:
                content = None
            state[relative] = (stat.S_IFMT(info.st_mode), stat.S_IMODE(info.st_mode), info.st_uid, content)
    return state


def assert_untouched(before: dict[str, tuple], top: Path) -> None:
    after = snapshot(top)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert changed == [], f"collect touched more than submitted/: {changed}"


def no_secret_under(folder: Path) -> None:
    for path in folder.rglob("*") if folder.exists() else []:
        if path.is_file() and not path.is_symlink():
            assert SECRET not in path.read_text(errors="replace"), path


def test_collects_the_newest_of_a_learners_own_submissions(course: Course, tmp_path: Path) -> None:
    course.submit("ada", "ada's second", when=T0 + timedelta(hours=2))
    course.submit("ada", "ada's first", when=T0)
    course.submit("bob", "bob's only", when=T0 + timedelta(hours=1))
    before = snapshot(tmp_path)

    course.collect()

    assert course.submitted() == {"ada": "ada's second", "bob": "bob's only"}
    stamp = (course.root / "submitted" / "ada" / ASSIGNMENT / "timestamp.txt").read_text()
    assert stamp == (T0 + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S.%f %Z")
    assert_untouched(before, tmp_path)

    course.submit("ada", "ada's third", when=T0 + timedelta(hours=3))
    course.collect("--student", "ada")
    assert course.submitted() == {"ada": "ada's third", "bob": "bob's only"}


def test_refuses_a_submission_named_for_another_learner(course: Course, tmp_path: Path) -> None:
    course.submit("ada", "ada's own", when=T0)
    course.submit("ada", "forged for bob", when=T0 + timedelta(hours=1), named_for="bob")
    before = snapshot(tmp_path)

    log = course.collect()

    assert course.submitted() == {"ada": "ada's own"}
    assert "forged" in log
    assert_untouched(before, tmp_path)


def test_refuses_submission_folders_that_are_links_or_files(course: Course, tmp_path: Path) -> None:
    bobs = course.submit("bob", "bob's only", when=T0)
    course.submit("ada", "ada's own", when=T0 - timedelta(hours=1))
    # ada's newest "submission" is bob's folder; mallory's whole inbound is bob's
    os.symlink(bobs, course.inbounds / "ada" / f"ada+{ASSIGNMENT}+{(T0 + timedelta(hours=1)):%Y-%m-%d %H:%M:%S.%f %Z}+linkedtobob")
    (course.inbounds / "ada" / f"ada+{ASSIGNMENT}+{(T0 + timedelta(hours=2)):%Y-%m-%d %H:%M:%S.%f %Z}+afile").write_text(course.notebook("a file"))
    os.symlink(course.inbounds / "bob", course.inbounds / "mallory")
    before = snapshot(tmp_path)

    log = course.collect()

    assert course.submitted() == {"ada": "ada's own", "bob": "bob's only"}
    assert log.count("not a link or a file") == 2
    assert_untouched(before, tmp_path)


def _link_to_shadow(folder: Path, course: Course) -> None:
    os.symlink("/etc/shadow", folder / "shadow")


def _link_to_labels(folder: Path, course: Course) -> None:
    os.symlink(course.secret_dir / "test_labels.csv", folder / "data.csv")


def _link_to_a_folder(folder: Path, course: Course) -> None:
    os.symlink(course.secret_dir, folder / "data")


def _fifo(folder: Path, course: Course) -> None:
    os.mkfifo(folder / "data.csv")


def _device(folder: Path, course: Course) -> None:
    os.mknod(folder / "zero", 0o666 | stat.S_IFCHR, os.makedev(1, 5))  # what /dev/zero is: an endless read


def _socket(folder: Path, course: Course) -> None:
    with tempfile.TemporaryDirectory(dir="/tmp") as short:  # a socket's path has at most 107 bytes
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(os.path.join(short, "s"))
        listener.close()
        os.rename(os.path.join(short, "s"), folder / "sock")


HOSTILE_CONTENT = {  # learner -> what their submission holds beside the notebook
    "shadow_link": _link_to_shadow,
    "labels_link": _link_to_labels,
    "folder_link": _link_to_a_folder,
    "fifo": _fifo,
    "socket": _socket,
} | ({"device": _device} if os.geteuid() == 0 else {})  # only root makes device nodes


def test_refuses_submissions_holding_anything_but_folders_and_regular_files(course: Course, tmp_path: Path) -> None:
    course.submit("bob", "bob's only", when=T0)
    hostile = {}
    for learner, plant in HOSTILE_CONTENT.items():
        hostile[learner] = course.submit(learner, f"{learner}'s hostile", when=T0)
        (hostile[learner] / "extra").mkdir()
        plant(hostile[learner] / "extra", course)
    before = snapshot(tmp_path)

    started = time.monotonic()
    log = course.collect()

    assert time.monotonic() - started < COLLECT_SECONDS
    assert course.submitted() == {"bob": "bob's only"}
    refusals = [line for line in log.splitlines() if "Refusing the submission" in line]
    for learner, folder in hostile.items():
        assert any(str(folder) in line and "only folders and regular files are accepted" in line for line in refusals), learner
    no_secret_under(course.root / "submitted")
    shadow = Path("/etc/shadow").read_bytes()
    for path in (course.root / "submitted").rglob("*"):
        assert not path.is_file() or path.read_bytes() != shadow
    assert_untouched(before, tmp_path)


def _many_files(folder: Path) -> None:
    for i in range(21):  # the course allows 20 files here
        (folder / f"{i}.txt").write_text("x")


def _too_large(folder: Path) -> None:
    (folder / "weights.bin").write_bytes(b"\0" * (2 * 1024 * 1024))  # the course allows 1 MiB here


def _too_deep(folder: Path) -> None:
    deep = folder.joinpath(*["d"] * 40)
    deep.mkdir(parents=True)
    (deep / "x.txt").write_text("x")


def test_refuses_submissions_over_the_limits(course: Course, tmp_path: Path) -> None:
    with (course.root / "nbgrader_config.py").open("a") as config:
        config.write("c.PrivateInboundCollect.max_files = 20\nc.PrivateInboundCollect.max_megabytes = 1\n")
    course.submit("bob", "bob's only", when=T0)
    hostile = {}
    for learner, fill in {"many_files": _many_files, "too_large": _too_large, "too_deep": _too_deep}.items():
        hostile[learner] = course.submit(learner, f"{learner}'s too big", when=T0)
        fill(hostile[learner])
    before = snapshot(tmp_path)

    log = course.collect()

    assert course.submitted() == {"bob": "bob's only"}
    refusals = [line for line in log.splitlines() if "Refusing the submission" in line]
    for learner, folder in hostile.items():
        assert any(str(folder) in line for line in refusals), learner
    assert_untouched(before, tmp_path)


def test_skips_learner_folders_whose_names_are_not_learner_names(course: Course, tmp_path: Path) -> None:
    course.submit("bob", "bob's only", when=T0)
    for name in ("ev il", "x" * 129, "eve+ada", "ädä", "semi;colon"):
        folder = course.inbounds / name / f"{name}+{ASSIGNMENT}+{T0:%Y-%m-%d %H:%M:%S.%f %Z}+r"
        folder.mkdir(parents=True)
        (folder / f"{ASSIGNMENT}.ipynb").write_text(course.notebook(name))
    before = snapshot(tmp_path)

    course.collect()

    assert course.submitted() == {"bob": "bob's only"}
    assert_untouched(before, tmp_path)


def test_skips_a_submission_whose_timestamp_cannot_be_read_with_a_warning(course: Course, tmp_path: Path) -> None:
    course.submit("ada", "ada's readable", when=T0)
    for stamp in ("yesterday at noon", "2030-13-45 99:99:99.000000 UTC", "99999999999999999999999"):
        course.submit("ada", f"unreadable {stamp}", stamp=stamp)
    before = snapshot(tmp_path)

    log = course.collect()

    assert course.submitted() == {"ada": "ada's readable"}
    assert log.count("cannot be read") == 3
    assert_untouched(before, tmp_path)


def test_a_forged_timestamp_file_neither_breaks_collecting_nor_dates_the_submission(course: Course, tmp_path: Path) -> None:
    """timestamp.txt is the learner's to write: only the folder's own (checked) timestamp counts."""
    forged = course.submit("ada", "ada's first", when=T0)
    (forged / "timestamp.txt").write_text("not a time at all")
    course.submit("bob", "bob's first", when=T0)
    course.collect()
    assert course.submitted() == {"ada": "ada's first", "bob": "bob's first"}
    stamp = (course.root / "submitted" / "ada" / ASSIGNMENT / "timestamp.txt").read_text()
    assert stamp == f"{T0:%Y-%m-%d %H:%M:%S.%f %Z}"

    course.submit("bob", "bob's second", when=T0 + timedelta(hours=1))
    course.collect()  # every learner at once, as the formgrader's "collect" does
    assert course.submitted() == {"ada": "ada's first", "bob": "bob's second"}


def test_a_folder_swapped_for_a_link_while_it_is_copied_is_never_followed(course: Course, tmp_path: Path) -> None:
    """The learner's server keeps running while the grader collects: it may swap a folder of its
    submission for a link to a host folder between the collector's look and its copy."""
    hostile = course.submit("ada", "ada's racing", when=T0)
    (hostile / "data").mkdir()
    (hostile / "data" / "test_labels.csv").write_text("harmless\n")
    parked = tmp_path / "parked"
    parked.mkdir()
    os.symlink(course.secret_dir, parked / "data")
    swapper = subprocess.Popen([sys.executable, "-c", _SWAPPER, str(hostile / "data"), str(parked / "data")])
    collector = PrivateInboundCollect(coursedir=CourseDirectory(), authenticator=None)
    collector.log = logging.getLogger("refusals")  # one refusal per lost race: not worth printing
    collector.log.propagate = False
    copied = tmp_path / "copied"
    try:
        deadline = time.monotonic() + 1.0
        attempts = 0
        while time.monotonic() < deadline:
            attempts += 1
            collector.do_copy(str(hostile), str(copied))
            no_secret_under(copied)
            shutil.rmtree(copied, ignore_errors=True)
    finally:
        swapper.kill()
        swapper.wait()
    assert attempts > 50


# Exchanges two paths atomically (renameat2 RENAME_EXCHANGE), as fast as it can, until killed.
_SWAPPER = """
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
a, b = sys.argv[1].encode(), sys.argv[2].encode()
while True:
    libc.renameat2(-100, a, -100, b, 2)
"""


def test_a_refused_newer_submission_keeps_the_one_collected_before(course: Course, tmp_path: Path) -> None:
    course.submit("ada", "ada's good one", when=T0)
    course.collect()
    hostile = course.submit("ada", "ada's hostile one", when=T0 + timedelta(hours=1))
    os.symlink("/etc/shadow", hostile / "labels.csv")

    log = course.collect()

    assert course.submitted() == {"ada": "ada's good one"}, "nothing that was already collected is lost"
    assert any("Refusing the submission" in line and str(hostile) in line for line in log.splitlines())
