"""Where voxels sit in the patient: the grid of an axial CT volume in world millimetres.

World coordinates are DICOM patient coordinates (LPS): x grows to the patient's left,
y towards the back, z towards the head. Arrays are indexed ``[k, j, i]`` = (slice, row,
column); for an axial grid with identity orientation the world position of a voxel is
``origin + (i * dx, j * dy, k * dz)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class VolumeGeometry:
    """An axial voxel grid: ``shape`` and ``spacing`` in (z, y, x) order, ``origin`` in (x, y, z)."""

    shape: tuple[int, int, int]
    spacing: tuple[float, float, float]
    origin: tuple[float, float, float]

    @property
    def extent_mm(self) -> tuple[float, float, float]:
        """Size of the grid in (x, y, z) millimetres."""
        nz, ny, nx = self.shape
        dz, dy, dx = self.spacing
        return nx * dx, ny * dy, nz * dz

    def axes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """World coordinates of voxel centres along x, y and z (1-D arrays)."""
        nz, ny, nx = self.shape
        dz, dy, dx = self.spacing
        x0, y0, z0 = self.origin
        return (
            (x0 + dx * np.arange(nx)).astype(np.float32),
            (y0 + dy * np.arange(ny)).astype(np.float32),
            (z0 + dz * np.arange(nz)).astype(np.float32),
        )

    def world_to_voxel(self, xyz: np.ndarray) -> np.ndarray:
        """Continuous (k, j, i) indices of world points ``xyz`` (..., 3)."""
        xyz = np.asarray(xyz, dtype=np.float64)
        dz, dy, dx = self.spacing
        x0, y0, z0 = self.origin
        return np.stack([(xyz[..., 2] - z0) / dz, (xyz[..., 1] - y0) / dy, (xyz[..., 0] - x0) / dx], axis=-1)

    def voxel_to_world(self, kji: np.ndarray) -> np.ndarray:
        """World points (..., 3) of continuous voxel indices ``kji`` (..., 3)."""
        kji = np.asarray(kji, dtype=np.float64)
        dz, dy, dx = self.spacing
        x0, y0, z0 = self.origin
        return np.stack([x0 + kji[..., 2] * dx, y0 + kji[..., 1] * dy, z0 + kji[..., 0] * dz], axis=-1)

    def box(self, lo_xyz: np.ndarray, hi_xyz: np.ndarray) -> tuple[slice, slice, slice] | None:
        """Index slices covering the world box [lo, hi], clipped to the grid; None when outside."""
        a = self.world_to_voxel(np.asarray(lo_xyz))
        b = self.world_to_voxel(np.asarray(hi_xyz))
        lo = np.floor(np.minimum(a, b)).astype(int)
        hi = np.ceil(np.maximum(a, b)).astype(int) + 1
        lo = np.maximum(lo, 0)
        hi = np.minimum(hi, np.asarray(self.shape))
        if np.any(hi <= lo):
            return None
        return slice(lo[0], hi[0]), slice(lo[1], hi[1]), slice(lo[2], hi[2])

    def grid(self, box: tuple[slice, slice, slice]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Broadcastable world x, y, z coordinates of the voxels inside ``box``."""
        xs, ys, zs = self.axes()
        return xs[box[2]][None, None, :], ys[box[1]][None, :, None], zs[box[0]][:, None, None]
