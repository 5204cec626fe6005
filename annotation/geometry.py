"""Voxel <-> world (DICOM patient) coordinates of a CT volume.

DICOM PS3.3 C.7.6.2.1.1: ImagePositionPatient is the centre of the first voxel of a slice;
ImageOrientationPatient gives the world directions of increasing column and row index. A voxel
(slice k, row j, column i) therefore lies at
``origin + i * dx * row_direction + j * dy * column_direction + k * dz * slice_normal``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from practicum.datasets.ct import CTVolume


@dataclass(frozen=True)
class VolumeGeometry:
    """Shape (slices, rows, columns), spacing (dz, dy, dx) mm, origin (x, y, z) mm of voxel [0, 0, 0],
    and ``direction``: the world directions of the column, row and slice axes, as matrix columns."""

    shape: tuple[int, int, int]
    spacing: tuple[float, float, float]
    origin: tuple[float, float, float]
    direction: NDArray[np.float64]

    @classmethod
    def of(cls, volume: CTVolume) -> VolumeGeometry:
        shape = tuple(int(n) for n in volume.hu.shape)
        return cls(shape, volume.spacing, volume.origin, np.asarray(volume.direction, dtype=np.float64))  # type: ignore[arg-type]

    def voxel_to_world(self, kji: ArrayLike) -> NDArray[np.float64]:
        """World (x, y, z) mm of voxel positions (slice, row, column); fractional positions allowed."""
        kji = np.asarray(kji, dtype=np.float64)
        dz, dy, dx = self.spacing
        steps = np.stack([kji[..., 2] * dx, kji[..., 1] * dy, kji[..., 0] * dz], axis=-1)
        return np.asarray(self.origin) + steps @ self.direction.T

    def world_to_voxel(self, xyz: ArrayLike) -> NDArray[np.float64]:
        """Voxel positions (slice, row, column), as floats, of world points (x, y, z) mm."""
        xyz = np.asarray(xyz, dtype=np.float64)
        along = np.linalg.solve(self.direction, (xyz - np.asarray(self.origin)).reshape(-1, 3).T).T
        dz, dy, dx = self.spacing
        kji = np.stack([along[:, 2] / dz, along[:, 1] / dy, along[:, 0] / dx], axis=-1)
        return kji.reshape(xyz.shape)

    def contains_voxel(self, kji: ArrayLike) -> bool:
        """Whether a voxel position lies inside the volume (within half a voxel of its outer centres)."""
        kji = np.asarray(kji, dtype=np.float64)
        upper = np.asarray(self.shape, dtype=np.float64) - 0.5
        return bool(np.all(np.isfinite(kji)) and np.all(kji >= -0.5) and np.all(kji <= upper))
