"""Figures for the foundation issue, printed as a table.

- time from `practicum up` to every service healthy (goal: <= 20 s on 2 cores);
- sandbox spawn time over N spawns, p50 and p95 (goal: p50 <= 4 s);
- size of .venv/ (the install time is measured by `bench/fresh_install.sh`).

Run: .venv/bin/python bench/lab_startup.py [--spawns 10]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from figures import percentile

from practicum.hub_client import HubClient
from practicum.lab.background import start_background_lab

REPO = Path(__file__).resolve().parents[1]



def folder_size_mb(path: Path) -> float:
    out = subprocess.run(["du", "-sm", str(path)], capture_output=True, text=True).stdout
    return float(out.split()[0]) if out else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spawns", type=int, default=10)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "datasets").mkdir()
        started = time.monotonic()
        lab = start_background_lab(root / "state", root / "datasets")
        up_seconds = time.monotonic() - started
        spawns: list[float] = []
        try:
            with HubClient(lab.state.hub_api_url, lab.state.public_url, lab.token) as hub:
                for i in range(args.spawns):
                    user = f"bench{i}"
                    hub.ensure_user(user)
                    spawns.append(hub.start_server(user))
                    hub.stop_server(user)
        finally:
            lab.down()

    print(f"{'figure':<44} {'value':>10}  goal")
    print(f"{'practicum up -> all services healthy':<44} {up_seconds:>8.1f} s  <= 20 s")
    print(f"{'sandbox spawn p50 (' + str(len(spawns)) + ' spawns)':<44} {statistics.median(spawns):>8.2f} s  <= 4 s")
    print(f"{'sandbox spawn p95':<44} {percentile(spawns, 0.95):>8.2f} s")
    print(f"{'.venv/ size':<44} {folder_size_mb(REPO / '.venv'):>7.0f} MB")


if __name__ == "__main__":
    main()
