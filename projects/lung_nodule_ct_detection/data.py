"""The `ct` dataset as the project uses it: series folders, annotations, volumes.

A split folder (``<public>/ct/<split>/``) holds ``images/<study>/<series>/<sop>.dcm``,
``seriesuids.csv`` (one uid a line) and, for train and val, ``annotations.csv`` and
``annotations_excluded.csv`` (``seriesuid,coordX,coordY,coordZ,diameter_mm``, world mm).
The grader gives a model the same kind of table that :func:`series_table` returns.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from practicum.datasets.ct import CTVolume, load_series, read_seriesuids, series_files

DATASET = "ct"
ANNOTATION_COLUMNS = ["seriesuid", "coordX", "coordY", "coordZ", "diameter_mm"]
OUTPUT_COLUMNS = ["seriesuid", "coordX", "coordY", "coordZ", "probability"]


def split_dir(public_dir: Path, split: str) -> Path:
    return Path(public_dir) / DATASET / split


def series_table(public_dir: Path, split: str) -> pd.DataFrame:
    """``seriesuid, series_dir`` for every series of a split, in ``seriesuids.csv`` order."""
    folder = split_dir(public_dir, split)
    uids = read_seriesuids(folder / "seriesuids.csv")
    found = {uid: files[0].parent for uid, files in series_files(folder / "images").items()}
    missing = [uid for uid in uids if uid not in found]
    if missing:
        raise ValueError(f"{len(missing)} series of {folder} have no images, e.g. {missing[0]}")
    return pd.DataFrame({"seriesuid": uids, "series_dir": [str(found[uid]) for uid in uids]})


def read_annotations(public_dir: Path, split: str, *, excluded: bool = False) -> pd.DataFrame:
    """The nodules (or, with ``excluded``, the ignored findings) of a public split."""
    name = "annotations_excluded.csv" if excluded else "annotations.csv"
    table = pd.read_csv(split_dir(public_dir, split) / name, dtype={"seriesuid": str})
    return table[ANNOTATION_COLUMNS]


def load_volume(series_dir: str | Path, seriesuid: str | None = None) -> CTVolume:
    """The series in ``series_dir`` (the one named ``seriesuid`` if the folder holds several)."""
    groups = series_files(Path(series_dir))
    if not groups:
        raise ValueError(f"no DICOM series in {series_dir}")
    if seriesuid is not None and seriesuid in groups:
        return load_series(groups[seriesuid])
    if len(groups) > 1:
        raise ValueError(f"{series_dir} holds {len(groups)} series; name the one to load")
    return load_series(next(iter(groups.values())))


def world_to_voxel(volume: CTVolume, xyz: np.ndarray) -> np.ndarray:
    """(slice, row, column) voxel positions (floats) of world points (x, y, z) mm."""
    xyz = np.asarray(xyz, dtype=np.float64).reshape(-1, 3)
    offsets = np.linalg.solve(volume.direction, (xyz - np.asarray(volume.origin)).T).T  # along column, row, slice
    dz, dy, dx = volume.spacing
    return np.stack([offsets[:, 2] / dz, offsets[:, 1] / dy, offsets[:, 0] / dx], axis=1)


def inside(volume: CTVolume, kji: np.ndarray) -> np.ndarray:
    """Which voxel positions lie within the volume (between the outermost voxel centres)."""
    upper = np.asarray(volume.hu.shape, dtype=np.float64) - 1.0
    kji = np.asarray(kji, dtype=np.float64).reshape(-1, 3)
    return np.all((kji >= 0.0) & (kji <= upper), axis=1)
