"""Read a DICOM CT series back into a volume in Hounsfield units with its world geometry."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom


@dataclass(frozen=True)
class CTVolume:
    """Voxels (slice, row, column) in HU; spacing (slice, row, column) mm; origin (x, y, z) of
    voxel [0, 0, 0]; direction: world directions of the column, row and slice axes (columns)."""

    hu: np.ndarray
    spacing: tuple[float, float, float]
    origin: tuple[float, float, float]
    direction: np.ndarray
    series_uid: str
    study_uid: str
    sop_instance_uids: tuple[str, ...]

    def voxel_to_world(self, kji: np.ndarray) -> np.ndarray:
        kji = np.asarray(kji, dtype=np.float64)
        dz, dy, dx = self.spacing
        offsets = np.stack([kji[..., 2] * dx, kji[..., 1] * dy, kji[..., 0] * dz], axis=-1)
        return np.asarray(self.origin) + offsets @ self.direction.T


def load_series(files: Iterable[Path]) -> CTVolume:
    """Stack the slices of one series, ordered along the slice normal, and apply the rescale."""
    slices = [pydicom.dcmread(f) for f in files]
    if not slices:
        raise ValueError("no files given")
    uids = {str(s.SeriesInstanceUID) for s in slices}
    if len(uids) != 1:
        raise ValueError(f"files belong to {len(uids)} series")
    iop = np.asarray(slices[0].ImageOrientationPatient, dtype=np.float64)
    row_dir, col_dir = iop[:3], iop[3:]
    normal = np.cross(row_dir, col_dir)
    pos = np.array([np.asarray(s.ImagePositionPatient, dtype=np.float64) for s in slices])
    order = np.argsort(pos @ normal)
    slices = [slices[i] for i in order]
    pos = pos[order]
    steps = np.diff(pos @ normal)
    dz = float(np.median(steps)) if steps.size else float(getattr(slices[0], "SliceThickness", 1.0))
    if steps.size and np.max(np.abs(steps - dz)) > 0.01 * max(abs(dz), 1e-6) + 1e-3:
        raise ValueError("slices are not evenly spaced")
    dy, dx = (float(v) for v in slices[0].PixelSpacing)
    hu = np.stack(
        [s.pixel_array.astype(np.float32) * float(getattr(s, "RescaleSlope", 1)) + float(getattr(s, "RescaleIntercept", 0)) for s in slices]
    )
    direction = np.stack([row_dir, col_dir, normal], axis=1)
    return CTVolume(
        hu=hu,
        spacing=(dz, dy, dx),
        origin=tuple(float(v) for v in pos[0]),
        direction=direction,
        series_uid=next(iter(uids)),
        study_uid=str(slices[0].StudyInstanceUID),
        sop_instance_uids=tuple(str(s.SOPInstanceUID) for s in slices),
    )


def series_files(root: Path) -> dict[str, list[Path]]:
    """Files under ``root`` grouped by SeriesInstanceUID (headers only, pixel data skipped)."""
    groups: dict[str, list[Path]] = {}
    for path in sorted(Path(root).rglob("*")):
        if not path.is_file():
            continue
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["SeriesInstanceUID"])
        except Exception:  # noqa: BLE001 - anything unreadable is simply not part of a series
            continue
        uid = ds.get("SeriesInstanceUID")
        if uid:
            groups.setdefault(str(uid), []).append(path)
    return groups
