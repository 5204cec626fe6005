"""The one bubblewrap command line every sandbox of the lab is started with.

Run as root (the lab's launcher), a sandbox is two bubblewrap stages:

1. an outer, privileged stage builds the file system (size-capped tmpfs for /tmp and the spec's
   writable folders, read-only system, Python and lab code, the spec's binds, empty files over
   secrets and masks) in new PID, network, IPC, UTS and cgroup namespaces; then ``setpriv`` drops
   to the spec's unprivileged host uid with no capabilities;
2. an inner, unprivileged stage adds a user namespace with uid 1000 inside, forbids further user
   namespaces (``--disable-userns``), drops every capability, makes /dev read-only but for a
   size-capped /dev/shm, loads the seccomp filter and runs the command.

Mounts made by the outer stage are locked in the inner user namespace: learner code can neither
remount them writable nor unmount a mask to see what it covers. Root-only host files stay
unreadable because the processes run as an unprivileged host uid, not as a mapped root.

Run by an unprivileged caller (inside another sandbox, a developer machine), one unprivileged
stage does all of it; it can only bind what that caller can read.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from . import seccomp
from .limits import Limits
from .mounts import inside, instructor_sources, sandbox_path, secret_paths, system_entries
from .spec import SANDBOX_UID, SANDBOX_USER, SandboxSpec

SETPRIV = "/usr/bin/setpriv"
IN_SANDBOX = "PRACTICUM_IN_SANDBOX"  # set inside every sandbox
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")
_HIDDEN_TMPFS_BYTES = 4096


class SandboxUnavailable(RuntimeError):
    """bubblewrap (or setpriv) is missing: nothing can be confined on this machine."""


def bubblewrap() -> str:
    path = shutil.which("bwrap") or ("/usr/bin/bwrap" if os.path.exists("/usr/bin/bwrap") else None)
    if path is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed: install it (apt-get install bubblewrap)")
    return path


@dataclass
class Prepared:
    """A ready bubblewrap argv and the file descriptors it reads (pass them with ``pass_fds``)."""

    argv: list[str]
    fds: list[int] = field(default_factory=list)

    def close(self) -> None:
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self.fds.clear()


@contextmanager
def prepared_command(spec: SandboxSpec, limits: Limits, *, privileged: bool | None = None) -> Iterator[Prepared]:
    """The argv (and fds) starting ``spec`` under ``limits``; the fds close when the block ends."""
    prepared = prepare(spec, limits, privileged=privileged)
    try:
        yield prepared
    finally:
        prepared.close()


def prepare(spec: SandboxSpec, limits: Limits, *, privileged: bool | None = None) -> Prepared:
    """Like ``prepared_command`` for callers that keep the fds open as long as the sandbox runs."""
    privileged = os.geteuid() == 0 if privileged is None else privileged
    if privileged and not os.path.exists(SETPRIV):
        raise SandboxUnavailable(f"{SETPRIV} (util-linux) is missing: it drops the sandbox to an unprivileged uid")
    prepared = Prepared(argv=[])
    try:
        filter_fd = seccomp.filter_fd(seccomp.build_filter())
        prepared.fds.append(filter_fd)
        data_fds = {}
        for file in spec.files:
            fd = _data_fd(file.content)
            prepared.fds.append(fd)
            data_fds[file.target] = fd
        builder = _Builder(spec, limits, bubblewrap())
        try:
            prepared.argv = builder.two_stage(filter_fd, data_fds) if privileged else builder.one_stage(filter_fd, data_fds)
        finally:
            prepared.fds += builder.fds
    except BaseException:
        prepared.close()
        raise
    return prepared


def sandbox_environment(spec: SandboxSpec, limits: Limits) -> dict[str, str]:
    """The whole environment inside: nothing of the caller's leaks in."""
    env = {
        "HOME": "/tmp",
        "USER": SANDBOX_USER,
        "LOGNAME": SANDBOX_USER,
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONNOUSERSITE": "1",
        "MPLBACKEND": "Agg",
        IN_SANDBOX: "1",
    }
    env |= {name: str(limits.threads) for name in THREAD_VARIABLES}
    return env | dict(spec.env)


