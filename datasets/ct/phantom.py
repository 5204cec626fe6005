"""One synthetic chest CT scan: anatomy, vessels, airways, findings, blur and noise.

:func:`generate_case` is a pure function of its :class:`CaseSpec` (which carries its own
seed): the same spec always gives the same voxels and the same findings. The difficulty
knobs that the simple detector was calibrated against live in :class:`Difficulty`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter

from .anatomy import AnatomyParams, inside_lungs, render_anatomy, sample_anatomy
from .findings import Finding, make_finding, paint_finding
from .geometry import VolumeGeometry
from .trees import TreeParams, grow_tree, terminal
from .tubes import Segment, paint_tube, polyline

HU_MIN, HU_MAX = -1024, 3071


@dataclass(frozen=True)
class Difficulty:
    """What makes nodules hard to find.

    Tuned so that :func:`~practicum.datasets.ct.simple_detector.detect_nodules` scores a
    LUNA16 CPM inside 0.55-0.75 on a ``small`` build: 0.671 for seed 0 (the default; a
    test holds it in the window); over seeds 0-7 the CPM ranged 0.58-0.74, mean 0.67.
    What limits the detector: small (3-6 mm) and ground-glass nodules near or below its
    -550 HU threshold, nodules touching the pleura or a vessel (merged away), and vessel
    and airway fragments that look compact.
    """

    noise_hu: tuple[float, float] = (20.0, 42.0)
    blur_mm: tuple[float, float] = (0.7, 1.1)
    ggo_contrast_hu: tuple[float, float] = (240.0, 400.0)
    nodules_per_scan: float = 3.2
    small_nodule_share: float = 0.5
    juxtapleural_share: float = 0.1
    juxtavascular_share: float = 0.1
    kind_weights: tuple[float, float, float, float] = (0.58, 0.12, 0.2, 0.1)
    excluded_per_scan: float = 1.6
    vessel_min_radius_mm: float = 1.4
    vessel_max_segments: int = 200


DEFAULT_DIFFICULTY = Difficulty()


@dataclass(frozen=True)
class Recon:
    """A reconstruction of an acquisition: kernel name, sharpness and noise relative to standard."""

    index: int = 0
    kernel: str = "STANDARD"
    blur_factor: float = 1.0
    noise_factor: float = 1.0


RECONS: dict[str, Recon] = {
    "STANDARD": Recon(0, "STANDARD", 1.0, 1.0),
    "LUNG": Recon(1, "LUNG", 0.8, 1.25),
    "SOFT": Recon(2, "SOFT", 1.3, 0.7),
}


@dataclass(frozen=True)
class CaseSpec:
    """Everything that fixes one scan: its grid, reconstruction and seed.

    Two specs that differ only in ``recon`` describe the same acquisition reconstructed
    twice: identical anatomy and findings, different blur and noise.
    """

    case_id: str
    seed: int
    geometry: VolumeGeometry
    recon: Recon = field(default_factory=Recon)
    rescale_intercept: float = -1024.0
    difficulty: Difficulty = field(default_factory=Difficulty)
    with_findings: bool = True


@dataclass(frozen=True)
class GeneratedCase:
    """The scan as stored values (int16, HU = stored + intercept) and what is in it."""

    spec: CaseSpec
    stored: np.ndarray
    findings: tuple[Finding, ...]
    noise_hu: float

    @property
    def hu(self) -> np.ndarray:
        return self.stored.astype(np.float32) + np.float32(self.spec.rescale_intercept)


def _airways(p: AnatomyParams, geom: VolumeGeometry) -> list[Segment]:
    bx, by = p.body_center
    _, b = p.body_axes
    top = float(geom.axes()[2][-1]) + 20.0
    tx, ty = bx, by - 0.12 * b
    trachea = polyline([(tx, ty, top), (tx, ty + 4.0, p.carina_z)], [8.5, 8.0])
    (rh, lh) = p.hila()
    right = polyline([(tx, ty + 4.0, p.carina_z), rh], [6.0, 5.0])
    left = polyline([(tx, ty + 4.0, p.carina_z), lh], [5.5, 4.6])
    return trachea + right + left


def _lung_trees(
    rng: np.random.Generator, p: AnatomyParams, d: Difficulty
) -> tuple[list[Segment], list[Segment]]:
    """Vessel segments and bronchial segments inside both lungs."""
    vessels: list[Segment] = []
    bronchi: list[Segment] = []
    mid_z = p.z_base + 0.45 * p.lung_height

    def inside(q: np.ndarray, margin: float) -> bool:
        return bool(inside_lungs(p, q, margin))

    for side, hilum, (lx, ly) in zip((-1.0, 1.0), p.hila(), p.lung_centers(), strict=True):
        hilum = np.asarray(hilum)

        def toward(q: np.ndarray, lx=lx, ly=ly) -> np.ndarray:
            t = np.array([lx, ly, mid_z]) - q
            return t / (np.linalg.norm(t) + 1e-9)

        lateral = np.array([side, 0.0, 0.0])
        directions = [
            lateral * 0.5 + np.array([0.0, -0.2, 0.85]),
            lateral + np.array([0.0, -0.35, 0.1]),
            lateral * 0.6 + np.array([0.0, 0.45, -0.7]),
            lateral * 0.5 + np.array([0.0, -0.4, -0.75]),
        ]
        vparams = TreeParams(
            root_radius=rng.uniform(4.2, 5.4),
            min_radius=d.vessel_min_radius_mm,
            length_factor=rng.uniform(5.5, 7.5),
            branch_angle_deg=(22.0, 42.0),
            wiggle_deg=9.0,
            max_segments=d.vessel_max_segments,
            pleural_margin_mm=3.0,
        )
        for k, direction in enumerate(directions):
            start = hilum + np.array([0.0, 6.0 * (k % 2) - 3.0, 6.0 * (k - 1.5)])
            vessels += grow_tree(rng, tuple(start), tuple(direction), vparams, inside, toward)
        bparams = TreeParams(
            root_radius=rng.uniform(3.4, 4.0),
            min_radius=2.4,
            length_factor=rng.uniform(5.0, 6.5),
            branch_angle_deg=(25.0, 40.0),
            wiggle_deg=7.0,
            max_segments=10,
            pleural_margin_mm=4.0,
        )
        for direction in directions[:3]:
            bronchi += grow_tree(rng, tuple(hilum), tuple(direction), bparams, inside, toward)
    return vessels, bronchi


def _sample_diameter(rng: np.random.Generator, d: Difficulty) -> float:
    if rng.random() < d.small_nodule_share:
        return float(rng.uniform(3.0, 6.0))
    return float(np.exp(rng.uniform(np.log(6.0), np.log(30.0))))


def _lung_box(p: AnatomyParams) -> tuple[np.ndarray, np.ndarray]:
    (rx, ry), (lx, ly) = p.lung_centers()
    ax, ay = p.lung_axes()
    lo = np.array([rx - ax, min(ry, ly) - ay, p.z_base])
    hi = np.array([lx + ax, max(ry, ly) + ay, p.z_apex])
    return lo, hi


def _far_enough(c: np.ndarray, r: float, placed: list[Finding]) -> bool:
    for f in placed:
        if np.linalg.norm(c - np.asarray(f.center)) < r + f.diameter_mm / 2.0 + 6.0:
            return False
    return True


def _sphere_directions(n: int = 48) -> np.ndarray:
    """Roughly even unit vectors (Fibonacci sphere)."""
    i = np.arange(n) + 0.5
    phi = np.arccos(1.0 - 2.0 * i / n)
    theta = np.pi * (1.0 + 5.0**0.5) * i
    return np.stack([np.cos(theta) * np.sin(phi), np.sin(theta) * np.sin(phi), np.cos(phi)], axis=1)


_DIRECTIONS = _sphere_directions()


def _inside_share(p: AnatomyParams, c: np.ndarray, radius: float) -> float:
    """Share of points on a sphere of ``radius`` around ``c`` that lie inside a lung."""
    return float(np.mean(inside_lungs(p, c[None, :] + radius * _DIRECTIONS)))


class _VesselIndex:
    """Distance from points to the nearest vessel wall, over all segments at once."""

    def __init__(self, vessels: list[Segment]) -> None:
        self.a = np.array([s.a for s in vessels], dtype=np.float64).reshape(-1, 3)
        self.b = np.array([s.b for s in vessels], dtype=np.float64).reshape(-1, 3)
        self.r = np.array([max(s.ra, s.rb) for s in vessels], dtype=np.float64)

    def clearance(self, c: np.ndarray) -> float:
        if self.r.size == 0:
            return np.inf
        u = self.b - self.a
        t = np.clip(np.einsum("ij,ij->i", c - self.a, u) / np.maximum(np.einsum("ij,ij->i", u, u), 1e-9), 0.0, 1.0)
        d = np.linalg.norm(self.a + t[:, None] * u - c, axis=1) - self.r
        return float(d.min())


def _place(
    rng: np.random.Generator,
    p: AnatomyParams,
    geom: VolumeGeometry,
    diameter: float,
    attachment: str,
    vessels: list[Segment],
    index: _VesselIndex,
    placed: list[Finding],
) -> np.ndarray | None:
    """A centre for a finding of ``diameter`` with the given attachment, or None.

    Isolated findings keep 3 mm of lung and 3.5 mm of vessel clearance all round;
    juxtapleural ones cross the lung surface; juxtavascular ones touch a vessel.
    """
    r = diameter / 2.0
    lo, hi = _lung_box(p)
    # Keep centres at least two slices inside the scanned range.
    z_axis = geom.axes()[2]
    lo[2] = max(lo[2], float(z_axis[0]) + r + 2 * geom.spacing[0])
    hi[2] = min(hi[2], float(z_axis[-1]) - r - 2 * geom.spacing[0])
    if hi[2] <= lo[2]:
        return None
    for _ in range(500):
        if attachment == "juxtavascular" and vessels:
            seg = vessels[int(rng.integers(len(vessels)))]
            if seg.ra < 1.2:
                continue
            t = rng.uniform(0.2, 0.8)
            axis_pt = np.asarray(seg.a) + t * (np.asarray(seg.b) - np.asarray(seg.a))
            u = np.asarray(seg.b) - np.asarray(seg.a)
            u = u / (np.linalg.norm(u) + 1e-9)
            off = rng.standard_normal(3)
            off = off - np.dot(off, u) * u
            off = off / (np.linalg.norm(off) + 1e-9)
            c = axis_pt + off * (0.85 * r + 0.7 * seg.ra)
            ok = _inside_share(p, c, r + 2.0) == 1.0
        else:
            c = lo + rng.random(3) * (hi - lo)
            if not inside_lungs(p, c):
                continue
            if attachment == "juxtapleural":
                ok = 0.55 <= _inside_share(p, c, r) <= 0.85 and index.clearance(c) > r + 1.0
            else:
                ok = _inside_share(p, c, r + 3.0) == 1.0 and index.clearance(c) > r + 3.5
        if ok and lo[2] <= c[2] <= hi[2] and _far_enough(c, r, placed):
            return c
    return None


def _findings(
    rng: np.random.Generator,
    p: AnatomyParams,
    geom: VolumeGeometry,
    vessels: list[Segment],
    bronchi: list[Segment],
    d: Difficulty,
) -> list[Finding]:
    placed: list[Finding] = []
    index = _VesselIndex(vessels + bronchi)
    ggo = rng.uniform(*d.ggo_contrast_hu)
    n_nodules = int(min(rng.poisson(d.nodules_per_scan), 7))
    kinds = ("solid", "part_solid", "ground_glass", "calcified")
    w = np.asarray(d.kind_weights) / np.sum(d.kind_weights)
    for _ in range(n_nodules):
        kind = str(rng.choice(kinds, p=w))
        diameter = _sample_diameter(rng, d)
        if kind == "ground_glass":
            diameter = max(diameter, rng.uniform(5.0, 12.0))
        if kind == "part_solid":
            diameter = max(diameter, rng.uniform(8.0, 16.0))
        u = rng.random()
        attachment = (
            "juxtapleural"
            if u < d.juxtapleural_share
            else "juxtavascular"
            if u < d.juxtapleural_share + d.juxtavascular_share
            else "isolated"
        )
        c = _place(rng, p, geom, diameter, attachment, vessels, index, placed)
        if c is None:
            continue
        placed.append(make_finding(rng, c, diameter, kind, attachment, included=True, ggo_contrast=ggo))
    for _ in range(int(min(rng.poisson(d.excluded_per_scan), 5))):
        if rng.random() < 0.55:
            kind, diameter = "small_nodule", float(rng.uniform(1.6, 2.9))
        else:
            kind, diameter = "non_nodule", float(rng.uniform(4.0, 9.0))
        c = _place(rng, p, geom, diameter, "isolated", vessels, index, placed)
        if c is None:
            continue
        placed.append(make_finding(rng, c, diameter, kind, "isolated", included=False, ggo_contrast=ggo))
    return placed


def _correlated_noise(rng: np.random.Generator, shape: tuple[int, int, int], std: float) -> np.ndarray:
    n = rng.standard_normal(shape).astype(np.float32)
    n = gaussian_filter(n, sigma=(0.5, 0.7, 0.7), mode="nearest")
    return n * np.float32(std / (float(n.std()) or 1.0))


def generate_case(spec: CaseSpec) -> GeneratedCase:
    """Render the scan described by ``spec`` (deterministic in ``spec.seed``)."""
    rng = np.random.default_rng(spec.seed)
    geom = spec.geometry
    d = spec.difficulty
    p = sample_anatomy(rng, geom)
    vol, _ = render_anatomy(p, geom, rng)
    vessels, bronchi = _lung_trees(rng, p, d)
    contrast = p.aorta_hu > 100.0
    vessel_hu = float(rng.uniform(120.0, 200.0)) if contrast else float(rng.uniform(30.0, 55.0))
    airway_tubes = _airways(p, geom) + bronchi
    # Airway walls first, vessels over them, then the air inside the airways. The lumen
    # of a branch's last segment runs on through its wall: airways end open, not capped.
    wall = 2.4
    lumens = [
        Segment(s.a, tuple(np.asarray(s.b) + (wall + 1.0) * (np.asarray(s.b) - np.asarray(s.a)) / max(s.length, 1e-6)), s.ra, s.rb)
        if end
        else s
        for s, end in zip(airway_tubes, terminal(airway_tubes), strict=True)
    ]
    paint_tube(vol, geom, airway_tubes, 30.0, extra_radius=wall, mode="max")
    paint_tube(vol, geom, vessels, vessel_hu, mode="max")
    paint_tube(vol, geom, lumens, -1000.0, mode="blend")
    findings = _findings(rng, p, geom, vessels, bronchi, d) if spec.with_findings else []
    for f in findings:
        paint_finding(vol, geom, f, rng)
    recon_rng = np.random.default_rng([spec.seed, 7919 + spec.recon.index])
    blur = recon_rng.uniform(*d.blur_mm) * spec.recon.blur_factor
    vol = gaussian_filter(vol, sigma=[blur / s for s in geom.spacing], mode="nearest")
    noise = float(recon_rng.uniform(*d.noise_hu)) * spec.recon.noise_factor
    vol += _correlated_noise(recon_rng, geom.shape, noise)
    hu = np.clip(np.rint(vol), HU_MIN, HU_MAX)
    stored = (hu - spec.rescale_intercept).astype(np.int16)
    return GeneratedCase(spec=spec, stored=stored, findings=tuple(findings), noise_hu=noise)
