"""Cubes of CT around candidate centres, resampled to a fixed millimetre grid, for the classifier.

Scans come with different voxel sizes; resampling each cube to ``voxel_mm`` (trilinear) gives
the network the same physical scale everywhere and centres each cube on the candidate's
sub-voxel position. Intensities are clipped to a lung window and scaled to [0, 1]; outside
the volume reads as air (0).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

HU_WINDOW = (-1000.0, 400.0)


def normalise(hu: np.ndarray) -> np.ndarray:
    """HU clipped to the window, scaled to [0, 1] (float32)."""
    lo, hi = HU_WINDOW
    return ((np.clip(hu, lo, hi) - lo) / (hi - lo)).astype(np.float32)


def extract_patches(
    image: np.ndarray,
    kji: np.ndarray,
    spacing: tuple[float, float, float],
    *,
    size: int = 20,
    voxel_mm: float = 2.0,
    chunk: int = 256,
) -> np.ndarray:
    """(N, size, size, size) cubes of ``image`` (normalised, indexed slice, row, column) centred on
    the voxel positions ``kji``, sampled every ``voxel_mm`` millimetres along each axis."""
    kji = np.asarray(kji, dtype=np.float64).reshape(-1, 3)
    out = np.empty((len(kji), size, size, size), dtype=np.float32)
    if len(kji) == 0:
        return out
    steps = (np.arange(size) - (size - 1) / 2.0) * voxel_mm
    offsets = np.stack(np.meshgrid(steps, steps, steps, indexing="ij"), axis=-1) / np.asarray(spacing)  # voxels
    shape = np.asarray(image.shape, dtype=np.float64)
    volume = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))[None, None]
    for start in range(0, len(kji), chunk):
        centres = kji[start : start + chunk]
        points = centres[:, None, None, None, :] + offsets[None]  # (n, S, S, S, 3) as (k, j, i)
        # grid_sample wants (x, y, z) = (column, row, slice) scaled to [-1, 1] over the voxel centres.
        grid = 2.0 * points[..., ::-1] / np.maximum(shape[::-1] - 1.0, 1.0) - 1.0
        grid = torch.from_numpy(np.ascontiguousarray(grid, dtype=np.float32)).reshape(
            1, len(centres) * size, size, size, 3
        )
        sampled = F.grid_sample(volume, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
        out[start : start + len(centres)] = sampled.reshape(len(centres), size, size, size).numpy()
    return out
