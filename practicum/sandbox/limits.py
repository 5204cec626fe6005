"""What one sandbox may use, as a whole (not per process): memory, processes, CPU, time, output."""

from __future__ import annotations

from dataclasses import dataclass

_UNITS = {"k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
MIB = 1024**2


def parse_memory(text: str) -> int:
    """'4G', '512Mi', '2GiB' -> bytes (binary units)."""
    cleaned = text.strip().lower().removesuffix("b").removesuffix("i")
    if cleaned and cleaned[-1] in _UNITS:
        return int(float(cleaned[:-1]) * _UNITS[cleaned[-1]])
    return int(float(cleaned))


def describe_bytes(size: int) -> str:
    for unit, factor in (("GiB", 1024**3), ("MiB", MIB), ("KiB", 1024)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size} bytes"


@dataclass(frozen=True)
class Limits:
    """Whole-sandbox limits.

    ``memory_bytes`` covers every process of the sandbox together with the tmpfs and shared
    memory pages they write (a memory cgroup charges those to the sandbox); ``tmp_bytes`` sizes
    each writable tmpfs (/tmp, /dev/shm, work folders), so a disk-fill attack fills RAM the
    sandbox is charged for, never the host's disk. ``wall_seconds`` is for runs that end (None:
    a server, stopped by its owner). ``result_bytes`` and ``log_bytes`` cap what the grader keeps
    of the sandbox's result channel (stdout) and its log (stderr).
    """

    memory_bytes: int
    cpus: float
    pids: int = 512
    wall_seconds: float | None = None
    tmp_bytes: int = 1024 * MIB
    result_bytes: int = 256 * MIB
    log_bytes: int = 64 * 1024

    def __post_init__(self) -> None:
        if self.memory_bytes <= 0 or self.cpus <= 0 or self.pids <= 0:
            raise ValueError(f"sandbox limits must be positive: {self}")

    @property
    def threads(self) -> int:
        """How many threads numerical libraries should start (OMP_NUM_THREADS and friends)."""
        return max(1, int(self.cpus))
