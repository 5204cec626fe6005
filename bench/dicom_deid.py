"""Benchmark: DICOM de-identification recall on the canary suite and throughput, ours beside dicognito.

    .venv/bin/python bench/dicom_deid.py [--files 1000] [--workers 1 2]

Recall: the canary files of tests/datasets/dicom_deid (a unique value in every attribute of
PS3.15 2026d Table E.1-1, in nested sequences, private blocks, the file meta, the preamble and
unlisted attributes) go through both tools with their defaults; recall is the share of planted
values found nowhere in the output bytes. Throughput: the synthetic CT files and the peer's
own virtual environment of bench/dicom_deid_throughput.py (dicognito is never installed into
the project's environment). Figures are printed, nothing is asserted.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pydicom

from practicum.datasets.dicom_deid import DeidOptions, deidentify_dicom_folder
from practicum.datasets.dicom_deid.bytescan import NeedleIndex

HERE = Path(__file__).resolve().parent
CANARY_TESTS = HERE.parent / "tests" / "datasets" / "dicom_deid" / "test_dicom_deid_canary.py"


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    spec.loader.exec_module(module)
    return module


def recall(work: Path, peer_python: Path) -> list[tuple[str, int, int]]:
    canary = _load(CANARY_TESTS, "canary_suite")
    src = work / "canary-in"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    k = canary.Canaries()
    for i in range(2):
        pydicom.dcmwrite(src / f"f{i}.dcm", canary.canary_dataset(k, k.value_for("UI", 0x00080018)), enforce_file_format=True)
    index = NeedleIndex([(needle, needle) for needle, _ in k.planted])
    planted = len(k.planted)
    rows = []
    ours = work / "canary-ours"
    shutil.rmtree(ours, ignore_errors=True)
    deidentify_dicom_folder(src, ours, secret=b"bench-secret-0123456789", options=DeidOptions(), progress=False)
    theirs = work / "canary-dicognito"
    shutil.rmtree(theirs, ignore_errors=True)
    throughput = _load(HERE / "dicom_deid_throughput.py", "throughput_bench")
    subprocess.run([str(peer_python), "-c", throughput.PEER_DRIVER, str(src), str(theirs)], check=True, capture_output=True)
    for name, out in (("practicum", ours), ("dicognito", theirs)):
        survived = {label for f in out.rglob("*.dcm") for label, _ in index.find(f.read_bytes())}
        rows.append((name, planted, len(survived)))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "practicum-bench")
    ap.add_argument("--peer-venv", type=Path, default=Path(tempfile.gettempdir()) / "practicum-peer-venv")
    args = ap.parse_args(argv)
    throughput = _load(HERE / "dicom_deid_throughput.py", "throughput_bench")
    peer = throughput.ensure_peer(args.peer_venv)
    version = subprocess.run([str(peer), "-c", "import dicognito; print(dicognito.__version__)"], capture_output=True, text=True).stdout.strip()
    print(f"recall on the canary suite (values planted in every PS3.15 2026d Table E.1-1 attribute and beyond), dicognito {version}")
    print(f"{'tool':12} {'planted':>8} {'survived':>9} {'recall':>8}")
    for name, planted, survived in recall(args.work, peer):
        print(f"{name:12} {planted:8d} {survived:9d} {100 * (1 - survived / planted):7.2f}%")
    started = time.perf_counter()
    throughput.main(["--files", str(args.files), "--workers", *map(str, args.workers), "--work", str(args.work),
                     "--peer-venv", str(args.peer_venv), "--no-verify"])
    print(json.dumps({"seconds_total": round(time.perf_counter() - started, 1)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
