"""Hand each local GPU sandbox its own device(s), and take them back when it stops."""

from __future__ import annotations

import threading
from collections.abc import Sequence


class NoFreeGPU(RuntimeError):
    """Every GPU of this machine is in use by another sandbox."""


class GPUPool:
    def __init__(self, devices: Sequence[str]):
        self._devices = list(devices)
        self._owner: dict[str, str] = {}
        self._lock = threading.Lock()

    @property
    def devices(self) -> list[str]:
        return list(self._devices)

    def held_by(self, owner: str) -> list[str]:
        with self._lock:
            return [d for d in self._devices if self._owner.get(d) == owner]

    def acquire(self, owner: str, count: int) -> list[str]:
        """Devices for ``owner`` (a server's name); the same ones again if it holds some."""
        with self._lock:
            held = [d for d in self._devices if self._owner.get(d) == owner]
            if len(held) >= count:
                return held[:count]
            free = [d for d in self._devices if d not in self._owner]
            missing = count - len(held)
            if len(free) < missing:
                raise NoFreeGPU(
                    f"all {len(self._devices)} GPU(s) are in use by other sandboxes; "
                    "try again later or start a CPU sandbox"
                )
            for device in free[:missing]:
                self._owner[device] = owner
            return held + free[:missing]

    def release(self, owner: str) -> None:
        with self._lock:
            for device in [d for d, o in self._owner.items() if o == owner]:
                del self._owner[device]
