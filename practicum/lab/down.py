"""`practicum down`: stop a lab started by `practicum up`, from another terminal."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from .layout import StateLayout
from .processes import pid_alive, sweep_marked
from .state import read_state


def stop_lab(state_dir: Path, timeout: float = 60.0) -> str:
    """Ask the lab's supervisor to stop, wait for it, then end any straggler. Returns what happened."""
    layout = StateLayout(state_dir)
    state = read_state(layout.lab_file)
    if state is None:
        return f"no lab is running from {state_dir}"
    if pid_alive(state.supervisor_pid):
        os.kill(state.supervisor_pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid_alive(state.supervisor_pid) and time.monotonic() < deadline:
            time.sleep(0.2)
    leftovers = sweep_marked(state.lab_id)
    layout.lab_file.unlink(missing_ok=True)
    if leftovers:
        return f"lab stopped; ended {len(leftovers)} process(es) left behind"
    return "lab stopped"
