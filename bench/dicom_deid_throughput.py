"""Benchmark: DICOM de-identification throughput, ours against dicognito, on 1,000 CT files.

    .venv/bin/python bench/dicom_deid_throughput.py [--files 1000] [--workers 1 2]

The data: 1,000 slices of synthetic CT exports (256 x 256, real PHI-style headers,
sequences and private tags), built once into ``<work>/ct-bench`` and reused.

The peer: dicognito (https://github.com/blairconrad/dicognito) in its own virtual
environment, so nothing is installed into the project's. If ``--peer-venv`` (default
``/tmp/practicum-peer-venv``) does not exist the script creates it with
``python3 -m venv`` and runs ``pip install dicognito`` there. Both tools do the same work
per file: read it with pydicom, de-identify (ours: PS3.15 Basic Profile, every Table E.1-1
attribute, UID remapping, flags; dicognito: its default anonymization), write it out.
Both are timed inside their own process, excluding interpreter start-up.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from practicum.datasets.ct import BuildSize, build_ct_exports
from practicum.datasets.dicom_deid import DeidOptions, PhiManifest, deidentify_dicom_folder, verify_dicom_folder

BENCH_SIZE = BuildSize("bench", 6, 0.0, 1.0, ((256, 340.0, 360.0),), (2.5,), (210.0, 215.0), (84, 86))

PEER_DRIVER = r"""
import json, sys, time
from pathlib import Path
import pydicom
from dicognito.anonymizer import Anonymizer
src, dst = Path(sys.argv[1]), Path(sys.argv[2])
files = sorted(p for p in src.rglob("*") if p.is_file())
dst.mkdir(parents=True, exist_ok=True)
anon = Anonymizer(seed="practicum-bench")
t0 = time.perf_counter()
for i, f in enumerate(files):
    ds = pydicom.dcmread(f)
    anon.anonymize(ds)
    ds.save_as(dst / f"{i:05d}.dcm")
print(json.dumps({"files": len(files), "seconds": time.perf_counter() - t0}))
"""


def ensure_data(work: Path, n_files: int) -> tuple[Path, Path]:
    raw = work / "ct-bench" / "raw"
    if not raw.exists():
        print("building the synthetic CT set (once) ...", flush=True)
        build_ct_exports(work / "ct-bench", BENCH_SIZE, seed=7, progress=False, workers=min(2, os.cpu_count() or 1))
    src = work / f"in-{n_files}"
    if not src.exists() or sum(1 for _ in src.iterdir()) != n_files:
        shutil.rmtree(src, ignore_errors=True)
        src.mkdir(parents=True)
        files = sorted((raw / "dicom").rglob("*.dcm"))
        if len(files) < n_files:
            raise SystemExit(f"only {len(files)} files in the bench build")
        for i, f in enumerate(files[:n_files]):
            os.link(f, src / f"{i:05d}.dcm")
    return src, raw / "phi_manifest.json"


def ensure_peer(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating {venv} and installing dicognito there ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "dicognito"], check=True)
    return python


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--work", type=Path, default=Path("/tmp/practicum-bench"))
    ap.add_argument("--peer-venv", type=Path, default=Path("/tmp/practicum-peer-venv"))
    ap.add_argument("--no-verify", action="store_true")
    args = ap.parse_args(argv)

    src, manifest = ensure_data(args.work, args.files)
    size_mb = sum(p.stat().st_size for p in src.iterdir()) / 1e6
    print(f"{args.files} CT files, {size_mb:.0f} MB, {os.cpu_count()} CPU cores")
    rows = []
    for w in args.workers:
        out = args.work / f"out-ours-{w}"
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        report = deidentify_dicom_folder(src, out, secret=b"bench-secret-0123456789", options=DeidOptions(), progress=False, workers=w)
        seconds = time.perf_counter() - t0
        assert report.processed == args.files, report.skipped[:3]
        rows.append((f"practicum ({w} worker{'s' if w > 1 else ''})", args.files, seconds))
    python = ensure_peer(args.peer_venv)
    out = args.work / "out-dicognito"
    shutil.rmtree(out, ignore_errors=True)
    peer = subprocess.run([str(python), "-c", PEER_DRIVER, str(src), str(out)], capture_output=True, text=True, check=True)
    result = json.loads(peer.stdout.strip().splitlines()[-1])
    version = subprocess.run([str(python), "-c", "import dicognito; print(dicognito.__version__)"], capture_output=True, text=True).stdout.strip()
    rows.append((f"dicognito {version} (1 process)", result["files"], result["seconds"]))

    print(f"{'tool':34} {'files':>6} {'seconds':>8} {'files/s':>8}")
    for name, n, s in rows:
        print(f"{name:34} {n:6d} {s:8.2f} {n / s:8.1f}")
    ours1 = rows[0][1] / rows[0][2]
    theirs = rows[-1][1] / rows[-1][2]
    print(f"single-process speed ratio (practicum / dicognito): {ours1 / theirs:.2f}x -> goal 'faster than the peer': "
          f"{'met' if ours1 > theirs else 'NOT met'}")
    if not args.no_verify:
        v = verify_dicom_folder(args.work / f"out-ours-{args.workers[0]}", PhiManifest.load(manifest), progress=False)
        print(v.summary(limit=5))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
