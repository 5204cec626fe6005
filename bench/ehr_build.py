"""Figures for the EHR/CGM datasets: build, de-identification and verification time and size.

For each size (small, full): wall time of ``build_ehr_exports``, bytes and rows written,
the calibration figures the build reports (persistence RMSE at 30 min on the CGM, outcome
prevalence), then ``deidentify_ehr_folder`` and ``verify_ehr_folder`` times on the result.

Run: .venv/bin/python bench/ehr_build.py [--sizes small full] [--seed 0] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from practicum.datasets.ehr import build_ehr_exports
from practicum.datasets.ehr_deid import deidentify_ehr_folder, verify_ehr_folder


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["small", "full"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=None, help="build here instead of a temporary folder")
    args = parser.parse_args()

    print(f"cpus available: {len(os.sched_getaffinity(0))}")
    print(f"{'size':<6} {'patients':>8} {'cgm pts':>7} {'build s':>8} {'MB':>7} {'cgm rows':>9} "
          f"{'RMSE30':>7} {'retino':>7} {'nephro':>7} {'deid s':>7} {'verify s':>8} {'passed':>6}")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = (args.keep / size) if args.keep else Path(tmp)
            started = time.monotonic()
            report = build_ehr_exports(root, size=size, seed=args.seed, progress=False)
            build_s = time.monotonic() - started
            mb = folder_bytes(root / "raw") / 1e6
            started = time.monotonic()
            deidentify_ehr_folder(root / "raw" / "ehr", root / "deid" / "ehr", secret=b"bench-secret-0123456789",
                                  progress=False)
            deid_s = time.monotonic() - started
            started = time.monotonic()
            verdict = verify_ehr_folder(root / "deid" / "ehr", root / "raw" / "ehr_phi_manifest.json")
            verify_s = time.monotonic() - started
            print(f"{size:<6} {report.n_patients:>8} {report.n_cgm_patients:>7} {build_s:>8.1f} {mb:>7.1f} "
                  f"{report.rows['cgm.csv']:>9} {report.persistence_rmse_30min:>7.2f} "
                  f"{report.retinopathy_5y_prevalence:>7.3f} {report.nephropathy_5y_prevalence:>7.3f} "
                  f"{deid_s:>7.1f} {verify_s:>8.1f} {str(verdict.passed):>6}")


if __name__ == "__main__":
    main()
