"""Whole-sandbox cgroups: real limits on this host (v1 or v2), and the v2 logic against a fake cgroup tree."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from practicum.sandbox import cgroups
from practicum.sandbox.cgroups import Cgroup, CgroupError, CgroupLimits, CgroupUsage

MIB = 1 << 20
PY = sys.executable
PREFIX = f"pytest-sandbox-{os.getpid()}-"
_numbers = itertools.count()

real = pytest.mark.skipif(cgroups.cgroups_available() is None, reason="this process cannot create cgroups")


@pytest.fixture
def make_cgroup():
    """Create uniquely named cgroups; every one is killed and removed after the test, pass or fail."""
    made: list[Cgroup] = []

    def make(limits: CgroupLimits) -> Cgroup:
        made.append(Cgroup.create(f"{PREFIX}{next(_numbers)}", limits))
        return made[-1]

    yield make
    for cgroup in made:
        cgroup.remove()


def popen_in(cgroup: Cgroup, argv: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(argv, preexec_fn=cgroup.join, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_limits_must_be_positive():
    for bad in ({"memory_bytes": 0, "pids": 1}, {"memory_bytes": MIB, "pids": -1}, {"memory_bytes": MIB, "pids": True},
                {"memory_bytes": MIB, "pids": 1, "cpus": 0}, {"memory_bytes": MIB, "pids": 1, "cpus": float("nan")}):
        with pytest.raises(ValueError, match="CgroupLimits"):
            CgroupLimits(**bad)
    with pytest.raises(ValueError, match="name"):
        Cgroup.create("../escape", CgroupLimits(MIB, 1))


@real
def test_join_in_preexec_fn_moves_the_child_into_every_hierarchy(make_cgroup):
    cgroup = make_cgroup(CgroupLimits(64 * MIB, 8))
    child = popen_in(cgroup, ["sleep", "30"])  # join() writes "0": "the writing process"
    other = subprocess.Popen(["sleep", "30"])
    try:
        cgroup.join(other.pid)
        assert cgroup.processes() == {child.pid, other.pid}
        for pid in (child.pid, other.pid):
            lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
            placed = {controller for line in lines for controller in line.split(":")[1].split(",") if line.endswith(f"/practicum/{cgroup.name}")}
            expected = {"memory", "pids", "cpu", "cpuacct", "freezer"} & {c for c, _ in cgroup.dirs} if cgroup.version == "v1" else {""}
            assert placed >= expected and expected
    finally:
        cgroup.kill()
        child.wait(timeout=5)
        other.wait(timeout=5)


@real
def test_a_memory_bomb_is_oom_killed_at_the_limit(make_cgroup):
    cgroup = make_cgroup(CgroupLimits(100 * MIB, 16))
    bomb = popen_in(cgroup, [PY, "-c", "chunks = []\nwhile True:\n    chunks.append(b'\\x01' * (50 << 20))"])
    bomb.communicate(timeout=30)
    usage = cgroup.usage()
    assert bomb.returncode == -9
    assert usage.oom_kills >= 1
    assert usage.memory_peak_bytes is not None and 50 * MIB <= usage.memory_peak_bytes <= 101 * MIB


def binds_back_under_tmp() -> list[str]:
    """The interpreter and the checkout again, when they live under the /tmp a test's tmpfs covers."""
    paths = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, Path(__file__).resolve().parents[2])}
    args = []
    for path in sorted(p for p in paths if p.startswith("/tmp/")):
        args += ["--ro-bind", path, path]
    return args


TMPFS_FILL = textwrap.dedent(
    """
    import errno, os
    block = b"\\x01" * (1 << 20)
    try:
        with open("/tmp/fill", "wb", buffering=0) as f:
            for _ in range(200):
                f.write(block)
    except OSError as e:
        print("refused", errno.errorcode[e.errno]); raise SystemExit(3)
    print("wrote 200 MB")
    """
)


@real
@pytest.mark.skipif(shutil.which("bwrap") is None, reason="no bubblewrap")
def test_tmpfs_pages_count_against_the_sandbox_memory(make_cgroup):
    cgroup = make_cgroup(CgroupLimits(100 * MIB, 32))
    # /tmp is a fresh tmpfs (bwrap --tmpfs needs an existing mount point under the read-only /); a checkout
    # under the host's /tmp (a CI clone) is bound back on top of it.
    argv = ["bwrap", "--unshare-all", "--unshare-user", "--uid", "1000", "--ro-bind", "/", "/", "--dev", "/dev",
            "--proc", "/proc", "--tmpfs", "/tmp", *binds_back_under_tmp(), "--", PY, "-c", TMPFS_FILL]
    fill = popen_in(cgroup, argv)
    out, err = fill.communicate(timeout=30)
    assert "wrote 200 MB" not in out
    assert fill.returncode in (128 + 9, 3), (fill.returncode, out, err)  # bwrap: child killed by SIGKILL, or ENOSPC/ENOMEM
    if fill.returncode == 128 + 9:
        assert cgroup.usage().oom_kills >= 1


