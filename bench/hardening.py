"""Figures for the issue "Grades that hold against hostile learners", printed as tables.

1. Attacks tried and contained: the adversarial suite (tests/attacks/) run once, one row per attack
   with its outcome and time.
2. The cost of the hardening, before and after side by side in one run, on this machine:
   - `practicum grade glucose_cgm_forecasting REFERENCE` (wall time, and the prediction time the
     grader reports), with the code of a commit before the hardening (a git worktree) and this
     checkout, alternating, ``--grades`` times each;
   - sandbox spawn time, p50 / p95 over ``--spawns`` spawns, in a lab started from each version.

The "before" code runs from a detached worktree of ``--before`` (default: the last commit before
the hardening) in a copy of this checkout's virtual environment whose editable install points at
that worktree (the sandboxes clear PYTHONPATH, so the copy is what makes them import its code).

Run: .venv/bin/python bench/hardening.py [--build .lab/datasets] [--before 36051ab] [--grades 3] [--spawns 5]
     [--skip-attacks] [--skip-spawns]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from figures import percentile

REPO = Path(__file__).resolve().parents[1]
BEFORE_HARDENING = "36051ab"
PROJECT = "glucose_cgm_forecasting"



def before_python(commit: str, into: Path) -> str:
    """A Python whose `practicum` is ``commit``'s: a worktree and a venv copy installed from it."""
    code, venv = into / "code", into / "venv"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(code), commit], check=True)
    shutil.copytree(Path(sys.prefix), venv, symlinks=True)
    _point_scripts_at(venv)
    python = str(venv / "bin" / "python")
    # The copy still holds this checkout's editable install: replace it, not add a second one.
    subprocess.run([python, "-m", "pip", "uninstall", "-q", "-y", "practicum"], check=True, capture_output=True)
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "-e", str(code)], check=True,
                   capture_output=True)
    return python


def _point_scripts_at(venv: Path) -> None:
    """The copied scripts (jupyterhub, nbgrader, ...) still start this venv's Python: make them start the copy's."""
    old, new = f"#!{sys.prefix}/bin/".encode(), f"#!{venv}/bin/".encode()
    for script in (venv / "bin").iterdir():
        if script.is_file() and not script.is_symlink():
            data = script.read_bytes()
            if data.startswith(old):
                script.write_bytes(new + data[len(old):])


def code_env() -> dict[str, str]:
    env = dict(os.environ, PRACTICUM_PROXY=str(REPO / "node_modules" / ".bin" / "configurable-http-proxy"))
    env.pop("PRACTICUM_STATE_DIR", None)
    return env


