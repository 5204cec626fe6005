"""Benchmark: build time and size of the synthetic CT exports (``small`` and ``full``).

    .venv/bin/python bench/ct_build.py [--sizes small full] [--workers 2] [--out /tmp/practicum-bench]

Each size is built from scratch into ``<out>/ct-<size>`` (replacing an earlier bench
build there). Prints series, files, bytes, seconds and MB/s per size, plus the
annotation counts.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

from practicum.datasets.ct import build_ct_exports


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=["small", "full"])
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("/tmp/practicum-bench"))
    ap.add_argument("--keep", action="store_true", help="keep the builds (default: delete after measuring)")
    args = ap.parse_args(argv)
    print(f"CPU cores: {os.cpu_count()}, workers: {args.workers}")
    print(f"{'size':6} {'patients':>8} {'series':>6} {'files':>6} {'nodules':>7} {'excluded':>8} {'GB':>6} {'seconds':>8} {'MB/s':>6}")
    for size in args.sizes:
        out = args.out / f"ct-{size}"
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        r = build_ct_exports(out, size, seed=args.seed, progress=False, workers=args.workers)
        seconds = time.perf_counter() - t0
        print(
            f"{size:6} {r.n_patients:8d} {r.n_series:6d} {r.n_files:6d} {r.n_nodules:7d} {r.n_excluded:8d} "
            f"{r.bytes_written / 1e9:6.2f} {seconds:8.1f} {r.bytes_written / 1e6 / seconds:6.1f}",
            flush=True,
        )
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
