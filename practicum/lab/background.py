"""Run `practicum up` in a child process, as a user would, and wait until it is healthy.

For the tests, the benchmarks and scripts that need a lab of their own: free
ports, its own state folder.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from practicum.lab.courses import load_catalog
from practicum.lab.health import check_lab
from practicum.lab.layout import REPO_ROOT
from practicum.lab.secrets import load_or_create_secrets
from practicum.lab.settings import Ports
from practicum.lab.state import LabState, read_state

PRACTICUM = str(Path(sys.executable).parent / "practicum")


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def port_is_listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def free_base_port() -> int:
    """A free block of ports below Linux's ephemeral range (32768-60999), where a client's
    outgoing connection could take a port between our check and the server's bind."""
    courses = len(load_catalog(REPO_ROOT / "courses"))  # a formgrader each
    block = 10 + max(10, courses)
    for _ in range(200):
        base = random.randrange(20000, 32000 - block, block)
        if all(port_is_free(p) for p in Ports.from_base(base).named(course_count=courses).values()):
            return base
    raise RuntimeError("no free block of ports")


@dataclass
class BackgroundLab:
    base_port: int
    state_dir: Path
    datasets_dir: Path
    process: subprocess.Popen[str]
    state: LabState
    token: str

    @property
    def ports(self) -> list[int]:
        return list(Ports.from_base(self.base_port).named(course_count=1).values())

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PRACTICUM, *args, "--state-dir", str(self.state_dir)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def down(self) -> None:
        if self.process.poll() is None:
            self.cli("down")
            self.process.wait(timeout=60)


def start_background_lab(
    state_dir: Path, datasets_dir: Path, timeout: float = 150, env: Mapping[str, str] | None = None
) -> BackgroundLab:
    """``practicum up`` in the background; ``env`` adds to this process's environment (PRACTICUM_* settings)."""
    base = free_base_port()
    process = subprocess.Popen(
        [PRACTICUM, "up", "--port", str(base), "--state-dir", str(state_dir), "--datasets", str(datasets_dir)],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    secrets_file = state_dir / "secrets.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"practicum up exited {process.returncode}: {process.stdout.read()}")
        state = read_state(state_dir / "lab.json")
        if state is not None:
            token = load_or_create_secrets(secrets_file).lab_api_token
            if all(h.healthy for h in check_lab(state, token)):
                return BackgroundLab(base, state_dir, datasets_dir, process, state, token)
        time.sleep(0.25)
    process.terminate()
    raise RuntimeError(f"the lab was not healthy within {timeout} s")
