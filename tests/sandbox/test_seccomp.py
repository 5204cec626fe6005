"""The seccomp filter: its BPF shape, and for real under bubblewrap what it refuses and what it lets through."""

from __future__ import annotations

import errno
import json
import os
import platform
import re
import shutil
import signal
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from practicum.sandbox import seccomp

BWRAP = shutil.which("bwrap")
ON_X86_64 = platform.machine() == "x86_64"
# One unprivileged user namespace as uid 1000, nothing else: the filter is what is under test.
BWRAP_ARGS = ["--unshare-all", "--unshare-user", "--uid", "1000", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]

LD_W_ABS, JEQ_K, JSET_K, RET_K = 0x20, 0x15, 0x45, 0x06


def decode(program: bytes) -> list[tuple[int, int, int, int]]:
    return [struct.unpack_from("<HBBI", program, offset) for offset in range(0, len(program), 8)]


def target(insns: list[tuple[int, int, int, int]], index: int, taken: bool) -> tuple[int, int, int, int]:
    _, jt, jf, _ = insns[index]
    return insns[index + 1 + (jt if taken else jf)]


def _bwrap_works() -> bool:
    if BWRAP is None:
        return False
    probe = subprocess.run([BWRAP, *BWRAP_ARGS, "--", "true"], capture_output=True, timeout=30)
    return probe.returncode == 0


needs_bwrap = pytest.mark.skipif(not _bwrap_works(), reason="bubblewrap with user namespaces is not usable here")
needs_native_filter = pytest.mark.skipif(platform.machine() not in seccomp.SYSCALLS, reason="no filter for this architecture")


def run_in_bwrap(code: str, *, program: bytes | None, extra: tuple[str, ...] = ("--disable-userns",)) -> subprocess.CompletedProcess[str]:
    """Run ``python -c code`` as uid 1000 in bubblewrap, under ``program`` (None: no filter, the control)."""
    argv = [BWRAP, *BWRAP_ARGS, *extra]
    fds: list[int] = []
    if program is not None:
        fds.append(seccomp.filter_fd(program))
        argv += ["--seccomp", str(fds[0])]
    try:
        return subprocess.run([*argv, "--", sys.executable, "-c", code], pass_fds=fds, capture_output=True, text=True, timeout=60)
    finally:
        for fd in fds:
            os.close(fd)


# Each probe makes one raw syscall; the arguments are chosen so that, without the filter, the
# kernel answers something other than what the filter answers (checked by the control run).
PROBES = textwrap.dedent(
    """
    import ctypes, json, os, platform
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    X86 = platform.machine() == "x86_64"
    NR = dict(mount=(165, 40), unshare=(272, 97), keyctl=(250, 219), bpf=(321, 280), perf_event_open=(298, 241),
              io_uring_setup=(425, 425), clone3=(435, 435), clone=(56, 220), kcmp=(312, 272), ioctl=(16, 29),
              personality=(135, 92), ptrace=(101, 117))
    def raw(nr, *args):
        ret = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
        return -ctypes.get_errno() if ret == -1 else ret
    def sc(name, *args):
        ret = raw(NR[name][0 if X86 else 1], *args)
        if ret == 0 and name == "clone":
            os._exit(0)  # a clone that went through: the child leaves at once
        if ret > 0 and name == "clone":
            os.waitpid(ret, 0)
        return ret
    out = {
        "mount": sc("mount", 1, 1, 1, 0, 0),  # bad pointers: EFAULT unless refused first
        "unshare_newuser": sc("unshare", 0x10000000),
        "keyctl": sc("keyctl", 0, -3, 0),  # KEYCTL_GET_KEYRING_ID of the session keyring
        "bpf": sc("bpf", 0, 0, 0),
        "perf_event_open": sc("perf_event_open", 0, 0, -1, -1, 0),
        "io_uring_setup": sc("io_uring_setup", 1, 0),
        "clone3": sc("clone3", 0, 0),
        # CLONE_NEWNET | CLONE_THREAD without CLONE_SIGHAND: the kernel itself says EINVAL
        "clone_newnet_thread": sc("clone", 0x40000000 | 0x10000, 0, 0, 0, 0),
        "clone_newnet": sc("clone", 0x40000000 | 17, 0, 0, 0, 0),
        "clone_plain": min(sc("clone", 17, 0, 0, 0, 0), 1),  # SIGCHLD only: a fork, > 0
        "kcmp": sc("kcmp", os.getpid(), os.getpid(), 0, 0, 0),
        "ioctl_tiocsti": sc("ioctl", 0, 0x5412, 0),
        "ioctl_tiocsti_high_bits": sc("ioctl", 0, (1 << 32) | 0x5412, 0),
        "personality_query": sc("personality", 0xFFFFFFFF),
        "personality_no_aslr": sc("personality", 0x0040000),
    }
    if X86:
        out["x32_getpid"] = raw(0x40000000 | 39)  # the x32 ABI's getpid
    out["ptrace_traceme"] = sc("ptrace", 0, 0, 0, 0)  # last: in the control run it succeeds
    print(json.dumps(out))
    """
)

