"""A seccomp filter for bubblewrap's ``--seccomp FD``: a raw classic-BPF program, assembled here.

What the program enforces (``build_filter``):

- ``seccomp_data.arch`` must be the expected native ABI, else the process is killed
  (SECCOMP_RET_KILL_PROCESS): a 64-bit process cannot slip past the table through the i386
  ``int 0x80`` entry. On x86_64 the x32 ABI (syscall number bit 0x40000000) gets EPERM.
- Every syscall in ``DENIED_SYSCALLS`` that the architecture has gets EPERM.
- ``clone`` gets EPERM when its flags (the low 32 bits of args[0], all the kernel reads) ask for
  a new namespace; plain fork and thread creation pass.
- ``clone3`` gets ENOSYS: its flags live in memory, which seccomp cannot read; glibc then falls
  back to ``clone``, which is checked as above.
- ``ioctl`` with TIOCSTI (push input into a terminal) or TIOCLINUX gets EPERM.
- ``personality`` passes only PER_LINUX (0) and the query 0xffffffff; other personas (e.g.
  ADDR_NO_RANDOMIZE, which turns off ASLR for children) get EPERM.
- ``socket`` gets EAFNOSUPPORT for AF_VSOCK: vsock is not network-namespaced, so an empty network
  namespace does not cover it, and in a virtual machine it reaches the hypervisor's side.
- Everything else is allowed: this filter narrows the kernel's attack surface below what a
  capability-less uid in its own namespaces can already not do; it is not the only wall.

Constants are facts from the kernel's UAPI headers: linux/filter.h and linux/bpf_common.h (BPF
opcodes), linux/seccomp.h (return actions, struct seccomp_data), linux/audit.h and
linux/elf-em.h (AUDIT_ARCH_*), linux/sched.h (CLONE_NEW*), asm-generic/ioctls.h (TIOCSTI,
TIOCLINUX), linux/socket.h (AF_VSOCK), asm/unistd_64.h for x86_64 and asm-generic/unistd.h for
aarch64 (syscall numbers).
"""

from __future__ import annotations

import errno
import fcntl
import os
import platform
import struct
import tempfile

# BPF opcodes (linux/filter.h, linux/bpf_common.h).
_LD_W_ABS = 0x00 | 0x00 | 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ_K = 0x05 | 0x10 | 0x00  # BPF_JMP | BPF_JEQ | BPF_K
_JSET_K = 0x05 | 0x40 | 0x00  # BPF_JMP | BPF_JSET | BPF_K
_RET_K = 0x06 | 0x00  # BPF_RET | BPF_K

# Return actions (linux/seccomp.h).
_RET_KILL_PROCESS = 0x80000000
_RET_ERRNO = 0x00050000
_RET_ALLOW = 0x7FFF0000

# struct seccomp_data {int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6];}
_OFF_NR = 0
_OFF_ARCH = 4


def _off_arg_low(index: int) -> int:
    # Both supported ABIs are little-endian: the low 32 bits of args[i] come first.
    return 16 + 8 * index


_X32_SYSCALL_BIT = 0x40000000  # arch/x86/include/uapi/asm/unistd.h

CLONE_NAMESPACE_FLAGS = (
    0x00020000  # CLONE_NEWNS
    | 0x02000000  # CLONE_NEWCGROUP
    | 0x04000000  # CLONE_NEWUTS
    | 0x08000000  # CLONE_NEWIPC
    | 0x10000000  # CLONE_NEWUSER
    | 0x20000000  # CLONE_NEWPID
    | 0x40000000  # CLONE_NEWNET
    | 0x00000080  # CLONE_NEWTIME
)
_TIOCSTI = 0x5412
_TIOCLINUX = 0x541C
_PER_LINUX = 0x0
_PER_QUERY = 0xFFFFFFFF
_AF_VSOCK = 40

AUDIT_ARCH = {
    "x86_64": 0xC000003E,  # EM_X86_64 (62) | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE
    "aarch64": 0xC00000B7,  # EM_AARCH64 (183) | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE
}

