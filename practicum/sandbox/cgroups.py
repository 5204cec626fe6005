"""Whole-sandbox limits with cgroups (v1 hierarchies or the v2 unified tree).

A sandbox's cgroup is ``<this process's cgroup>/practicum/<name>``: in each v1 hierarchy the lab
uses (memory, pids, and cpu, cpuacct, freezer where mounted) or once in v2. Its memory limit
covers every process in it together with the tmpfs and shared-memory pages they write: the
kernel charges a page to the cgroup of the process that first touches it, so filling /tmp or
/dev/shm spends the sandbox's memory, not the host's. There is no swap (memsw / swap.max).

Only root or a process given a delegated subtree can create cgroups (``cgroups_available``).

A process started with ``$PRACTICUM_CGROUP_OWNER`` set (a grading worker, by its pool) names every
cgroup it and its children create ``<name>.<owner>``: when the process is killed before it could
remove them, whoever started it removes what it left with ``sweep_owned``.
"""

from __future__ import annotations

import errno
import math
import os
import re
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

CGROUP_ROOT = "/sys/fs/cgroup"
PROC_SELF_CGROUP = "/proc/self/cgroup"
PARENT = "practicum"

_REQUIRED = ("memory", "pids")
_V1_OPTIONAL = ("cpu", "cpuacct", "freezer")
_V2_PERIOD_US = 100_000
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
OWNER_ENV = "PRACTICUM_CGROUP_OWNER"
_OWNER = re.compile(r"[A-Za-z0-9_-]{1,40}")


class CgroupError(RuntimeError):
    """A cgroup could not be created, limited, emptied or removed."""


@dataclass(frozen=True)
class CgroupLimits:
    """Limits for one whole sandbox: bytes of memory (RAM + tmpfs + shm, no swap), processes, CPUs."""

    memory_bytes: int
    pids: int
    cpus: float | None = None

    def __post_init__(self) -> None:
        for label, value in (("memory_bytes", self.memory_bytes), ("pids", self.pids)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"CgroupLimits.{label} must be a positive int, not {value!r}")
        if self.cpus is not None and not (isinstance(self.cpus, int | float) and math.isfinite(self.cpus) and self.cpus > 0):
            raise ValueError(f"CgroupLimits.cpus must be a positive number or None, not {self.cpus!r}")


@dataclass(frozen=True)
class CgroupUsage:
    """What a cgroup used; None where this kernel does not tell.

    ``oom_kills`` counts processes the OOM killer took (on v1 kernels older than 4.13, which
    lack that count, it is 1 when the limit was ever hit). ``pids_limit_hits`` counts forks
    refused by pids.max.
    """

    memory_peak_bytes: int | None
    oom_kills: int
    pids_limit_hits: int
    cpu_seconds: float | None


def _mkdir(path: str) -> None:
    os.mkdir(path, 0o755)


def _rmdir(path: str) -> None:
    os.rmdir(path)


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii") as f:
            return f.read()
    except FileNotFoundError:
        return None


def _keyed(path: str) -> dict[str, int]:
    """'key value' lines (memory.events, pids.events, cpu.stat, memory.oom_control)."""
    pairs = (line.split() for line in (_read(path) or "").splitlines())
    return {p[0]: int(p[1]) for p in pairs if len(p) == 2 and p[1].lstrip("-").isdigit()}


def _write(path: str, text: str) -> None:
    # O_TRUNC is ignored by cgroupfs (as with a shell's `>`) and keeps plain-file fakes exact.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)
    except OSError as e:
        raise CgroupError(f"cannot write {text!r} to {path}: {e.strerror}") from e


def _version() -> str | None:
    if os.path.isfile(os.path.join(CGROUP_ROOT, "cgroup.controllers")):
        return "v2"
    if all(os.path.isfile(os.path.join(CGROUP_ROOT, c, "cgroup.procs")) for c in _REQUIRED):
        return "v1"
    return None


def _own_paths() -> dict[str, str]:
    """Controller -> this process's cgroup path ('' is the v2 tree), from /proc/self/cgroup."""
    paths: dict[str, str] = {}
    with open(PROC_SELF_CGROUP, encoding="utf-8") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                paths[controller] = path.lstrip("/")
    return paths


def _v1_mount(controller: str, own: dict[str, str]) -> str | None:
    if controller not in own:
        return None
    # A co-mounted hierarchy is "cpu,cpuacct", usually with "cpu" and "cpuacct" symlinks to it.
    for candidate in (controller, *(c for c in os.listdir(CGROUP_ROOT) if controller in c.split(","))):
        mount = os.path.join(CGROUP_ROOT, candidate)
        if os.path.isfile(os.path.join(mount, "cgroup.procs")):
            return mount
    return None