EPERM, ENOSYS = -errno.EPERM, -errno.ENOSYS
EXPECTED = {
    "mount": EPERM, "unshare_newuser": EPERM, "keyctl": EPERM, "bpf": EPERM, "perf_event_open": EPERM,
    "io_uring_setup": EPERM, "clone3": ENOSYS, "clone_newnet_thread": EPERM, "clone_newnet": EPERM, "clone_plain": 1,
    "kcmp": EPERM, "ioctl_tiocsti": EPERM, "ioctl_tiocsti_high_bits": EPERM, "personality_query": 0,
    "personality_no_aslr": EPERM, "ptrace_traceme": EPERM,
}
if ON_X86_64:
    EXPECTED["x32_getpid"] = EPERM
# Answers the filter leaves to the kernel, or where the kernel already says EPERM to uid 1000.
SAME_WITHOUT_FILTER = {"clone_newnet", "clone_plain", "personality_query"}


def test_program_is_a_whole_number_of_instructions_with_the_arch_check_first():
    program = seccomp.build_filter(arch="x86_64")
    assert len(program) % 8 == 0 and 0 < len(program) // 8 <= 4096  # BPF_MAXINSNS
    insns = decode(program)
    assert insns[0] == (LD_W_ABS, 0, 0, 4)  # A = seccomp_data.arch
    assert insns[1][0] == JEQ_K and insns[1][3] == 0xC000003E  # AUDIT_ARCH_X86_64
    assert target(insns, 1, taken=False) == (RET_K, 0, 0, 0x80000000)  # else SECCOMP_RET_KILL_PROCESS
    assert insns[2] == (LD_W_ABS, 0, 0, 0)  # A = seccomp_data.nr
    assert insns[3][0] == JSET_K and insns[3][3] == 0x40000000  # x32 ABI
    assert target(insns, 3, taken=True) == (RET_K, 0, 0, 0x00050000 | errno.EPERM)
    assert insns[-1][0] == RET_K
    for index, (code, jt, jf, _) in enumerate(insns):
        if code & 0x07 == 0x05:  # every jump lands inside the program
            assert index + 1 + max(jt, jf) < len(insns)
    compared = {k for code, _, _, k in insns if code == JEQ_K}
    numbers = seccomp.SYSCALLS["x86_64"]
    assert {numbers[name] for name in seccomp.DENIED_SYSCALLS} <= compared
    for name in seccomp.DENIED_SYSCALLS:
        jeq = next(i for i, insn in enumerate(insns) if insn[0] == JEQ_K and insn[3] == numbers[name] and i > 3)
        assert target(insns, jeq, taken=True) == (RET_K, 0, 0, 0x00050000 | errno.EPERM), name


def test_the_aarch64_filter_checks_its_own_arch_and_numbers_without_running():
    insns = decode(seccomp.build_filter(arch="aarch64"))
    assert insns[0] == (LD_W_ABS, 0, 0, 4)
    assert insns[1][0] == JEQ_K and insns[1][3] == 0xC00000B7  # AUDIT_ARCH_AARCH64
    assert target(insns, 1, taken=False) == (RET_K, 0, 0, 0x80000000)
    assert all(code != JSET_K or k != 0x40000000 for code, _, _, k in insns)  # no x32 on arm64
    compared = {k for code, _, _, k in insns if code == JEQ_K}
    assert {220, 435, 40, 97, 117} <= compared  # clone, clone3, mount, unshare, ptrace (asm-generic)
    assert 165 not in compared  # x86_64's mount number means nothing there


def test_an_unknown_architecture_is_refused_clearly():
    with pytest.raises(ValueError, match="riscv64.*supported: x86_64, aarch64"):
        seccomp.build_filter(arch="riscv64")


