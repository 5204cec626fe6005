"""Nodule candidates with high sensitivity: thresholds, connected components and an erosion.

The first stage of the reference detector (the classic LUNA16 two-stage design: a candidate
generator that misses almost nothing, then a classifier that removes false positives).

* **Lung region:** the simple detector's lung mask (air below -600 HU that does not touch the
  image border, holes filled slice by slice), then closed slice by slice so that nodules
  sitting on the pleura - bays in the air mask, not holes - are inside it.
* **Components at several thresholds:** solid nodules above -550, -350 and -150 HU (the higher
  thresholds split a nodule from the fainter tissue around it), faint (ground-glass) ones above
  -750 HU after a light Gaussian smoothing that removes noise.
* **Erosion:** an eroded copy of the -550 HU mask detaches nodules from the thin vessels and
  the pleura they touch (a vessel-attached nodule is one long component before, two after).
* Every component of a plausible size gives its centre of mass (sub-voxel, so small nodules
  are hit within their radius); candidates closer than ``merge_mm`` are merged.

All functions are pure functions of the Hounsfield-unit array and its spacing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from practicum.datasets.ct import DetectorParams, lung_mask


@dataclass(frozen=True)
class Pass:
    """One thresholding pass: smooth (sigma in voxels, 0 = none), threshold, erode, size limits."""

    threshold_hu: float
    smooth_voxels: float = 0.0
    erosions: int = 0
    min_diameter_mm: float = 2.5
    max_diameter_mm: float = 35.0
    max_extent_mm: float = 45.0


DEFAULT_PASSES: tuple[Pass, ...] = (
    Pass(-550.0),
    Pass(-550.0, erosions=1, min_diameter_mm=1.0),
    Pass(-750.0, smooth_voxels=1.0),
    Pass(-350.0),
    Pass(-150.0),
)


@dataclass(frozen=True)
class CandidateParams:
    passes: tuple[Pass, ...] = DEFAULT_PASSES
    close_iterations: int = 4
    grow_iterations: int = 0
    merge_mm: float = 1.5
    max_candidates: int = 2000  # a safety valve: scans of the small build give 300-700


@dataclass(frozen=True)
class Candidates:
    """Candidate centres as (slice, row, column) voxel positions (floats) and their pass index."""

    kji: np.ndarray
    source: np.ndarray

    def __len__(self) -> int:
        return int(self.kji.shape[0])


def lung_region(hu: np.ndarray, close_iterations: int = 4, grow_iterations: int = 0) -> np.ndarray:
    """The lungs with their vessels, nodules and the nodules on their walls (boolean mask)."""
    mask = lung_mask(hu, DetectorParams())
    if (close_iterations <= 0 and grow_iterations <= 0) or not mask.any():
        return mask
    # Close within each slice (a structuring element flat in z), all slices in one call.
    in_plane = np.zeros((3, 3, 3), dtype=bool)
    in_plane[1] = ndimage.generate_binary_structure(2, 1)
    pad = close_iterations + grow_iterations + 1
    padded = np.pad(mask, ((0, 0), (pad, pad), (pad, pad)))
    if close_iterations > 0:
        padded = ndimage.binary_closing(padded, structure=in_plane, iterations=close_iterations)
    if grow_iterations > 0:
        padded = ndimage.binary_dilation(padded, structure=in_plane, iterations=grow_iterations)
    closed = padded[:, pad:-pad, pad:-pad] | mask
    for k in np.flatnonzero(closed.any(axis=(1, 2))):
        closed[k] = ndimage.binary_fill_holes(closed[k])
    return closed


def component_centres(binary: np.ndarray, spacing: tuple[float, float, float], p: Pass) -> np.ndarray:
    """Centres of mass (k, j, i) of the components of ``binary`` whose size fits ``p``."""
    labels, n = ndimage.label(binary)
    if n == 0:
        return np.zeros((0, 3))
    counts = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    diameter = (6.0 * counts * float(np.prod(spacing)) / np.pi) ** (1.0 / 3.0)
    boxes = ndimage.find_objects(labels)
    extent = np.array([max((b[a].stop - b[a].start) * spacing[a] for a in range(3)) for b in boxes])
    ok = (diameter >= p.min_diameter_mm) & (diameter <= p.max_diameter_mm) & (extent <= p.max_extent_mm)
    if not ok.any():
        return np.zeros((0, 3))
    # Centre of mass of each kept component from voxel coordinate sums.
    flat = np.flatnonzero(labels)
    lab = labels.ravel()[flat]
    kji = np.unravel_index(flat, labels.shape)
    sums = np.stack([np.bincount(lab, weights=c, minlength=n + 1)[1:] for c in kji], axis=1)
    centres = sums / np.maximum(counts, 1)[:, None]
    return centres[ok]


def generate_candidates(
    hu: np.ndarray, spacing: tuple[float, float, float], params: CandidateParams = CandidateParams()
) -> Candidates:
    """Candidate nodule centres of one volume (``hu`` indexed slice, row, column; spacing in mm)."""
    region = lung_region(hu, params.close_iterations, params.grow_iterations)
    found, source = [], []
    smoothed: dict[float, np.ndarray] = {}
    for index, p in enumerate(params.passes):
        image = hu
        if p.smooth_voxels > 0:
            if p.smooth_voxels not in smoothed:
                smoothed[p.smooth_voxels] = ndimage.gaussian_filter(hu, p.smooth_voxels)
            image = smoothed[p.smooth_voxels]
        binary = (image > p.threshold_hu) & region
        if p.erosions:
            binary = ndimage.binary_erosion(binary, ndimage.generate_binary_structure(3, 1), iterations=p.erosions)
        centres = component_centres(binary, spacing, p)
        found.append(centres)
        source.append(np.full(len(centres), index, dtype=np.int64))
    kji = np.concatenate(found) if found else np.zeros((0, 3))
    src = np.concatenate(source) if source else np.zeros(0, dtype=np.int64)
    keep = merge_close(kji, spacing, params.merge_mm)
    kji, src = kji[keep][: params.max_candidates], src[keep][: params.max_candidates]
    return Candidates(kji=kji, source=src)


def merge_close(kji: np.ndarray, spacing: tuple[float, float, float], radius_mm: float) -> np.ndarray:
    """Indices of the points to keep: each point within ``radius_mm`` of an earlier kept one goes."""
    return keep_apart(kji * np.asarray(spacing)[None, :], np.arange(len(kji)), radius_mm)


def keep_apart(points_mm: np.ndarray, order: np.ndarray, radius_mm: float) -> np.ndarray:
    """Greedy suppression: walk ``order``, keep a point unless a kept one lies within ``radius_mm``;
    the kept indices in walking order."""
    order = np.asarray(order, dtype=np.int64)
    if len(order) == 0 or radius_mm <= 0:
        return order
    tree = cKDTree(points_mm)
    removed = np.zeros(len(points_mm), dtype=bool)
    keep = []
    for i in order:
        if removed[i]:
            continue
        keep.append(i)
        removed[tree.query_ball_point(points_mm[i], radius_mm)] = True
    return np.asarray(keep, dtype=np.int64)
