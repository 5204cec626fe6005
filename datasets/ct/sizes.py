"""Build sizes: how many patients and how fine a grid for ``small`` and ``full`` builds."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .geometry import VolumeGeometry


@dataclass(frozen=True)
class BuildSize:
    """Cohort size and reconstruction grid ranges of one build size."""

    name: str
    n_patients: int
    second_study_share: float
    second_recon_share: float
    matrices: tuple[tuple[int, float, float], ...]  # (matrix, fov_min_mm, fov_max_mm)
    slice_thickness_mm: tuple[float, ...]
    coverage_mm: tuple[float, float]
    slices: tuple[int, int]
    # Patients drawn after the cohort for the imaging course's annotation practice: their series form a
    # split of their own whose reference annotations only the grader reads (no project grades on them).
    practice_patients: int = 0

    def to_json(self) -> dict:
        return asdict(self)


SIZES: dict[str, BuildSize] = {
    "small": BuildSize(
        name="small",
        n_patients=24,
        second_study_share=0.3,
        second_recon_share=0.25,
        matrices=((128, 300.0, 320.0), (160, 310.0, 380.0), (192, 345.0, 380.0)),
        slice_thickness_mm=(2.0, 2.5),
        coverage_mm=(200.0, 240.0),
        slices=(64, 96),
        practice_patients=2,
    ),
    "full": BuildSize(
        name="full",
        n_patients=32,
        second_study_share=0.3,
        second_recon_share=0.25,
        matrices=((256, 330.0, 380.0), (320, 350.0, 400.0)),
        slice_thickness_mm=(1.0, 1.25, 1.5),
        coverage_mm=(250.0, 300.0),
        slices=(160, 300),
        practice_patients=3,
    ),
}


def get_size(name: str) -> BuildSize:
    try:
        return SIZES[name]
    except KeyError:
        raise ValueError(f"unknown build size {name!r}; choose one of {', '.join(SIZES)}") from None


def sample_geometry(rng: np.random.Generator, size: BuildSize) -> VolumeGeometry:
    """A reconstruction grid as a scanner would export it (table offsets included)."""
    matrix, fov_lo, fov_hi = size.matrices[int(rng.integers(len(size.matrices)))]
    fov = float(rng.uniform(fov_lo, fov_hi))
    pixel = round(fov / matrix, 4)
    thickness = float(rng.choice(size.slice_thickness_mm))
    n_slices = int(np.clip(round(rng.uniform(*size.coverage_mm) / thickness), *size.slices))
    x0 = round(-pixel * matrix / 2.0 + rng.normal(0.0, 6.0), 3)
    y0 = round(-pixel * matrix / 2.0 - rng.uniform(0.0, 35.0), 3)
    z0 = round(float(rng.uniform(-420.0, -120.0)), 2)
    return VolumeGeometry(shape=(n_slices, matrix, matrix), spacing=(thickness, pixel, pixel), origin=(x0, y0, z0))