def _parent_dirs(version: str) -> tuple[tuple[str, str], ...]:
    """(controller, '<own cgroup>/practicum') per hierarchy used; v2: one pair with controller ''."""
    own = _own_paths()
    if version == "v2":
        return (("", os.path.join(CGROUP_ROOT, own.get("", ""), PARENT)),)
    pairs = []
    for controller in _REQUIRED + _V1_OPTIONAL:
        mount = _v1_mount(controller, own)
        if mount is None:
            if controller in _REQUIRED:
                raise CgroupError(f"cgroup v1 controller {controller!r} is not mounted under {CGROUP_ROOT}")
            continue
        pairs.append((controller, os.path.join(mount, own[controller], PARENT)))
    return tuple(pairs)


def _v2_missing_controllers(own_dir: str, wanted: list[str]) -> tuple[list[str], list[str]]:
    """(not delegated to own_dir at all, delegated but not yet enabled for its children)."""
    available = (_read(os.path.join(own_dir, "cgroup.controllers")) or "").split()
    enabled = (_read(os.path.join(own_dir, "cgroup.subtree_control")) or "").split()
    return [c for c in wanted if c not in available], [c for c in wanted if c in available and c not in enabled]


def _v2_internal_process_conflict(own_dir: str, to_enable: list[str]) -> bool:
    # v2's "no internal processes" rule: a non-root cgroup (the root has no cgroup.type) that
    # holds processes cannot hand controllers to children.
    return bool(to_enable) and os.path.exists(os.path.join(own_dir, "cgroup.type")) and bool((_read(os.path.join(own_dir, "cgroup.procs")) or "").split())


def cgroups_available() -> str | None:
    """'v1' or 'v2' when this process can create sandbox cgroups with memory and pids limits, else None."""
    version = _version()
    if version is None:
        return None
    try:
        parents = _parent_dirs(version)
    except (CgroupError, OSError, ValueError):
        return None
    for _, parent in parents:
        if not os.access(parent if os.path.isdir(parent) else os.path.dirname(parent), os.W_OK):
            return None
    if version == "v2":
        own_dir = os.path.dirname(parents[0][1])
        absent, to_enable = _v2_missing_controllers(own_dir, list(_REQUIRED))
        if absent or _v2_internal_process_conflict(own_dir, to_enable):
            return None
    return version