FORK_BOMB = textwrap.dedent(
    """
    import os, time
    end = time.monotonic() + 2
    while time.monotonic() < end:
        try:
            os.fork()
        except OSError:
            time.sleep(0.01)
    time.sleep(30)
    """
)


@real
def test_a_fork_bomb_hits_pids_max_and_kill_empties_the_group(make_cgroup):
    cgroup = make_cgroup(CgroupLimits(512 * MIB, 32))
    bomb = popen_in(cgroup, [PY, "-c", FORK_BOMB])
    try:
        time.sleep(2.5)
        assert 1 < len(cgroup.processes()) <= 32
        assert cgroup.usage().pids_limit_hits >= 1
        assert subprocess.run(["true"], timeout=10).returncode == 0  # the host can still fork
        started = time.monotonic()
        cgroup.kill()
        assert cgroup.processes() == set()
        assert time.monotonic() - started < 5
        assert bomb.wait(timeout=5) == -9
    finally:
        cgroup.kill()
        bomb.wait(timeout=5)


@real
def test_half_a_cpu_gets_about_half_the_cpu_time(make_cgroup):
    cgroup = make_cgroup(CgroupLimits(128 * MIB, 8, cpus=0.5))
    busy = popen_in(cgroup, [PY, "-c", "import time\nend = time.monotonic() + 1.5\nwhile time.monotonic() < end: pass"])
    busy.communicate(timeout=30)
    seconds = cgroup.usage().cpu_seconds
    assert busy.returncode == 0
    assert seconds is not None and 0.3 < seconds < 1.1  # unthrottled it would be about 1.5


@real
def test_remove_kills_what_is_inside_and_leaves_no_folder(make_cgroup):
    cgroup = make_cgroup(CgroupLimits(64 * MIB, 8))
    sleeper = popen_in(cgroup, ["sleep", "30"])
    with pytest.raises(CgroupError, match="already exists"):
        Cgroup.create(cgroup.name, CgroupLimits(64 * MIB, 8))
    with cgroup:
        pass
    assert sleeper.wait(timeout=5) == -9
    assert not any(os.path.exists(folder) for _, folder in cgroup.dirs)
    cgroup.remove()  # already gone: fine


@real
def test_sweep_stale_removes_leftovers_with_the_prefix_only(make_cgroup):
    leftover = make_cgroup(CgroupLimits(64 * MIB, 8))
    keeper = make_cgroup(CgroupLimits(64 * MIB, 8))
    orphan = popen_in(leftover, ["sleep", "30"])
    assert cgroups.sweep_stale(leftover.name) == [leftover.name]
    assert orphan.wait(timeout=5) == -9
    assert not any(os.path.exists(folder) for _, folder in leftover.dirs)
    assert all(os.path.isdir(folder) for _, folder in keeper.dirs)


@real
def test_cgroups_made_under_an_owner_are_named_after_it_and_swept_with_it(make_cgroup, monkeypatch):
    monkeypatch.setenv(cgroups.OWNER_ENV, "worker-test1")
    owned = make_cgroup(CgroupLimits(64 * MIB, 8))
    monkeypatch.setenv(cgroups.OWNER_ENV, "worker-test2")
    other = make_cgroup(CgroupLimits(64 * MIB, 8))
    monkeypatch.delenv(cgroups.OWNER_ENV)
    plain = make_cgroup(CgroupLimits(64 * MIB, 8))
    assert owned.name.endswith(".worker-test1") and other.name.endswith(".worker-test2") and "." not in plain.name
    orphan = popen_in(owned, ["sleep", "30"])
    assert cgroups.sweep_owned("worker-test1") == [owned.name]
    assert orphan.wait(timeout=5) == -9
    assert not any(os.path.exists(folder) for _, folder in owned.dirs)
    assert all(os.path.isdir(folder) for c in (other, plain) for _, folder in c.dirs)


def test_an_owner_tag_that_could_reach_another_cgroup_is_refused(monkeypatch):
    for bad in ("../x", "a/b", "", "x" * 41, "a.b"):
        with pytest.raises(ValueError, match="owner"):
            cgroups.sweep_owned(bad)
    monkeypatch.setenv(cgroups.OWNER_ENV, "../escape")
    with pytest.raises(ValueError, match="PRACTICUM_CGROUP_OWNER"):
        Cgroup.create("x", CgroupLimits(64 * MIB, 8))