# The numbers this filter names; syscalls an architecture lacks (iopl, ioperm on aarch64) are absent.
SYSCALLS: dict[str, dict[str, int]] = {
    "x86_64": {
        "ioctl": 16, "clone": 56, "ptrace": 101, "syslog": 103, "personality": 135, "vhangup": 153,
        "pivot_root": 155, "adjtimex": 159, "chroot": 161, "acct": 163, "settimeofday": 164,
        "mount": 165, "umount2": 166, "swapon": 167, "swapoff": 168, "reboot": 169, "iopl": 172,
        "ioperm": 173, "init_module": 175, "delete_module": 176, "quotactl": 179,
        "lookup_dcookie": 212, "clock_settime": 227, "kexec_load": 246, "add_key": 248,
        "request_key": 249, "keyctl": 250, "unshare": 272, "perf_event_open": 298,
        "name_to_handle_at": 303, "open_by_handle_at": 304, "clock_adjtime": 305, "setns": 308,
        "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312, "finit_module": 313,
        "kexec_file_load": 320, "bpf": 321, "userfaultfd": 323, "io_uring_setup": 425,
        "io_uring_enter": 426, "io_uring_register": 427, "open_tree": 428, "move_mount": 429,
        "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "clone3": 435,
        "pidfd_getfd": 438, "mount_setattr": 442, "quotactl_fd": 443, "open_tree_attr": 467,
        "socket": 41,
    },
    "aarch64": {
        "lookup_dcookie": 18, "ioctl": 29, "umount2": 39, "mount": 40, "pivot_root": 41,
        "chroot": 51, "vhangup": 58, "quotactl": 60, "acct": 89, "personality": 92, "unshare": 97,
        "kexec_load": 104, "init_module": 105, "delete_module": 106, "clock_settime": 112,
        "syslog": 116, "ptrace": 117, "reboot": 142, "settimeofday": 170, "adjtimex": 171,
        "add_key": 217, "request_key": 218, "keyctl": 219, "clone": 220, "swapon": 224,
        "swapoff": 225, "perf_event_open": 241, "name_to_handle_at": 264, "open_by_handle_at": 265,
        "clock_adjtime": 266, "setns": 268, "process_vm_readv": 270, "process_vm_writev": 271,
        "kcmp": 272, "finit_module": 273, "bpf": 280, "userfaultfd": 282, "kexec_file_load": 294,
        "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "open_tree": 428,
        "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
        "clone3": 435, "pidfd_getfd": 438, "mount_setattr": 442, "quotactl_fd": 443,
        "open_tree_attr": 467, "socket": 198,
    },
}

# Always EPERM (where the architecture has them). clone, clone3, ioctl, personality and socket are
# filtered by argument or errno instead, see the module docstring.
DENIED_SYSCALLS: tuple[str, ...] = (
    # mounts and namespaces
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "move_mount", "open_tree",
    "open_tree_attr", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    # reading or steering other processes
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
    # kernel keyrings, eBPF, perf, userfaultfd, io_uring: large attack surface, no use here
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    # the machine itself
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "open_by_handle_at", "name_to_handle_at", "swapon", "swapoff", "reboot", "acct", "quotactl",
    "quotactl_fd", "iopl", "ioperm", "syslog", "lookup_dcookie", "vhangup", "settimeofday",
    "clock_settime", "clock_adjtime", "adjtimex",
)

_Insn = tuple[int, int | str, int | str, int]  # (code, jt, jf, k); jt/jf: 0 or a label