@dataclass(frozen=True)
class Cgroup:
    """One sandbox's cgroup: ``dirs`` holds (controller, directory) per hierarchy ('' on v2)."""

    name: str
    version: str
    dirs: tuple[tuple[str, str], ...]
    _procs_files: tuple[bytes, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_procs_files", tuple(os.fsencode(os.path.join(d, "cgroup.procs")) for d in self._unique_dirs()))

    @classmethod
    def create(cls, name: str, limits: CgroupLimits) -> Cgroup:
        """Create ``<own cgroup>/practicum/<name>`` (``<name>.<owner>`` under ``$PRACTICUM_CGROUP_OWNER``)
        with ``limits``; a name already there is an error."""
        if owner := os.environ.get(OWNER_ENV):
            if not _OWNER.fullmatch(owner):
                raise ValueError(f"${OWNER_ENV} must match {_OWNER.pattern}: {owner!r}")
            name = f"{name}.{owner}"
        if not _NAME.fullmatch(name):
            raise ValueError(f"cgroup name must match {_NAME.pattern}: {name!r}")
        version = _version()
        if version is None:
            raise CgroupError(f"no usable cgroup v1 or v2 hierarchy under {CGROUP_ROOT}")
        parents = _parent_dirs(version)
        if version == "v1" and limits.cpus is not None and "cpu" not in dict(parents):
            raise CgroupError("a CPU limit needs the cgroup v1 cpu controller, which is not mounted")
        if version == "v2":
            cls._v2_prepare(os.path.dirname(parents[0][1]), ["memory", "pids"] + (["cpu"] if limits.cpus is not None else []))
        made: list[tuple[str, str]] = []
        by_hierarchy: dict[str, str] = {}
        try:
            for controller, parent in parents:
                hierarchy = os.path.realpath(os.path.dirname(parent))
                if hierarchy not in by_hierarchy:
                    if not os.path.isdir(parent):
                        try:
                            _mkdir(parent)
                        except FileExistsError:
                            pass
                    by_hierarchy[hierarchy] = os.path.join(parent, name)
                    try:
                        _mkdir(by_hierarchy[hierarchy])
                    except FileExistsError:
                        raise CgroupError(f"cgroup {by_hierarchy[hierarchy]} already exists (a leftover? see sweep_stale)") from None
                    except OSError as e:
                        raise CgroupError(f"cannot create cgroup {by_hierarchy[hierarchy]}: {e.strerror}") from e
                made.append((controller, by_hierarchy[hierarchy]))
            cgroup = cls(name, version, tuple(made))
            cgroup._limit(limits)
        except BaseException:
            try:
                cls(name, version, tuple(made)).remove()
            except CgroupError:
                pass  # the first error says more
            raise
        return cgroup

    @staticmethod
    def _v2_prepare(own_dir: str, wanted: list[str]) -> None:
        absent, to_enable = _v2_missing_controllers(own_dir, wanted)
        if absent:
            raise CgroupError(f"cgroup v2 controllers {absent} are not delegated to {own_dir}")
        if _v2_internal_process_conflict(own_dir, to_enable):
            raise CgroupError(
                f"cannot enable {to_enable} below {own_dir}: it holds processes and cgroup v2 allows no internal "
                "processes; run the launcher in a leaf of a delegated subtree (e.g. move it to a child cgroup first)"
            )
        if to_enable:
            _write(os.path.join(own_dir, "cgroup.subtree_control"), " ".join(f"+{c}" for c in to_enable))
        parent = os.path.join(own_dir, PARENT)
        if not os.path.isdir(parent):
            try:
                _mkdir(parent)
            except FileExistsError:
                pass
        _, to_enable = _v2_missing_controllers(parent, wanted)
        if to_enable:
            _write(os.path.join(parent, "cgroup.subtree_control"), " ".join(f"+{c}" for c in to_enable))

    def _limit(self, limits: CgroupLimits) -> None:
        if self.version == "v2":
            d = self.dirs[0][1]
            _write(os.path.join(d, "memory.max"), str(limits.memory_bytes))
            if os.path.exists(os.path.join(d, "memory.swap.max")):  # absent without swap accounting
                _write(os.path.join(d, "memory.swap.max"), "0")
            _write(os.path.join(d, "pids.max"), str(limits.pids))
            if limits.cpus is not None:
                _write(os.path.join(d, "cpu.max"), f"{max(1000, round(limits.cpus * _V2_PERIOD_US))} {_V2_PERIOD_US}")
            return
        memory, pids, cpu = self._dir("memory"), self._dir("pids"), self._dir("cpu")
        assert memory and pids
        # memsw (memory + swap) may never be below the memory limit: set memory first.
        _write(os.path.join(memory, "memory.limit_in_bytes"), str(limits.memory_bytes))
        if os.path.exists(os.path.join(memory, "memory.memsw.limit_in_bytes")):
            _write(os.path.join(memory, "memory.memsw.limit_in_bytes"), str(limits.memory_bytes))
        _write(os.path.join(pids, "pids.max"), str(limits.pids))
        if limits.cpus is not None and cpu:
            period = int((_read(os.path.join(cpu, "cpu.cfs_period_us")) or str(_V2_PERIOD_US)).strip())
            _write(os.path.join(cpu, "cpu.cfs_quota_us"), str(max(1000, round(limits.cpus * period))))

    def _dir(self, controller: str) -> str | None:
        return dict(self.dirs).get(controller)

    def _unique_dirs(self) -> list[str]:
        return list(dict.fromkeys(d for _, d in self.dirs))

    def join(self, pid: int | None = None) -> None:
        """Move ``pid`` (default: the calling process) into every hierarchy.

        Safe in a subprocess ``preexec_fn``: only os.open/os.write/os.close of paths computed at
        creation. Raises OSError (the child then does not exec).
        """
        data = b"0" if pid is None else str(pid).encode()
        for path in self._procs_files:
            fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)

    def processes(self) -> set[int]:
        """Ids of the processes in this cgroup (and any child cgroups) in any hierarchy."""
        found: set[int] = set()
        for top in self._unique_dirs():
            for folder, _, _ in os.walk(top):
                found.update(int(p) for p in (_read(os.path.join(folder, "cgroup.procs")) or "").split())
        return found

    def kill(self, timeout: float = 5.0) -> None:
        """SIGKILL every process in the cgroup until it is empty; CgroupError after ``timeout`` seconds.

        v2 writes cgroup.kill where the kernel has it. Otherwise the group is frozen first (v1
        freezer, v2 cgroup.freeze) so that no process forks between the listing and the kill.
        """
        deadline = time.monotonic() + timeout
        kill_file = os.path.join(self.dirs[0][1], "cgroup.kill") if self.version == "v2" else None
        if kill_file and not os.path.exists(kill_file):
            kill_file = None
        while pids := self.processes():
            if os.getpid() in pids:
                raise CgroupError(f"refusing to kill cgroup {self.name}: the calling process is inside it")
            if time.monotonic() > deadline:
                raise CgroupError(f"cgroup {self.name} still holds {len(pids)} processes after {timeout} s")
            if kill_file:
                _write(kill_file, "1")
            else:
                self._freeze(True, deadline)
                try:
                    for pid in self.processes():
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                finally:
                    self._freeze(False, deadline)
            time.sleep(0.01)

    def _freeze(self, frozen: bool, deadline: float) -> None:
        if self.version == "v2":
            d = self.dirs[0][1]
            path, value = os.path.join(d, "cgroup.freeze"), "1" if frozen else "0"
            done = lambda: f"frozen {value}" in (_read(os.path.join(d, "cgroup.events")) or "").splitlines()  # noqa: E731
        elif freezer := self._dir("freezer"):
            path, value = os.path.join(freezer, "freezer.state"), "FROZEN" if frozen else "THAWED"
            done = lambda: (_read(path) or "").strip() == value  # noqa: E731
        else:
            return
        if not os.path.exists(path):
            return
        _write(path, value)
        # Freezing completes asynchronously; wait briefly, then go on regardless (thawing needs no wait).
        until = min(deadline, time.monotonic() + 1.0)
        while frozen and not done() and time.monotonic() < until:
            time.sleep(0.005)

    def usage(self) -> CgroupUsage:
        """Peak memory, OOM kills, refused forks and CPU time so far."""
        if self.version == "v2":
            d = self.dirs[0][1]
            peak = _read(os.path.join(d, "memory.peak"))
            usec = _keyed(os.path.join(d, "cpu.stat")).get("usage_usec")
            return CgroupUsage(
                memory_peak_bytes=int(peak) if peak else None,
                oom_kills=_keyed(os.path.join(d, "memory.events")).get("oom_kill", 0),
                pids_limit_hits=_keyed(os.path.join(d, "pids.events")).get("max", 0),
                cpu_seconds=usec / 1e6 if usec is not None else None,
            )
        memory, pids = self._dir("memory") or "", self._dir("pids") or ""
        peak = _read(os.path.join(memory, "memory.max_usage_in_bytes"))
        oom = _keyed(os.path.join(memory, "memory.oom_control")).get("oom_kill")
        if oom is None:
            oom = int(int(_read(os.path.join(memory, "memory.failcnt")) or 0) > 0)
        cpu_seconds = None
        if cpuacct := self._dir("cpuacct"):
            ns = _read(os.path.join(cpuacct, "cpuacct.usage"))
            cpu_seconds = int(ns) / 1e9 if ns else None
        return CgroupUsage(
            memory_peak_bytes=int(peak) if peak else None,
            oom_kills=oom,
            pids_limit_hits=_keyed(os.path.join(pids, "pids.events")).get("max", 0),
            cpu_seconds=cpu_seconds,
        )

    def remove(self, timeout: float = 5.0) -> None:
        """Kill what is inside, then remove the cgroup from every hierarchy; already gone is fine."""
        if self.processes():
            self.kill(timeout)
        deadline = time.monotonic() + timeout
        for top in self._unique_dirs():
            for folder, _, _ in sorted(os.walk(top), key=lambda entry: -entry[0].count(os.sep)):
                while True:
                    try:
                        _rmdir(folder)
                        break
                    except FileNotFoundError:
                        break
                    except OSError as e:
                        # Dying processes can keep a cgroup busy for a moment.
                        if e.errno != errno.EBUSY or time.monotonic() > deadline:
                            raise CgroupError(f"cannot remove cgroup {folder}: {e.strerror}") from e
                        time.sleep(0.01)

    def __enter__(self) -> Cgroup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def sweep_stale(prefix: str) -> list[str]:
    """Kill and remove leftover ``practicum/<prefix>*`` cgroups (after a crash); returns their names."""
    if not _NAME.fullmatch(prefix):
        raise ValueError(f"cgroup name prefix must match {_NAME.pattern}: {prefix!r}")
    return _sweep(lambda entry: entry.startswith(prefix))


def sweep_owned(owner: str) -> list[str]:
    """Kill and remove the cgroups a process started with ``$PRACTICUM_CGROUP_OWNER=owner`` left behind."""
    if not _OWNER.fullmatch(owner):
        raise ValueError(f"cgroup owner must match {_OWNER.pattern}: {owner!r}")
    return _sweep(lambda entry: entry.endswith(f".{owner}"))


def _sweep(chosen: Callable[[str], bool]) -> list[str]:
    version = _version()
    if version is None:
        return []
    found: dict[str, list[tuple[str, str]]] = {}
    for controller, parent in _parent_dirs(version):
        try:
            entries = sorted(os.listdir(parent))
        except FileNotFoundError:
            continue
        for entry in entries:
            if chosen(entry) and os.path.isdir(os.path.join(parent, entry)):
                found.setdefault(entry, []).append((controller, os.path.join(parent, entry)))
    for name, dirs in found.items():
        Cgroup(name, version, tuple(dirs)).remove()
    return list(found)