def attack_table() -> list[tuple[str, str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "attacks.xml"
        subprocess.run([sys.executable, "-m", "pytest", str(REPO / "tests" / "attacks"), "-q", "-p", "no:cacheprovider", f"--junitxml={report}"],
                       cwd=REPO, capture_output=True, text=True)
        rows = []
        for case in ElementTree.parse(report).getroot().iter("testcase"):
            failed = case.find("failure") is not None or case.find("error") is not None
            skipped = case.find("skipped") is not None
            outcome = "NOT CONTAINED" if failed else "skipped" if skipped else "contained"
            rows.append((f"{Path(case.get('classname', '').replace('.', '/')).name}::{case.get('name')}", outcome, float(case.get("time", 0))))
        return rows


def grade_once(python: str, model: Path, build: Path) -> tuple[float, float, bool]:
    started = time.monotonic()
    done = subprocess.run(
        [python, "-c", "import sys; from practicum.cli import main; sys.exit(main())", "grade", PROJECT, str(model),
         "--datasets", str(build), "--json"],
        env=code_env(), capture_output=True, text=True, cwd=tempfile.gettempdir(),
    )
    wall = time.monotonic() - started
    try:
        payload = json.loads(done.stdout)
    except json.JSONDecodeError:
        payload = {}
    if payload.get("prediction_seconds") is None:
        raise SystemExit(f"practicum grade ({python}) did not grade: {payload.get('error') or done.stderr[-2000:]}")
    return wall, payload["prediction_seconds"], bool(payload.get("passed"))


SPAWNS = """
import json, sys, tempfile
from pathlib import Path
from practicum.hub_client import HubClient
from practicum.lab.background import start_background_lab
root = Path(tempfile.mkdtemp())
(root / "datasets").mkdir()
lab = start_background_lab(root / "state", root / "datasets")
seconds = []
try:
    with HubClient(lab.state.hub_api_url, lab.state.public_url, lab.token) as hub:
        for i in range(int(sys.argv[1])):
            hub.ensure_user(f"bench{i}")
            seconds.append(hub.start_server(f"bench{i}"))
            hub.stop_server(f"bench{i}")
finally:
    lab.down()
print(json.dumps(seconds))
"""


def spawn_times(python: str, spawns: int) -> list[float]:
    done = subprocess.run([python, "-c", SPAWNS, str(spawns)], env=code_env(), capture_output=True, text=True,
                          cwd=tempfile.gettempdir(), timeout=900)
    if done.returncode:
        raise SystemExit(f"the spawn measurement failed ({python}):\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def reference_model(build: Path, into: Path) -> Path:
    model = into / "glucose-reference"
    practicum = str(Path(sys.executable).parent / "practicum")
    done = subprocess.run([practicum, "reference", PROJECT, "--out", str(model), "--datasets", str(build)], capture_output=True, text=True, cwd=REPO)
    if done.returncode:
        raise SystemExit(f"training the reference failed:\n{done.stderr[-2000:]}")
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", type=Path, default=REPO / ".lab" / "datasets", help="dataset build with public/ and hidden/")
    parser.add_argument("--model", type=Path, help="the glucose reference as an MLflow model (default: trained here, in the sandbox)")
    parser.add_argument("--before", default=BEFORE_HARDENING, help="commit whose code is the 'before' (default %(default)s)")
    parser.add_argument("--grades", type=int, default=3, help="gradings per version (default 3)")
    parser.add_argument("--spawns", type=int, default=5, help="sandbox spawns per version (default 5)")
    parser.add_argument("--skip-attacks", action="store_true")
    parser.add_argument("--skip-spawns", action="store_true")
    args = parser.parse_args()
    args.build = args.build.resolve()  # the grades run from another working folder
    if not (args.build / "hidden").is_dir():
        parser.error(f"{args.build} is not a dataset build (practicum datasets build --out {args.build})")

    if not args.skip_attacks:
        rows = attack_table()
        print(f"{'attack (tests/attacks)':<78} {'outcome':<14} {'seconds':>7}")
        for name, outcome, seconds in rows:
            print(f"{name:<78} {outcome:<14} {seconds:>7.1f}")
        print(f"{len(rows)} attacks, {sum(o == 'contained' for _, o, _ in rows)} contained\n")

    with tempfile.TemporaryDirectory() as tmp:
        pythons = {"before": before_python(args.before, Path(tmp) / "before"), "after": sys.executable}
        try:
            model = args.model or reference_model(args.build, Path(tmp))
            timings: dict[str, list[tuple[float, float, bool]]] = {"before": [], "after": []}
            for _ in range(args.grades):  # alternating, so that a busier minute weighs on both
                for version, python in pythons.items():
                    timings[version].append(grade_once(python, model, args.build))
            spawns = {} if args.skip_spawns else {v: spawn_times(python, args.spawns) for v, python in pythons.items()}
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(Path(tmp) / "before" / "code")], capture_output=True)

    print(f"{'figure (2 cores)':<52} {'before ' + args.before:>16} {'after':>10}")
    for label, index in (("practicum grade glucose reference, wall (median)", 0), ("  of which predictions in the sandbox (median)", 1)):
        values = {k: statistics.median(v[index] for v in runs) for k, runs in timings.items()}
        print(f"{label:<52} {values['before']:>14.1f} s {values['after']:>8.1f} s")
    print(f"{'  passed every target':<52} {str(all(r[2] for r in timings['before'])):>16} {str(all(r[2] for r in timings['after'])):>10}")
    if spawns:
        for label, q in (("sandbox spawn p50", 0.5), ("sandbox spawn p95", 0.95)):
            print(f"{label + f' ({args.spawns} spawns)':<52} {percentile(spawns['before'], q):>14.2f} s {percentile(spawns['after'], q):>8.2f} s")


if __name__ == "__main__":
    main()