@pytest.mark.parametrize(
    ("arch", "header"),
    [("x86_64", "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"), ("aarch64", "/usr/include/asm-generic/unistd.h")],
)
def test_syscall_numbers_match_the_kernel_headers_when_installed(arch, header):
    path = Path(header)
    if not path.exists():
        pytest.skip(f"{header} is not installed")
    defined = {m[1]: int(m[2]) for m in re.finditer(r"#define __NR(?:3264)?_(\w+)\s+(\d+)\b", path.read_text())}
    checked = {name: number for name, number in seccomp.SYSCALLS[arch].items() if name in defined}
    assert len(checked) >= len(seccomp.SYSCALLS[arch]) - 2  # the headers may predate open_tree_attr
    assert checked == {name: defined[name] for name in checked}


def test_filter_fd_is_inheritable_at_offset_zero_and_holds_the_program():
    program = seccomp.build_filter()
    fd = seccomp.filter_fd(program)
    try:
        assert os.get_inheritable(fd)
        assert os.lseek(fd, 0, os.SEEK_CUR) == 0
        assert os.read(fd, len(program) + 8) == program
        with pytest.raises(PermissionError):  # sealed memfd: nobody rewrites the filter
            os.pwrite(fd, b"\0" * 8, 0)
    finally:
        os.close(fd)


@needs_bwrap
@needs_native_filter
def test_dangerous_syscalls_are_refused_and_would_not_be_without_the_filter():
    filtered = run_in_bwrap(PROBES, program=seccomp.build_filter())
    control = run_in_bwrap(PROBES, program=None)
    assert filtered.returncode == 0 and control.returncode == 0, filtered.stderr + control.stderr
    got, without = json.loads(filtered.stdout), json.loads(control.stdout)
    assert got == EXPECTED
    for name, value in EXPECTED.items():
        if name not in SAME_WITHOUT_FILTER:
            assert without[name] != value, f"{name}: the probe cannot tell the filter from the kernel"


ORDINARY_WORK = textwrap.dedent(
    """
    import mmap, os, socket, subprocess, threading
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 7
    done = []
    threads = [threading.Thread(target=done.append, args=(i,)) for i in range(4)]
    [t.start() for t in threads]; [t.join() for t in threads]
    assert sorted(done) == [0, 1, 2, 3]
    assert subprocess.run(["true"]).returncode == 0
    a, b = socket.socketpair(); a.sendall(b"ping"); assert b.recv(4) == b"ping"
    m = mmap.mmap(-1, 1 << 20); m[:4] = b"abcd"; assert m[:4] == b"abcd"
    import numpy
    assert float(numpy.arange(1000.0).sum()) == 499500.0
    print("ok")
    """
)


@needs_bwrap
@needs_native_filter
def test_ordinary_work_runs_under_the_filter():
    result = run_in_bwrap(ORDINARY_WORK, program=seccomp.build_filter())
    assert (result.returncode, result.stdout.strip()) == (0, "ok"), result.stderr


I386_GETPID = textwrap.dedent(
    """
    import ctypes, mmap
    code = b"\\xb8\\x14\\x00\\x00\\x00\\xcd\\x80\\xc3"  # mov eax, 20 (i386 getpid); int 0x80; ret
    page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    page.write(code)
    print("i386 entry answered", ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(page)))(), flush=True)
    """
)


@needs_bwrap
@pytest.mark.skipif(not ON_X86_64, reason="the i386 entry exists on x86_64 only")
def test_a_syscall_through_the_i386_entry_kills_the_process():
    control = run_in_bwrap(I386_GETPID, program=None)
    if "i386 entry answered" not in control.stdout:
        pytest.skip("this kernel has no IA32 emulation")
    result = run_in_bwrap(I386_GETPID, program=seccomp.build_filter())
    assert "answered" not in result.stdout
    assert result.returncode == 128 + signal.SIGSYS  # bwrap reports a child killed by signal N as 128+N


NESTED_BWRAP = textwrap.dedent(
    f"""
    import subprocess
    # --proc cannot be used one level down (the outer /proc has read-only overmounts); bind it.
    inner = subprocess.run(["{BWRAP}", "--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev", "--bind", "/proc", "/proc",
                            "--", "true"], capture_output=True, text=True)
    print(inner.returncode)
    """
)


@needs_bwrap
@needs_native_filter
def test_learner_code_cannot_start_a_sandbox_of_its_own():
    control = run_in_bwrap(NESTED_BWRAP, program=None, extra=())
    filtered = run_in_bwrap(NESTED_BWRAP, program=seccomp.build_filter(), extra=())
    assert control.stdout.split() == ["0"], control.stderr  # without the filter, bubblewrap would run
    assert filtered.stdout.split()[0] != "0"
