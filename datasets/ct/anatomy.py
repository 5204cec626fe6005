"""A chest, drawn from a few numbers: body, lungs, mediastinum, heart, aorta, spine, ribs, sternum.

Shapes are analytic (ellipses, tapered ellipsoids, tubes) in world millimetres, so the
same description gives the voxel volume and answers "is this point inside a lung?" for
placing vessels and nodules. Values are Hounsfield units; structures are blended by the
fraction of each voxel they cover. Airways and vessels are added by :mod:`.airways` and
:mod:`.vessels`; nodules by :mod:`.findings`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .geometry import VolumeGeometry
from .tubes import Segment, paint_tube, polyline

HU_AIR = -1000.0
HU_FAT = -95.0
HU_SOFT = 40.0
HU_BLOOD = 42.0
HU_LIVER = 58.0
HU_BONE_CORTEX = 750.0
HU_BONE_MARROW = 230.0
HU_DISC = 85.0
HU_TABLE = 250.0


@dataclass(frozen=True)
class AnatomyParams:
    """Numbers that fix one synthetic chest (world millimetres and Hounsfield units)."""

    body_center: tuple[float, float]
    body_axes: tuple[float, float]
    fat_mm: float
    wall_mm: float
    z_base: float
    z_apex: float
    dome_mm: float
    right_dome_extra_mm: float
    mediastinum_half_width: float
    lung_hu: float
    lung_gradient_hu: float
    heart_center: tuple[float, float, float]
    heart_axes: tuple[float, float, float]
    aorta_radius: float
    aorta_hu: float
    spine_xy: tuple[float, float]
    vertebra_radius: float
    rib_pitch_mm: float
    rib_drop_mm: float
    rib_radius: float
    carina_z: float

    @property
    def lung_height(self) -> float:
        return self.z_apex - self.z_base

    def lung_centers(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """(x, y) centres of the right (patient right, x < centre) and left lung ellipses."""
        bx, by = self.body_center
        a, b = self.body_axes
        inner = a - self.wall_mm
        half = (inner - self.mediastinum_half_width) / 2.0
        lx = self.mediastinum_half_width + half
        ly = by + 0.03 * b
        return (bx - lx, ly), (bx + lx, ly)

    def lung_axes(self) -> tuple[float, float]:
        a, b = self.body_axes
        inner = a - self.wall_mm
        half = (inner - self.mediastinum_half_width) / 2.0
        return half * 1.08, (b - self.wall_mm) * 0.93

    def hila(self) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
        """Where the main bronchi and pulmonary vessels enter the right and left lung."""
        (rx, ry), (lx, ly) = self.lung_centers()
        ax, _ = self.lung_axes()
        z = self.carina_z - 0.08 * self.lung_height
        return (rx + 0.55 * ax, ry + 4.0, z), (lx - 0.55 * ax, ly + 4.0, z)


def sample_anatomy(rng: np.random.Generator, geom: VolumeGeometry) -> AnatomyParams:
    """Draw a plausible chest that fits the scanned range of ``geom``."""
    xs, ys, zs = geom.axes()
    width, depth, height = geom.extent_mm
    cx = float(xs[len(xs) // 2]) + rng.normal(0.0, 4.0)
    a = float(np.clip(rng.normal(0.43, 0.03) * width, 120.0, 175.0))
    b = float(np.clip(a * rng.uniform(0.64, 0.74), 85.0, 125.0))
    cy = float(ys[len(ys) // 2]) + rng.uniform(-0.06, 0.02) * depth
    z_lo, z_hi = float(zs[0]), float(zs[-1])
    h = z_hi - z_lo
    z_base = z_lo + rng.uniform(0.04, 0.10) * h
    z_apex = z_hi + rng.uniform(-0.06, 0.04) * h
    lung_h = z_apex - z_base
    wall = rng.uniform(17.0, 26.0)
    med = rng.uniform(0.17, 0.22) * a
    heart_axes = (rng.uniform(0.33, 0.40) * a, rng.uniform(0.42, 0.50) * b, rng.uniform(0.20, 0.26) * lung_h)
    heart_center = (cx + rng.uniform(0.08, 0.16) * a, cy - rng.uniform(0.18, 0.28) * b, z_base + 0.14 * lung_h)
    spine = (cx, cy + b - rng.uniform(38.0, 46.0))
    return AnatomyParams(
        body_center=(cx, cy),
        body_axes=(a, b),
        fat_mm=rng.uniform(7.0, 22.0),
        wall_mm=wall,
        z_base=z_base,
        z_apex=z_apex,
        dome_mm=rng.uniform(0.15, 0.22) * lung_h,
        right_dome_extra_mm=rng.uniform(4.0, 12.0),
        mediastinum_half_width=med,
        lung_hu=rng.uniform(-875.0, -840.0),
        lung_gradient_hu=rng.uniform(40.0, 90.0),
        heart_center=heart_center,
        heart_axes=heart_axes,
        aorta_radius=rng.uniform(11.0, 14.0),
        aorta_hu=float(rng.choice([HU_BLOOD, rng.uniform(150.0, 260.0)])),
        spine_xy=spine,
        vertebra_radius=rng.uniform(15.0, 19.0),
        rib_pitch_mm=rng.uniform(0.11, 0.14) * lung_h + 6.0,
        rib_drop_mm=rng.uniform(0.12, 0.18) * lung_h,
        rib_radius=rng.uniform(3.2, 4.0),
        carina_z=z_base + rng.uniform(0.58, 0.66) * lung_h,
    )


def _ellipse_sdf(x: np.ndarray, y: np.ndarray, cx: float, cy: float, ax, ay) -> np.ndarray:
    """Approximate signed distance (mm, negative inside) to an axis-aligned ellipse."""
    q = np.sqrt(((x - cx) / ax) ** 2 + ((y - cy) / ay) ** 2)
    return (q - 1.0) * np.minimum(ax, ay)


def _ellipsoid_sdf(x, y, z, c: tuple[float, float, float], axes: tuple[float, float, float]) -> np.ndarray:
    q = np.sqrt(((x - c[0]) / axes[0]) ** 2 + ((y - c[1]) / axes[1]) ** 2 + ((z - c[2]) / axes[2]) ** 2)
    return (q - 1.0) * min(axes)


def lung_sdf(p: AnatomyParams, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Approximate signed distance (mm, negative inside) to the right and to the left lung."""
    bx, _ = p.body_center
    ax, ay = p.lung_axes()
    t = np.clip((z - p.z_base) / p.lung_height, 0.0, 1.0)
    taper = np.sqrt(np.clip(1.0 - t**3.2, 0.02, 1.0))
    apex = z - p.z_apex
    heart = -_ellipsoid_sdf(x, y, z, p.heart_center, tuple(a + 4.0 for a in p.heart_axes))
    a, b = p.body_axes
    wall = _ellipse_sdf(x, y, bx, p.body_center[1], a - p.wall_mm, b - p.wall_mm)
    spine = -(np.sqrt((x - p.spine_xy[0]) ** 2 + (y - p.spine_xy[1]) ** 2) - (p.vertebra_radius + 14.0))
    upper = np.clip((z - p.z_base) / p.lung_height, 0.0, 1.0)
    med_half = p.mediastinum_half_width * (0.75 + 0.25 * (1.0 - upper))
    out = []
    for side, (lx, ly) in zip((-1.0, 1.0), p.lung_centers(), strict=True):
        cross = _ellipse_sdf(x, y, lx, ly, ax * taper, ay * taper)
        dome = p.dome_mm * np.clip(1.0 - ((x - lx) / ax) ** 2 - ((y - ly) / ay) ** 2, 0.0, 1.0)
        if side < 0:
            dome = dome + p.right_dome_extra_mm
        floor = (p.z_base + dome) - z
        medial = med_half - side * (x - bx)
        d = np.maximum(np.maximum(np.maximum(cross, floor), np.maximum(apex, medial)), np.maximum(np.maximum(heart, spine), wall))
        out.append(np.broadcast_to(d, np.broadcast_shapes(x.shape, y.shape, z.shape)))
    return out[0], out[1]


def inside_lungs(p: AnatomyParams, xyz: np.ndarray, margin: float = 0.0) -> np.ndarray:
    """Whether world points (..., 3) lie inside a lung, at least ``margin`` mm from its surface."""
    xyz = np.asarray(xyz, dtype=np.float64)
    r, left = lung_sdf(p, xyz[..., 0], xyz[..., 1], xyz[..., 2])
    return np.minimum(r, left) <= -margin


def _cover(sdf: np.ndarray, edge: float) -> np.ndarray:
    return np.clip(0.5 - sdf / edge, 0.0, 1.0).astype(np.float32)


def _blend(volume: np.ndarray, frac: np.ndarray, value: float | np.ndarray) -> None:
    volume += frac * (value - volume)


def aorta_path(p: AnatomyParams) -> list[Segment]:
    """Ascending aorta, arch and descending aorta as a tube."""
    hx, hy, hz = p.heart_center
    sx, sy = p.spine_xy
    top = p.carina_z + 0.12 * p.lung_height
    r = p.aorta_radius
    pts = [
        (hx - 0.35 * p.heart_axes[0], hy + 0.2 * p.heart_axes[1], hz + 0.4 * p.heart_axes[2]),
        (hx - 0.45 * p.heart_axes[0], hy + 0.1 * p.heart_axes[1], top - 12.0),
        (sx + 0.3 * r, (hy + sy) / 2.0, top),
        (sx + 1.4 * r + 8.0, sy - p.vertebra_radius - 2.0, top - 14.0),
        (sx + 1.4 * r + 10.0, sy - p.vertebra_radius - 4.0, p.z_base - 80.0),
    ]
    return polyline(pts, [r, r, r * 0.95, r * 0.9, r * 0.85])


def render_anatomy(p: AnatomyParams, geom: VolumeGeometry, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Hounsfield-unit volume (float32, before vessels, nodules, blur and noise) and the lung mask."""
    nz, ny, nx = geom.shape
    xs, ys, zs = geom.axes()
    x = xs[None, None, :]
    y = ys[None, :, None]
    z = zs[:, None, None]
    edge = float(min(geom.spacing))
    bx, by = p.body_center
    a, b = p.body_axes
    vol = np.full(geom.shape, HU_AIR, dtype=np.float32)

    # Table below the patient: a flat slab of constant height.
    table_y = by + b + 12.0
    table = np.abs(y - (table_y + 6.0)) - 5.0
    table = np.maximum(table, np.abs(x - bx) - 0.9 * a)
    _blend(vol, np.broadcast_to(_cover(table, edge), geom.shape), HU_TABLE)

    # Body: skin and subcutaneous fat, then muscle inside.
    body = _ellipse_sdf(x, y, bx, by, a, b)
    _blend(vol, np.broadcast_to(_cover(body, edge), geom.shape), HU_FAT)
    muscle = _ellipse_sdf(x, y, bx, by, a - p.fat_mm, b - p.fat_mm)
    _blend(vol, np.broadcast_to(_cover(muscle, edge), geom.shape), HU_SOFT)

    # Abdomen below the diaphragm: liver on the right.
    liver = np.maximum(_ellipse_sdf(x, y, bx - 0.25 * a, by, 0.7 * a, 0.85 * b), z - (p.z_base + p.dome_mm + 10.0))
    _blend(vol, _cover(liver, edge), HU_LIVER)

    # Mediastinal fat between the lungs (lungs are carved out of it below).
    inner = _ellipse_sdf(x, y, bx, by, a - p.wall_mm, b - p.wall_mm)
    _blend(vol, np.broadcast_to(_cover(np.maximum(inner, np.abs(x - bx) - 1.6 * p.mediastinum_half_width), edge), geom.shape), -60.0)

    # Lungs: parenchyma with an anterior-to-posterior density gradient and soft texture.
    right, left = lung_sdf(p, x, y, z)
    lung_sdf_all = np.minimum(right, left)
    lung_frac = _cover(lung_sdf_all, edge)
    _, ay = p.lung_axes()
    (_, ly), _ = p.lung_centers()
    dependency = np.clip((y - (ly - ay)) / (2.0 * ay), 0.0, 1.0) ** 2
    texture = _smooth_noise(rng, geom.shape, sigma_mm=4.0, spacing=geom.spacing) * 18.0
    lung_value = p.lung_hu + p.lung_gradient_hu * dependency + texture
    _blend(vol, lung_frac, lung_value)
    lung_mask = lung_sdf_all <= 0.0

    # Heart, aorta.
    heart = _ellipsoid_sdf(x, y, z, p.heart_center, p.heart_axes)
    _blend(vol, _cover(heart, edge), HU_BLOOD)
    paint_tube(vol, geom, aorta_path(p), p.aorta_hu)

    _paint_spine(vol, geom, p, x, y, z, edge)
    _paint_ribs(vol, geom, p, x, y, z, edge)
    sternum = np.maximum(np.abs(x - bx) - 14.0, np.abs(y - (by - b + p.fat_mm + 7.0)) - 5.0)
    sternum = np.maximum(sternum, z - (p.carina_z + 0.2 * p.lung_height))
    sternum = np.maximum(sternum, (p.z_base + 0.2 * p.lung_height) - z)
    _blend(vol, _cover(sternum, edge), 420.0)
    return vol, lung_mask


def _paint_spine(vol, geom, p: AnatomyParams, x, y, z, edge) -> None:
    sx, sy = p.spine_xy
    r = p.vertebra_radius
    radial = np.sqrt((x - sx) ** 2 + (y - sy) ** 2)
    pitch = 27.0
    phase = np.mod(z - p.z_base, pitch)
    in_disc = np.abs(phase - pitch / 2.0) < 3.0
    body = np.broadcast_to(_cover(radial - r, edge), geom.shape)
    value = np.where(in_disc, HU_DISC, np.where(radial > r - 3.0, HU_BONE_CORTEX, HU_BONE_MARROW))
    _blend(vol, body, value)
    # Canal with cord, surrounded by the arch; spinous process behind it.
    cy = sy + r + 10.0
    arch_radial = np.sqrt((x - sx) ** 2 + (y - cy) ** 2)
    arch = np.broadcast_to(_cover(np.abs(arch_radial - 10.5) - 3.0, edge), geom.shape)
    _blend(vol, arch, 600.0)
    canal = np.broadcast_to(_cover(arch_radial - 7.5, edge), geom.shape)
    _blend(vol, canal, 25.0)
    spinous = np.maximum(np.abs(x - sx) - 3.5, np.abs(y - (cy + 22.0)) - 9.0)
    _blend(vol, np.broadcast_to(_cover(spinous, edge), geom.shape), 520.0)


def _paint_ribs(vol, geom, p: AnatomyParams, x, y, z, edge) -> None:
    bx, by = p.body_center
    a, b = p.body_axes
    inset = p.wall_mm - p.rib_radius - 1.5
    ea, eb = a - inset, b - inset
    u = (x - bx) / ea
    v = (y - by) / eb
    q = np.sqrt(u * u + v * v)
    radial_mm = (q - 1.0) * 0.5 * (ea + eb)
    sin_phi = np.divide(v, q, out=np.zeros(np.broadcast_shapes(u.shape, v.shape), dtype=np.float32), where=q > 1e-6)
    anteriority = (1.0 - sin_phi) / 2.0  # 0 at the back, 1 at the front
    shifted = z + p.rib_drop_mm * anteriority - p.z_base
    nearest = np.round(shifted / p.rib_pitch_mm) * p.rib_pitch_mm
    dz = shifted - nearest
    dist = np.sqrt((dz / 1.4) ** 2 + radial_mm**2)
    present = (anteriority < 0.86) & (np.abs(x - bx) > 18.0)
    frac = _cover(dist - p.rib_radius, edge) * present
    frac = frac * (z < p.z_apex + 10.0) * (z > p.z_base - 40.0)
    _blend(vol, frac.astype(np.float32), 680.0)


def _smooth_noise(rng: np.random.Generator, shape, sigma_mm: float, spacing) -> np.ndarray:
    """Zero-mean, unit-variance noise smoothed over ``sigma_mm`` (drawn on a grid twice as
    coarse and interpolated up: the smoothing hides the difference and it is 8x cheaper)."""
    from scipy.ndimage import gaussian_filter, zoom

    coarse = tuple(max(2, (n + 1) // 2) for n in shape)
    raw = rng.standard_normal(coarse).astype(np.float32)
    sm = gaussian_filter(raw, sigma=[sigma_mm / (2.0 * s) for s in spacing], mode="nearest")
    up = zoom(sm, [n / c for n, c in zip(shape, coarse, strict=True)], order=1, mode="nearest", grid_mode=False)
    up = up[: shape[0], : shape[1], : shape[2]]
    std = float(up.std()) or 1.0
    return (up - float(up.mean())) / std
