"""The scans of the annotation practice, read from the public CT dataset.

The practice scans are the series of the CT dataset's ``practice`` split: patients drawn apart
from the projects' cohort, whose images are public and whose reference annotations the build
writes only to the grader's hidden folder (``hidden/ct/practice_annotations.csv``). A learner can
read the scans but never the answer, and no project is graded on them, so a practice score
tells nothing about the nodule project's hidden test split.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from practicum.datasets.ct import load_series, read_seriesuids, series_files

from .geometry import VolumeGeometry

PRACTICE_SPLIT = "practice"


@dataclass(frozen=True)
class Scan:
    seriesuid: str
    hu: NDArray[np.float32]  # (slice, row, column)
    geometry: VolumeGeometry


def practice_series(data_dir: str | Path) -> list[str]:
    """The uids of the practice scans (see the module docstring), sorted."""
    listed = Path(data_dir) / "ct" / PRACTICE_SPLIT / "seriesuids.csv"
    if not listed.is_file():
        raise FileNotFoundError(
            f"{listed} is missing: PRACTICUM_DATA_DIR must hold the ct dataset, built with its practice split "
            "(datasets built before it have none: run `practicum datasets build` again)"
        )
    return sorted(read_seriesuids(listed))


def load_scans(data_dir: str | Path, seriesuids: list[str] | None = None) -> dict[str, Scan]:
    """The named series of the practice split (default: :func:`practice_series`), in HU."""
    uids = practice_series(data_dir) if seriesuids is None else list(seriesuids)
    files = series_files(Path(data_dir) / "ct" / PRACTICE_SPLIT / "images")
    missing = [uid for uid in uids if uid not in files]
    if missing:
        raise FileNotFoundError(f"{len(missing)} practice series have no images, e.g. {missing[0]}")
    scans = {}
    for uid in uids:
        volume = load_series(files[uid])
        scans[uid] = Scan(uid, volume.hu, VolumeGeometry.of(volume))
    return scans
