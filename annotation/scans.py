"""The scans of the annotation practice, read from the public CT dataset.

The practice scans are the first ``PRACTICE_SCANS`` series of the public *test* split in uid
order: their images are public, their reference annotations live only in the grader's hidden
folder (``hidden/ct/test_annotations.csv``), so a learner can read the scans but never the
answer. The rule uses the public series list only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from practicum.datasets.ct import load_series, read_seriesuids, series_files

from .geometry import VolumeGeometry

PRACTICE_SPLIT = "test"
PRACTICE_SCANS = 3


@dataclass(frozen=True)
class Scan:
    seriesuid: str
    hu: NDArray[np.float32]  # (slice, row, column)
    geometry: VolumeGeometry


def practice_series(data_dir: str | Path, count: int = PRACTICE_SCANS) -> list[str]:
    """The uids of the practice scans (see the module docstring)."""
    listed = Path(data_dir) / "ct" / PRACTICE_SPLIT / "seriesuids.csv"
    if not listed.is_file():
        raise FileNotFoundError(f"{listed} is missing: is PRACTICUM_DATA_DIR the folder that holds the ct dataset?")
    return sorted(read_seriesuids(listed))[:count]


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