class _Program:
    """Straight-line classic BPF with forward jumps to named labels."""

    def __init__(self) -> None:
        self.insns: list[_Insn] = []
        self.labels: dict[str, int] = {}

    def load(self, offset: int) -> None:
        self.insns.append((_LD_W_ABS, 0, 0, offset))

    def jump(self, code: int, k: int, jt: int | str, jf: int | str = 0) -> None:
        self.insns.append((code, jt, jf, k))

    def ret(self, action: int) -> None:
        self.insns.append((_RET_K, 0, 0, action))

    def label(self, name: str) -> None:
        self.labels[name] = len(self.insns)

    def assemble(self) -> bytes:
        out = bytearray()
        for index, (code, jt, jf, k) in enumerate(self.insns):
            out += struct.pack("<HBBI", code, self._skip(index, jt), self._skip(index, jf), k)
        return bytes(out)

    def _skip(self, index: int, target: int | str) -> int:
        if isinstance(target, int):
            return target
        skip = self.labels[target] - index - 1
        if not 0 <= skip <= 255:
            raise ValueError(f"BPF jump to {target!r} out of range ({skip})")
        return skip


def build_filter(*, arch: str | None = None) -> bytes:
    """The filter for ``arch`` (default: this machine) as bytes of struct sock_filter."""
    arch = arch or platform.machine()
    if arch not in SYSCALLS:
        raise ValueError(f"no seccomp filter for architecture {arch!r}; supported: {', '.join(SYSCALLS)}")
    numbers = SYSCALLS[arch]
    denied = [name for name in DENIED_SYSCALLS if name in numbers]

    p = _Program()
    p.load(_OFF_ARCH)
    p.jump(_JEQ_K, AUDIT_ARCH[arch], 0, "kill")
    p.load(_OFF_NR)
    if arch == "x86_64":
        p.jump(_JSET_K, _X32_SYSCALL_BIT, "eperm")
    p.jump(_JEQ_K, numbers["clone"], "clone")
    p.jump(_JEQ_K, numbers["clone3"], "enosys")
    p.jump(_JEQ_K, numbers["ioctl"], "ioctl")
    p.jump(_JEQ_K, numbers["personality"], "personality")
    p.jump(_JEQ_K, numbers["socket"], "socket")
    for name in denied:
        p.jump(_JEQ_K, numbers[name], "eperm")
    p.ret(_RET_ALLOW)

    p.label("clone")
    p.load(_off_arg_low(0))
    p.jump(_JSET_K, CLONE_NAMESPACE_FLAGS, "eperm", "allow")
    # ioctl's request is an unsigned int in the kernel: comparing the low word is exact, and a
    # caller cannot dodge it with high bits.
    p.label("ioctl")
    p.load(_off_arg_low(1))
    p.jump(_JEQ_K, _TIOCSTI, "eperm")
    p.jump(_JEQ_K, _TIOCLINUX, "eperm", "allow")
    p.label("personality")
    p.load(_off_arg_low(0))
    p.jump(_JEQ_K, _PER_LINUX, "allow")
    p.jump(_JEQ_K, _PER_QUERY, "allow", "eperm")
    p.label("socket")
    p.load(_off_arg_low(0))
    p.jump(_JEQ_K, _AF_VSOCK, "eafnosupport", "allow")

    p.label("allow")
    p.ret(_RET_ALLOW)
    p.label("eperm")
    p.ret(_RET_ERRNO | errno.EPERM)
    p.label("enosys")
    p.ret(_RET_ERRNO | errno.ENOSYS)
    p.label("eafnosupport")
    p.ret(_RET_ERRNO | errno.EAFNOSUPPORT)
    p.label("kill")
    p.ret(_RET_KILL_PROCESS)
    return p.assemble()


def filter_fd(program: bytes) -> int:
    """An inheritable fd at offset 0 holding ``program``, for bwrap's ``--seccomp FD`` (pass_fds).

    bwrap reads it to EOF, so use one fd per launch and close it in the parent afterwards. A
    memfd is sealed against changes; without memfd_create an unlinked temporary file is used.
    """
    try:
        fd = os.memfd_create("practicum-seccomp", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        sealable = True
    except (AttributeError, OSError):
        fd, path = tempfile.mkstemp(prefix="practicum-seccomp-")
        os.unlink(path)
        sealable = False
    try:
        view = memoryview(program)
        while view:
            view = view[os.write(fd, view) :]
        if sealable:
            fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_WRITE | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_SEAL)
        os.lseek(fd, 0, os.SEEK_SET)
        os.set_inheritable(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd
