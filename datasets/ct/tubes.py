"""Tubes (airways, vessels, aorta, ribs' cousins): capsule segments painted with soft edges.

A tube is a chain of segments, each a cone-capped capsule from point ``a`` to point ``b``
with radii ``ra`` and ``rb`` in world millimetres. Painting blends a value into the volume
by the fraction of each voxel the tube covers (a linear ramp one voxel wide), which gives
the partial-volume look of thin structures in real CT.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .geometry import VolumeGeometry


@dataclass(frozen=True)
class Segment:
    """One straight piece of a tube, in world millimetres."""

    a: tuple[float, float, float]
    b: tuple[float, float, float]
    ra: float
    rb: float

    @property
    def length(self) -> float:
        return float(np.linalg.norm(np.subtract(self.b, self.a)))


def segment_distance(seg: Segment, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance from points to the segment's axis and the local radius there (broadcast arrays)."""
    ax, ay, az = seg.a
    ux, uy, uz = np.subtract(seg.b, seg.a)
    ll = ux * ux + uy * uy + uz * uz
    px, py, pz = x - ax, y - ay, z - az
    if ll <= 1e-12:
        t = np.zeros(np.broadcast_shapes(px.shape, py.shape, pz.shape), dtype=np.float32)
    else:
        t = np.clip((px * ux + py * uy + pz * uz) / ll, 0.0, 1.0)
    dx, dy, dz = px - t * ux, py - t * uy, pz - t * uz
    dist = np.sqrt(dx * dx + dy * dy + dz * dz)
    radius = seg.ra + (seg.rb - seg.ra) * t
    return dist, radius


def coverage(dist: np.ndarray, radius: np.ndarray, edge_mm: float) -> np.ndarray:
    """Fraction of a voxel inside a surface at ``radius`` (linear ramp ``edge_mm`` wide)."""
    return np.clip((radius - dist) / edge_mm + 0.5, 0.0, 1.0).astype(np.float32)


def paint_segment(
    volume: np.ndarray,
    geom: VolumeGeometry,
    seg: Segment,
    value: float,
    *,
    extra_radius: float = 0.0,
    mode: str = "blend",
    mask: np.ndarray | None = None,
) -> None:
    """Paint ``value`` into ``volume`` inside the segment (radius grown by ``extra_radius``).

    ``mode`` "blend" mixes by coverage; "max" only ever raises voxel values (a brighter
    structure drawn over darker lung keeps whatever is already brighter). ``mask``, when
    given, limits painting to voxels where it is true.
    """
    r = max(seg.ra, seg.rb) + extra_radius
    edge = float(min(geom.spacing))
    lo = np.minimum(seg.a, seg.b) - r - edge
    hi = np.maximum(seg.a, seg.b) + r + edge
    box = geom.box(lo, hi)
    if box is None:
        return
    x, y, z = geom.grid(box)
    dist, radius = segment_distance(seg, x, y, z)
    f = coverage(dist, radius + extra_radius, edge)
    if mask is not None:
        f = f * mask[box]
    sub = volume[box]
    mixed = sub + f * (np.float32(value) - sub)
    if mode == "max":
        np.maximum(sub, mixed, out=sub)
    else:
        sub[...] = mixed


def paint_tube(
    volume: np.ndarray,
    geom: VolumeGeometry,
    segments: list[Segment],
    value: float,
    *,
    extra_radius: float = 0.0,
    mode: str = "blend",
    mask: np.ndarray | None = None,
) -> None:
    """Paint every segment of a tube (see :func:`paint_segment`)."""
    for seg in segments:
        paint_segment(volume, geom, seg, value, extra_radius=extra_radius, mode=mode, mask=mask)


def polyline(points: list[tuple[float, float, float]], radii: list[float]) -> list[Segment]:
    """Segments joining consecutive points, radii given per point."""
    return [
        Segment(tuple(map(float, points[i])), tuple(map(float, points[i + 1])), float(radii[i]), float(radii[i + 1]))
        for i in range(len(points) - 1)
    ]
