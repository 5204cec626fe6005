"""A deliberately simple nodule detector: threshold, connected components, size and shape.

This is the naive baseline the CT data is calibrated against (the lung-nodule project's
starting point): segment the lungs by thresholding air and filling holes slice by slice,
threshold dense tissue inside them, label connected components, and score each
component by how nodule-like its size and compactness are. It knows nothing about
vessels, so fragments of vessels and airway walls become false positives and nodules
touching a vessel or the chest wall are missed - which is the point.

Everything is a pure function of the Hounsfield-unit volume and its geometry.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage


@dataclass(frozen=True)
class DetectorParams:
    """Thresholds (HU) and size limits (mm) of the simple detector."""

    air_threshold_hu: float = -600.0
    dense_threshold_hu: float = -550.0
    min_diameter_mm: float = 3.0
    max_diameter_mm: float = 32.0
    max_extent_mm: float = 42.0
    max_candidates: int = 100


@dataclass(frozen=True)
class Detections:
    """Candidate nodules: world centres (x, y, z) mm, probabilities and equivalent diameters."""

    xyz: np.ndarray
    probability: np.ndarray
    diameter_mm: np.ndarray

    def __len__(self) -> int:
        return int(self.probability.shape[0])

    def to_json(self) -> dict:
        return {
            "xyz": self.xyz.round(3).tolist(),
            "probability": self.probability.round(6).tolist(),
            "diameter_mm": self.diameter_mm.round(3).tolist(),
        }

    def rows(self, seriesuid: str) -> list[dict]:
        """LUNA16 submission rows: seriesuid, coordX, coordY, coordZ, probability."""
        return [
            {"seriesuid": seriesuid, "coordX": float(x), "coordY": float(y), "coordZ": float(z), "probability": float(p)}
            for (x, y, z), p in zip(self.xyz, self.probability, strict=True)
        ]


def lung_mask(hu: np.ndarray, params: DetectorParams = DetectorParams()) -> np.ndarray:
    """Lungs (with their vessels and enclosed nodules) as a boolean mask of ``hu``'s shape."""
    air = hu < params.air_threshold_hu
    labels, n = ndimage.label(air)
    if n == 0:
        return np.zeros(hu.shape, dtype=bool)
    # Air touching the in-plane border is outside the body.
    border = np.unique(np.concatenate([labels[:, 0, :].ravel(), labels[:, -1, :].ravel(), labels[:, :, 0].ravel(), labels[:, :, -1].ravel()]))
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    sizes[0] = 0
    sizes[border] = 0
    if sizes.max() == 0:
        return np.zeros(hu.shape, dtype=bool)
    ranked = np.argsort(sizes)[::-1]
    keep = [ranked[0]]
    if sizes[ranked[1]] > 0.2 * sizes[ranked[0]]:
        keep.append(ranked[1])
    mask = np.isin(labels, keep)
    filled = np.empty_like(mask)
    for k in range(mask.shape[0]):
        filled[k] = ndimage.binary_fill_holes(mask[k])
    return filled


def detect_nodules(
    hu: np.ndarray,
    spacing: tuple[float, float, float],
    origin: tuple[float, float, float],
    direction: np.ndarray | None = None,
    params: DetectorParams = DetectorParams(),
) -> Detections:
    """Candidate nodules in a CT volume.

    ``hu`` is indexed (slice, row, column); ``spacing`` is (slice, row, column) in mm;
    ``origin`` is the world position of voxel [0, 0, 0]; ``direction`` (3x3) has the world
    directions of the column, row and slice axes as its columns (identity if None).
    """
    dz, dy, dx = spacing
    mask = lung_mask(hu, params)
    dense = (hu > params.dense_threshold_hu) & mask
    labels, n = ndimage.label(dense)
    if n == 0:
        return _empty()
    index = np.arange(1, n + 1)
    counts = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    voxel_mm3 = dz * dy * dx
    volume = counts * voxel_mm3
    eq_diam = (6.0 * volume / np.pi) ** (1.0 / 3.0)
    boxes = ndimage.find_objects(labels)
    extent = np.array(
        [[(b[0].stop - b[0].start) * dz, (b[1].stop - b[1].start) * dy, (b[2].stop - b[2].start) * dx] for b in boxes]
    )
    max_extent = extent.max(axis=1)
    ok = (eq_diam >= params.min_diameter_mm) & (eq_diam <= params.max_diameter_mm) & (max_extent <= params.max_extent_mm)
    if not ok.any():
        return _empty()
    index = index[ok]
    com, mean_hu = _component_stats(labels, hu, n)
    com, mean_hu = com[index - 1], mean_hu[index - 1]
    compactness = volume[ok] / (np.pi / 6.0 * max_extent[ok] ** 3)
    prob = _score(eq_diam[ok], np.clip(compactness, 0.0, 1.0), mean_hu)
    xyz = _to_world(com, spacing, origin, direction)
    order = np.argsort(-prob, kind="stable")[: params.max_candidates]
    return Detections(xyz=xyz[order], probability=prob[order], diameter_mm=eq_diam[ok][order])


def _component_stats(labels: np.ndarray, hu: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Centre of mass (k, j, i) and mean HU of components 1..n, touching labelled voxels only."""
    flat = np.flatnonzero(labels)
    lab = labels.ravel()[flat]
    counts = np.maximum(np.bincount(lab, minlength=n + 1)[1:], 1).astype(np.float64)
    kji = np.unravel_index(flat, labels.shape)
    com = np.stack([np.bincount(lab, weights=c, minlength=n + 1)[1:] for c in kji], axis=1) / counts[:, None]
    mean_hu = np.bincount(lab, weights=hu.ravel()[flat], minlength=n + 1)[1:] / counts
    return com, mean_hu


def _score(diameter: np.ndarray, compactness: np.ndarray, mean_hu: np.ndarray) -> np.ndarray:
    """Nodule-likeness in (0, 1): compact blobs of a few millimetres and up score high."""
    size = 1.0 / (1.0 + np.exp(-(diameter - 4.0) / 1.2))
    shape = 1.0 / (1.0 + np.exp(-(compactness - 0.28) / 0.07))
    density = 1.0 / (1.0 + np.exp(-(mean_hu + 450.0) / 120.0))
    return np.round(size * shape * (0.6 + 0.4 * density), 6)


def _to_world(kji: np.ndarray, spacing, origin, direction) -> np.ndarray:
    dz, dy, dx = spacing
    offsets = np.stack([kji[:, 2] * dx, kji[:, 1] * dy, kji[:, 0] * dz], axis=1)
    d = np.eye(3) if direction is None else np.asarray(direction, dtype=np.float64)
    return np.asarray(origin, dtype=np.float64)[None, :] + offsets @ d.T


def _empty() -> Detections:
    return Detections(xyz=np.zeros((0, 3)), probability=np.zeros(0), diameter_mm=np.zeros(0))


def params_to_json(params: DetectorParams) -> dict:
    return asdict(params)