class _Builder:
    def __init__(self, spec: SandboxSpec, limits: Limits, bwrap: str) -> None:
        self.spec, self.limits, self.bwrap = spec, limits, bwrap
        self.fds: list[int] = []  # opened while building; the caller closes them with the others
        self.made: set[str] = {"/"}
        self.covered: list[str] = []  # sandbox paths whose subfolders exist: bound host folders

    def two_stage(self, filter_fd: int, data_fds: Mapping[str, int]) -> list[str]:
        outer = [self.bwrap, "--die-with-parent", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                 "--unshare-cgroup-try", "--hostname", self.spec.hostname]
        outer += self._environment() + self._file_system(data_fds) + ["--proc", "/proc", "--dev", "/dev", *self._devices()]
        outer += self._workdir() + ["--chdir", "/", "--"]
        uid = str(self.spec.host_uid)
        drop = [SETPRIV, "--reuid", uid, "--regid", uid, "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
        inner = [self.bwrap, *self._user_namespace(), "--die-with-parent", "--new-session", "--bind", "/", "/", "--dev", "/dev"]
        inner += self._devices() + self._shared_memory() + ["--seccomp", str(filter_fd), "--chdir", self.spec.workdir, "--", *self.spec.command]
        return outer + drop + inner

    def one_stage(self, filter_fd: int, data_fds: Mapping[str, int]) -> list[str]:
        argv = [self.bwrap, "--die-with-parent", "--new-session", "--unshare-all", *self._user_namespace(), "--hostname", self.spec.hostname]
        argv += self._environment() + self._file_system(data_fds) + ["--proc", "/proc", "--dev", "/dev"]
        argv += self._devices() + self._workdir() + self._shared_memory()
        return argv + ["--seccomp", str(filter_fd), "--chdir", self.spec.workdir, "--", *self.spec.command]

    def _user_namespace(self) -> list[str]:
        return ["--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--disable-userns", "--cap-drop", "ALL"]

    def _environment(self) -> list[str]:
        args = ["--clearenv"]
        for name, value in sandbox_environment(self.spec, self.limits).items():
            args += ["--setenv", name, value]
        return args

    def _file_system(self, data_fds: Mapping[str, int]) -> list[str]:
        # /tmp first: binds that live under the host's /tmp (a CI checkout, a test's lab) stay visible on top of it.
        args: list[str] = ["--perms", "1777", "--size", str(self.limits.tmp_bytes), "--tmpfs", "/tmp"]
        self.made.add("/tmp")
        for tmp in sorted(self.spec.tmpfs, key=lambda t: PurePosixPath(t.target).parts):
            args += self._parents(tmp.target) + ["--perms", f"{tmp.mode:04o}", "--size", str(tmp.size_bytes), "--tmpfs", tmp.target]
            self.made.add(tmp.target)  # empty: what goes inside gets its own --dir
        for path, link in system_entries():
            if link is not None:
                args += ["--symlink", link, path]
            else:
                args += ["--ro-bind", path, path]
                self.covered.append(path)
        for bind in sorted(self.spec.binds, key=lambda b: PurePosixPath(b.at).parts):
            if not os.path.exists(bind.source):
                raise FileNotFoundError(f"sandbox bind source {bind.source} does not exist")
            args += self._parents(bind.at)
            args += ["--bind" if bind.writable else "--ro-bind", bind.source, bind.at]
            self.covered.append(bind.at)
        secret_files, secret_dirs = secret_paths()
        for path in secret_files:
            args += ["--perms", "0444", "--ro-bind-data", str(self._empty_fd()), path]
        for path in secret_dirs:
            args += self._empty_folder(path)
        for hidden in (*self.spec.hidden, *instructor_sources()):
            where = sandbox_path(hidden, self.spec.binds)
            if where is None or not os.path.exists(hidden):
                continue
            args += self._empty_folder(where) if os.path.isdir(hidden) else ["--perms", "0444", "--ro-bind-data", str(self._empty_fd()), where]
        for file in self.spec.files:
            args += self._parents(file.target) + ["--perms", "0444", "--ro-bind-data", str(data_fds[file.target]), file.target]
        return args

    def _empty_fd(self) -> int:
        """An empty regular file's content (a device node such as /dev/null cannot be opened through
        the inner user namespace's mounts)."""
        fd = _data_fd(b"")
        self.fds.append(fd)
        return fd

    def _empty_folder(self, path: str) -> list[str]:
        return ["--perms", "0755", "--size", str(_HIDDEN_TMPFS_BYTES), "--tmpfs", path]

    def _workdir(self) -> list[str]:
        if self.spec.workdir in self.made or self._provided(self.spec.workdir):
            return []
        self.made.add(self.spec.workdir)
        return self._parents(self.spec.workdir) + ["--perms", "0755", "--dir", self.spec.workdir]

    def _shared_memory(self) -> list[str]:
        # Then /dev itself read-only: it is bubblewrap's own tmpfs, sized by nothing (half the host's
        # memory), which only a memory cgroup would otherwise bound. Device nodes stay writable.
        return ["--perms", "1777", "--size", str(self.limits.tmp_bytes), "--tmpfs", "/dev/shm", "--remount-ro", "/dev"]

    def _devices(self) -> list[str]:
        args = []
        for device in self.spec.devices:
            if os.path.exists(device):
                args += ["--dev-bind", device, device]
        return args

    def _parents(self, target: str) -> list[str]:
        """--dir for each missing ancestor of ``target`` (mode 0755: bubblewrap's own default is 0700)."""
        args: list[str] = []
        for parent in reversed(PurePosixPath(target).parents):
            folder = str(parent)
            if folder in self.made or self._provided(folder):
                continue
            args += ["--perms", "0755", "--dir", folder]
            self.made.add(folder)
        return args

    def _provided(self, path: str) -> bool:
        return any(inside(path, c) for c in self.covered)


def _data_fd(content: bytes) -> int:
    fd = os.memfd_create("practicum-sandbox-file", 0)
    os.write(fd, content)
    os.lseek(fd, 0, os.SEEK_SET)
    os.set_inheritable(fd, True)
    return fd