# --- cgroup v2 logic on plain files -------------------------------------------------------------

V2_FILES = {
    "cgroup.procs": "", "cgroup.subtree_control": "", "cgroup.type": "domain\n", "cgroup.kill": "", "cgroup.freeze": "0\n",
    "cgroup.events": "populated 0\nfrozen 0\n", "memory.max": "max\n", "memory.swap.max": "max\n", "memory.peak": "0\n",
    "memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n", "pids.max": "max\n", "pids.events": "max 0\n",
    "cpu.max": "max 100000\n", "cpu.stat": "usage_usec 0\n",
}


@pytest.fixture
def fake_v2(tmp_path, monkeypatch):
    """A cgroup2 tree in plain files; this process lives in /lab.slice/launcher (holding no processes)."""
    root = tmp_path / "cgroup"

    def mkdir(path: str) -> None:  # the kernel fills a new cgroup with its interface files
        os.mkdir(path)
        parent_enabled = (Path(path).parent / "cgroup.subtree_control").read_text().replace("+", "").split()
        for name, text in V2_FILES.items():
            (Path(path) / name).write_text(text)
        (Path(path) / "cgroup.controllers").write_text(" ".join(parent_enabled) + "\n")

    def rmdir(path: str) -> None:
        for entry in Path(path).iterdir():
            if entry.is_file():
                entry.unlink()
        os.rmdir(path)

    (root / "lab.slice").mkdir(parents=True)
    (root / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (root / "cgroup.subtree_control").write_text("cpu memory pids\n")
    (root / "lab.slice" / "cgroup.subtree_control").write_text("cpu memory pids\n")
    mkdir(str(root / "lab.slice" / "launcher"))
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text("0::/lab.slice/launcher\n")
    monkeypatch.setattr(cgroups, "CGROUP_ROOT", str(root))
    monkeypatch.setattr(cgroups, "PROC_SELF_CGROUP", str(proc))
    monkeypatch.setattr(cgroups, "_mkdir", mkdir)
    monkeypatch.setattr(cgroups, "_rmdir", rmdir)
    return root / "lab.slice" / "launcher"


def test_v2_create_enables_controllers_and_writes_the_limits(fake_v2):
    assert cgroups.cgroups_available() == "v2"
    cgroup = Cgroup.create("grade-1", CgroupLimits(100 * MIB, 32, cpus=0.5))
    folder = fake_v2 / "practicum" / "grade-1"
    assert cgroup.dirs == (("", str(folder)),)
    assert (fake_v2 / "cgroup.subtree_control").read_text() == "+memory +pids +cpu"
    assert (fake_v2 / "practicum" / "cgroup.subtree_control").read_text() == "+memory +pids +cpu"
    written = {name: (folder / name).read_text() for name in ("memory.max", "memory.swap.max", "pids.max", "cpu.max")}
    assert written == {"memory.max": str(100 * MIB), "memory.swap.max": "0", "pids.max": "32", "cpu.max": "50000 100000"}
    cgroup.join(4242)
    assert (folder / "cgroup.procs").read_text() == "4242"
    cgroup.join()
    assert (folder / "cgroup.procs").read_text() == "0"


def test_v2_usage_reads_peak_oom_kills_pids_events_and_cpu_stat(fake_v2):
    cgroup = Cgroup.create("grade-2", CgroupLimits(100 * MIB, 32))
    folder = fake_v2 / "practicum" / "grade-2"
    (folder / "memory.peak").write_text("4096\n")
    (folder / "memory.events").write_text("low 0\nhigh 0\nmax 9\noom 2\noom_kill 1\noom_group_kill 0\n")
    (folder / "pids.events").write_text("max 7\n")
    (folder / "cpu.stat").write_text("usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n")
    assert cgroup.usage() == CgroupUsage(memory_peak_bytes=4096, oom_kills=1, pids_limit_hits=7, cpu_seconds=2.5)
    (folder / "memory.peak").unlink()  # kernels before 5.19
    assert cgroup.usage().memory_peak_bytes is None


def test_v2_kill_writes_cgroup_kill_and_remove_deletes_the_folder(fake_v2):
    cgroup = Cgroup.create("grade-3", CgroupLimits(100 * MIB, 32))
    folder = fake_v2 / "practicum" / "grade-3"
    (folder / "cgroup.procs").write_text("999999999\n")  # a fake process that never leaves
    with pytest.raises(CgroupError, match="still holds 1 processes"):
        cgroup.kill(timeout=0.2)
    assert (folder / "cgroup.kill").read_text() == "1"
    (folder / "cgroup.procs").write_text("")
    cgroup.remove()
    assert not folder.exists() and (fake_v2 / "practicum").is_dir()


def test_v2_without_cgroup_kill_freezes_kills_and_thaws(fake_v2):
    cgroup = Cgroup.create("grade-4", CgroupLimits(100 * MIB, 32))
    folder = fake_v2 / "practicum" / "grade-4"
    (folder / "cgroup.kill").unlink()  # kernels before 5.14
    sleeper = subprocess.Popen(["sleep", "30"])
    (folder / "cgroup.procs").write_text(f"{sleeper.pid}\n")
    with pytest.raises(CgroupError, match="still holds"):  # the fake file keeps listing it
        cgroup.kill(timeout=0.3)
    assert sleeper.wait(timeout=5) == -9
    assert (folder / "cgroup.freeze").read_text() == "0"  # thawed again


def test_v2_refuses_clearly_when_controllers_cannot_be_handed_down(fake_v2):
    (fake_v2 / "cgroup.procs").write_text("4242\n")  # the launcher sits in its own cgroup
    assert cgroups.cgroups_available() is None
    with pytest.raises(CgroupError, match="no internal processes"):
        Cgroup.create("grade-5", CgroupLimits(100 * MIB, 32))
    (fake_v2 / "cgroup.procs").write_text("")
    (fake_v2 / "cgroup.controllers").write_text("cpu\n")
    with pytest.raises(CgroupError, match=r"\['memory', 'pids'\] are not delegated"):
        Cgroup.create("grade-5", CgroupLimits(100 * MIB, 32))


# --- cgroup v1 with a co-mounted cpu,cpuacct hierarchy, on plain files ---------------------------

V1_FILES = {
    "cgroup.procs": "", "memory.limit_in_bytes": "9223372036854771712\n", "memory.memsw.limit_in_bytes": "9223372036854771712\n",
    "memory.max_usage_in_bytes": "0\n", "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
    "memory.failcnt": "0\n", "pids.max": "max\n", "pids.events": "max 0\n", "cpu.cfs_period_us": "250000\n",
    "cpu.cfs_quota_us": "-1\n", "cpuacct.usage": "0\n",
}


def test_v1_co_mounted_cpu_cpuacct_is_one_folder_and_limits_follow_the_period(tmp_path, monkeypatch):
    root = tmp_path / "cgroup"
    for hierarchy in ("memory", "pids", "cpu,cpuacct"):
        (root / hierarchy).mkdir(parents=True)
        (root / hierarchy / "cgroup.procs").write_text("")
    (root / "cpu").symlink_to("cpu,cpuacct")
    (root / "cpuacct").symlink_to("cpu,cpuacct")
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text("4:memory:/job/7\n3:pids:/\n2:cpu,cpuacct:/\n1:name=systemd:/\n0::/\n")

    def mkdir(path: str) -> None:
        os.mkdir(path)
        for name, text in V1_FILES.items():
            (Path(path) / name).write_text(text)

    (root / "memory" / "job" / "7").mkdir(parents=True)
    monkeypatch.setattr(cgroups, "CGROUP_ROOT", str(root))
    monkeypatch.setattr(cgroups, "PROC_SELF_CGROUP", str(proc))
    monkeypatch.setattr(cgroups, "_mkdir", mkdir)
    monkeypatch.setattr(cgroups, "_rmdir", shutil.rmtree)
    assert cgroups.cgroups_available() == "v1"
    cgroup = Cgroup.create("grade-6", CgroupLimits(100 * MIB, 32, cpus=1.5))
    folders = dict(cgroup.dirs)
    assert folders["memory"] == str(root / "memory" / "job" / "7" / "practicum" / "grade-6")
    assert folders["cpu"] == folders["cpuacct"] and "freezer" not in folders
    assert len({os.path.realpath(folder) for folder in folders.values()}) == 3
    memory, cpu = Path(folders["memory"]), Path(folders["cpu"])
    assert (memory / "memory.limit_in_bytes").read_text() == (memory / "memory.memsw.limit_in_bytes").read_text() == str(100 * MIB)
    assert (Path(folders["pids"]) / "pids.max").read_text() == "32"
    assert (cpu / "cpu.cfs_quota_us").read_text() == "375000"  # 1.5 x this hierarchy's 250 ms period
    (memory / "memory.max_usage_in_bytes").write_text("123456\n")
    (memory / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    (Path(folders["pids"]) / "pids.events").write_text("max 4\n")
    (cpu / "cpuacct.usage").write_text("1500000000\n")
    assert cgroup.usage() == CgroupUsage(memory_peak_bytes=123456, oom_kills=2, pids_limit_hits=4, cpu_seconds=1.5)
    cgroup.remove()
    assert not any(os.path.exists(folder) for folder in folders.values())
