"""Findings planted in the lungs: nodules (the targets) and LUNA16-style excluded findings.

Nodules are solid, part-solid, ground-glass or calcified, 3-30 mm, isolated or attached
to the pleura or to a vessel. Their annotated diameter is the diameter of the sphere of
equal volume, their centre the centre of that shape, both in world millimetres, as in
LUNA16's ``annotations.csv``. Excluded findings follow ``annotations_excluded.csv``:
nodules under 3 mm (with their diameter) and non-nodules (diameter -1), which an
evaluation ignores rather than counting as hits or false positives.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .geometry import VolumeGeometry

NODULE_KINDS = ("solid", "part_solid", "ground_glass", "calcified")
ATTACHMENTS = ("isolated", "juxtapleural", "juxtavascular")


@dataclass(frozen=True)
class Finding:
    """One planted finding: a nodule (``included``) or an excluded finding."""

    center: tuple[float, float, float]
    diameter_mm: float
    kind: str
    attachment: str
    included: bool
    hu: float
    axes: tuple[float, float, float]
    rotation: tuple[float, ...]
    lobulation: float
    phases: tuple[float, ...]

    @property
    def annotation_diameter(self) -> float:
        """The diameter written to the CSV: -1 for non-nodules, as LUNA16 does."""
        return -1.0 if self.kind == "non_nodule" else round(self.diameter_mm, 2)

    def to_json(self) -> dict:
        return asdict(self)


def _random_rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((3, 3)))
    return q * np.sign(np.diag(r))


def make_finding(
    rng: np.random.Generator,
    center: np.ndarray,
    diameter: float,
    kind: str,
    attachment: str,
    *,
    included: bool,
    ggo_contrast: float,
) -> Finding:
    """Shape and density of a finding at ``center``; axes keep the volume of a ``diameter`` sphere."""
    if kind == "non_nodule":
        elong = rng.uniform(2.5, 4.0)
        axes = np.array([elong, 1.0 / np.sqrt(elong), 1.0 / np.sqrt(elong)])
        hu = rng.uniform(-350.0, -150.0)
        lob = 0.0
    else:
        axes = rng.uniform(0.85, 1.18, size=3)
        axes = axes / np.prod(axes) ** (1.0 / 3.0)
        lob = rng.uniform(0.0, 0.14) if diameter > 6.0 else rng.uniform(0.0, 0.06)
        if kind == "ground_glass":
            hu = -860.0 + ggo_contrast * rng.uniform(0.8, 1.2)
        elif kind == "part_solid":
            hu = -860.0 + ggo_contrast * rng.uniform(0.9, 1.2)
        elif kind == "calcified":
            hu = rng.uniform(250.0, 600.0)
        else:
            hu = rng.uniform(-40.0, 60.0)
    rot = _random_rotation(rng)
    phases = tuple(float(v) for v in rng.uniform(0.0, 2.0 * np.pi, size=6))
    return Finding(
        center=tuple(float(v) for v in center),
        diameter_mm=float(diameter),
        kind=kind,
        attachment=attachment,
        included=included,
        hu=float(hu),
        axes=tuple(float(v) for v in axes),
        rotation=tuple(float(v) for v in rot.ravel()),
        lobulation=float(lob),
        phases=phases,
    )


def finding_occupancy(f: Finding, geom: VolumeGeometry) -> tuple[tuple[slice, slice, slice], np.ndarray] | None:
    """Box around the finding and the fraction of each voxel in it that the finding covers."""
    r = f.diameter_mm / 2.0
    reach = r * max(f.axes) * (1.0 + f.lobulation) + 2.0 * max(geom.spacing)
    c = np.asarray(f.center)
    box = geom.box(c - reach, c + reach)
    if box is None:
        return None
    x, y, z = geom.grid(box)
    rot = np.asarray(f.rotation).reshape(3, 3)
    dx, dy, dz = x - c[0], y - c[1], z - c[2]
    # Coordinates in the finding's own frame, scaled by its axes.
    u = (rot[0, 0] * dx + rot[1, 0] * dy + rot[2, 0] * dz) / f.axes[0]
    v = (rot[0, 1] * dx + rot[1, 1] * dy + rot[2, 1] * dz) / f.axes[1]
    w = (rot[0, 2] * dx + rot[1, 2] * dy + rot[2, 2] * dz) / f.axes[2]
    dist = np.sqrt(u * u + v * v + w * w)
    radius = np.full_like(dist, r)
    if f.lobulation > 0:
        n = np.maximum(dist, 1e-6)
        ph = f.phases
        bumps = np.sin(3.0 * u / n + ph[0]) * np.sin(3.0 * v / n + ph[1]) + np.sin(2.0 * w / n + ph[2]) * np.cos(4.0 * u / n + ph[3])
        radius = r * (1.0 + f.lobulation * 0.5 * bumps)
    edge = float(min(geom.spacing))
    frac = np.clip((radius - dist) / edge + 0.5, 0.0, 1.0).astype(np.float32)
    return box, frac


def paint_finding(volume: np.ndarray, geom: VolumeGeometry, f: Finding, rng: np.random.Generator) -> None:
    """Blend the finding into the volume, never darkening what is already brighter."""
    occ = finding_occupancy(f, geom)
    if occ is None:
        return
    box, frac = occ
    sub = volume[box]
    value = np.full(frac.shape, f.hu, dtype=np.float32)
    if f.kind in ("ground_glass", "part_solid"):
        value = value + rng.normal(0.0, 35.0, size=frac.shape).astype(np.float32)
    if f.kind == "part_solid":
        core = finding_occupancy(
            Finding(**{**asdict(f), "diameter_mm": f.diameter_mm * 0.45, "lobulation": 0.0, "kind": "solid"}), geom
        )
        if core is not None:
            cbox, cfrac = core
            # Core and outer boxes can differ at the grid's border; paint the core separately.
            csub = volume[cbox]
            np.maximum(csub, csub + cfrac * (np.float32(20.0) - csub), out=csub)
    mixed = sub + frac * (value - sub)
    np.maximum(sub, mixed, out=sub)
