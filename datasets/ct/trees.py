"""Branching tubes grown inside the lungs: pulmonary vessels and the bronchial tree.

A tree starts at the hilum and splits again and again (breadth first, so a cap on
the number of segments trims the finest generation evenly). Child radii follow Murray's law
(r³ = r₁³ + r₂³), segment length grows with radius, and a branch that would leave the lung
is bent back or stopped. Thin, tortuous vessels are what a naive nodule detector confuses
with nodules, so these trees are the main source of decoys.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .tubes import Segment


@dataclass(frozen=True)
class TreeParams:
    """How a tree grows: start radius, where it stops, how long and how wide it branches."""

    root_radius: float
    min_radius: float
    length_factor: float
    branch_angle_deg: tuple[float, float]
    wiggle_deg: float
    max_segments: int
    pleural_margin_mm: float = 0.0


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else np.array([0.0, 0.0, 1.0])


def _perpendicular(d: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    r = rng.standard_normal(3)
    return _unit(r - np.dot(r, d) * d)


def _rotate(d: np.ndarray, axis: np.ndarray, angle: float) -> np.ndarray:
    """Rodrigues rotation of ``d`` about unit ``axis`` by ``angle`` radians."""
    c, s = np.cos(angle), np.sin(angle)
    return _unit(d * c + np.cross(axis, d) * s + axis * np.dot(axis, d) * (1.0 - c))


def terminal(segments: list[Segment]) -> list[bool]:
    """Whether each segment ends a branch (no other segment starts where it ends)."""
    starts = {tuple(np.round(s.a, 6)) for s in segments}
    return [tuple(np.round(s.b, 6)) not in starts for s in segments]


def grow_tree(
    rng: np.random.Generator,
    start: tuple[float, float, float],
    direction: tuple[float, float, float],
    params: TreeParams,
    inside: Callable[[np.ndarray, float], bool],
    toward: Callable[[np.ndarray], np.ndarray],
) -> list[Segment]:
    """Grow one tree; ``inside(point, margin)`` says whether a point is in the lung with
    ``margin`` mm to spare, ``toward(point)`` gives a direction back into the lung."""
    segments: list[Segment] = []
    queue: deque[tuple[np.ndarray, np.ndarray, float, int]] = deque(
        [(np.asarray(start, float), _unit(np.asarray(direction, float)), params.root_radius, 0)]
    )
    lo, hi = np.radians(params.branch_angle_deg)
    while queue and len(segments) < params.max_segments:
        p, d, r, depth = queue.popleft()
        if r < params.min_radius:
            continue
        length = r * params.length_factor * rng.uniform(0.7, 1.3)
        chosen = None
        for attempt in range(5):
            wiggle = np.radians(params.wiggle_deg) * (1.0 + attempt)
            d2 = _rotate(d, _perpendicular(d, rng), rng.normal(0.0, wiggle))
            if attempt >= 2:
                d2 = _unit(d2 + 0.6 * attempt * toward(p))
            q = p + d2 * length
            if depth < 2 or inside(q, 0.6 * r + params.pleural_margin_mm):
                chosen = (d2, q)
                break
        if chosen is None:
            continue
        d2, q = chosen
        r_end = r * rng.uniform(0.9, 0.97)
        segments.append(Segment(tuple(p), tuple(q), float(r), float(r_end)))
        split = rng.uniform(0.3, 0.7)
        radii = (r_end * split ** (1.0 / 3.0), r_end * (1.0 - split) ** (1.0 / 3.0))
        axis = _perpendicular(d2, rng)
        for sign, rc in zip((1.0, -1.0), radii, strict=True):
            angle = sign * rng.uniform(lo, hi) * (1.2 - rc / r_end * 0.4)
            queue.append((q, _rotate(d2, axis, angle), float(rc), depth + 1))
    return segments
