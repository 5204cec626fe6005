"""Benchmark: vectorised LUNA16 FROC bootstrap against a plain per-candidate Python loop.

    .venv/bin/python bench/froc_bootstrap.py [--scans 100] [--candidates 100] [--bootstrap 1000]

Both run on the same random evaluation (100 scans x about 100 candidates by default) and
the same 1,000 bootstrap draws; the script prints both times, the speed-up (goal: at
least 50x) and whether every per-sample CPM agrees.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from froc_reference import bootstrap_loop, froc_loop, random_case  # noqa: E402

from practicum.graders.metrics.froc import (  # noqa: E402
    CandidateSet,
    FindingSet,
    bootstrap_scan_indices,
    froc,
    froc_bootstrap,
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scans", type=int, default=100)
    ap.add_argument("--candidates", type=int, default=100)
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    cands, nods, excl = random_case(args.seed, args.scans, args.candidates)
    c = np.asarray(cands, dtype=float)
    n = np.asarray(nods, dtype=float).reshape(-1, 5)
    e = np.asarray(excl, dtype=float).reshape(-1, 5)
    C = CandidateSet.from_arrays(c[:, 0], c[:, 1:4], c[:, 4])
    N = FindingSet.from_arrays(n[:, 0], n[:, 1:4], n[:, 4])
    E = FindingSet.from_arrays(e[:, 0], e[:, 1:4], e[:, 4])
    indices = bootstrap_scan_indices(args.scans, args.bootstrap, args.seed)
    print(f"{args.scans} scans, {len(cands)} candidates, {len(nods)} nodules, {len(excl)} excluded, "
          f"{args.bootstrap} bootstrap samples")

    t0 = time.perf_counter()
    point = froc(C, N, args.scans, excluded=E)
    boot = froc_bootstrap(C, N, args.scans, excluded=E, indices=indices)
    t_vec = time.perf_counter() - t0

    t0 = time.perf_counter()
    _, cpm_loop = froc_loop(cands, nods, excl, args.scans)
    samples_loop = bootstrap_loop(cands, nods, excl, args.scans, indices)
    t_loop = time.perf_counter() - t0

    ours = np.asarray(boot.samples_cpm)
    theirs = np.asarray(samples_loop)
    same = bool(np.allclose(ours, theirs, rtol=0, atol=1e-9, equal_nan=True)) and abs(point.cpm - cpm_loop) < 1e-9
    speedup = t_loop / t_vec
    print(f"CPM              vectorised {point.cpm:.6f}   loop {cpm_loop:.6f}")
    print(f"bootstrap CPM    mean {boot.cpm_mean:.4f}  95% CI [{boot.cpm_lower:.4f}, {boot.cpm_upper:.4f}]")
    print(f"time             vectorised {t_vec:.3f} s   loop {t_loop:.3f} s")
    print(f"speed-up         {speedup:.0f}x (goal >= 50x): {'met' if speedup >= 50 else 'NOT met'}")
    print(f"numbers match    {same} (max |diff| of per-sample CPM {np.nanmax(np.abs(ours - theirs)):.2e})")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
