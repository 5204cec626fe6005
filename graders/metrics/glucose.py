"""Glucose-forecast metrics: RMSE/MAE (overall and per patient) and the Clarke error grid.

All functions are pure, take array-likes in mg/dL and never modify their inputs.
Missing values are the caller's business: NaN or infinite inputs raise ``ValueError``
(drop gaps in the reference trace before scoring).

Clarke error grid: Clarke WL, Cox D, Gonder-Frederick LA, Carter W, Pohl SL.
"Evaluating clinical accuracy of systems for self-monitoring of blood glucose."
Diabetes Care 1987;10(5):622-628. Zone boundaries (reference x, prediction y, mg/dL):

- A: both <= 70 (hypoglycaemia agreed), or y within 20 % of x (0.8x <= y <= 1.2x);
- E: x <= 70 and y >= 180, or x >= 180 and y <= 70 (opposite treatment);
- C: 70 <= x <= 290 and y >= x + 110 (upper), or 130 <= x <= 180 and y <= 7/5 x - 182 (lower);
- D: x >= 240 and 70 <= y <= 180 (right), or x <= 175/3 and 70 <= y <= 180, or
  175/3 <= x <= 70 and y >= 6/5 x (left: hypoglycaemia missed);
- B: everything else (benign errors).

Boundaries are closed and tested in the order A, E, C, D, B, the convention of the widely
used reference implementations; a point exactly on a line takes the first zone that
contains it (so ``y == 1.2 x`` is A, ``y == x + 110`` at x = 100 is C).

"Exactly on a line" is decided without float rounding: each sloped line is written with
integer coefficients (``5y <= 7x - 910`` for the lower C line, ``3x <= 175`` for x <= 175/3)
and evaluated in floating point only where the result is clearly away from zero; points
within a few ulps of a line are decided in rational arithmetic on the values as written
(the shortest decimal that gives each float back), so (140, 14) is on the line y = 7/5 x - 182
whatever ``1.4 * 140`` rounds to. Away from the lines the zones are those of plain floats.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import ArrayLike, NDArray

ZONES: tuple[str, ...] = ("A", "B", "C", "D", "E")


def _pair(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    t = np.asarray(y_true, dtype=np.float64).ravel()
    p = np.asarray(y_pred, dtype=np.float64).ravel()
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred differ in length: {t.size} != {p.size}")
    if t.size == 0:
        raise ValueError("no values to score")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(p))):
        raise ValueError("NaN or infinite values; drop missing samples before scoring")
    return t, p


def rmse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Root mean squared error (same unit as the inputs)."""
    t, p = _pair(y_true, y_pred)
    return float(np.sqrt(np.mean((p - t) ** 2)))


def mae(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute error (same unit as the inputs)."""
    t, p = _pair(y_true, y_pred)
    return float(np.mean(np.abs(p - t)))


def mard(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute relative difference in percent of the reference (reference must be > 0)."""
    t, p = _pair(y_true, y_pred)
    if np.any(t <= 0):
        raise ValueError("MARD needs strictly positive reference values")
    return float(100.0 * np.mean(np.abs(p - t) / t))


@dataclass(frozen=True)
class PatientError:
    patient_id: str
    n: int
    rmse: float
    mae: float


@dataclass(frozen=True)
class GlucoseErrorSummary:
    """Overall errors (pooled over all samples) and the per-patient breakdown."""

    n: int
    rmse: float
    mae: float
    mean_patient_rmse: float
    patients: tuple[PatientError, ...]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def per_patient_errors(y_true: ArrayLike, y_pred: ArrayLike, patient_ids: ArrayLike) -> tuple[PatientError, ...]:
    """RMSE and MAE of every patient, sorted by patient id."""
    t, p = _pair(y_true, y_pred)
    ids = np.asarray(patient_ids).ravel().astype(str)
    if ids.shape != t.shape:
        raise ValueError(f"patient_ids has {ids.size} entries for {t.size} values")
    keys, inverse = np.unique(ids, return_inverse=True)
    counts = np.bincount(inverse, minlength=keys.size)
    sq = np.bincount(inverse, weights=(p - t) ** 2, minlength=keys.size)
    ab = np.bincount(inverse, weights=np.abs(p - t), minlength=keys.size)
    return tuple(
        PatientError(str(k), int(n), float(np.sqrt(s / n)), float(a / n))
        for k, n, s, a in zip(keys, counts, sq, ab, strict=True)
    )


def glucose_error_summary(y_true: ArrayLike, y_pred: ArrayLike, patient_ids: ArrayLike) -> GlucoseErrorSummary:
    """Pooled RMSE/MAE plus per-patient values and their mean (each patient weighs the same)."""
    patients = per_patient_errors(y_true, y_pred, patient_ids)
    return GlucoseErrorSummary(
        n=sum(p.n for p in patients),
        rmse=rmse(y_true, y_pred),
        mae=mae(y_true, y_pred),
        mean_patient_rmse=float(np.mean([p.rmse for p in patients])),
        patients=patients,
    )


def clarke_zones(reference: ArrayLike, predicted: ArrayLike) -> NDArray[np.str_]:
    """Clarke error grid zone ('A'..'E') of every (reference, predicted) pair, in mg/dL (lines exact)."""
    x, y = _pair(reference, predicted)
    if np.any(x < 0) or np.any(y < 0):
        raise ValueError("glucose values must be non-negative (mg/dL)")

    def at_least(a: int, b: int, c: int) -> NDArray[np.bool_]:
        """a*y + b*x + c >= 0, exactly."""
        return _linear_sign(x, y, a, b, c) >= 0

    zone_a = ((x <= 70) & (y <= 70)) | (at_least(5, -4, 0) & at_least(-5, 6, 0))  # 0.8x <= y <= 1.2x
    zone_e = ((x >= 180) & (y <= 70)) | ((x <= 70) & (y >= 180))
    zone_c = ((x >= 70) & (x <= 290) & at_least(1, -1, -110)) | (  # y >= x + 110
        (x >= 130) & (x <= 180) & at_least(-5, 7, -910)  # y <= 7/5 x - 182
    )
    left = _linear_sign(x, y, 0, 3, -175)  # sign of 3x - 175: x against 175/3
    zone_d = (
        ((x >= 240) & (y >= 70) & (y <= 180))
        | ((left <= 0) & (y >= 70) & (y <= 180))
        | ((left >= 0) & (x <= 70) & at_least(5, -6, 0))  # y >= 6/5 x
    )
    return np.select([zone_a, zone_e, zone_c, zone_d], ["A", "E", "C", "D"], default="B")


# Relative error bound of a*y + b*x + c in floats, with room for the gap between a float and its
# shortest decimal (half an ulp each): far above the few ulps the three roundings can add up to.
_FILTER = 16 * np.finfo(np.float64).eps


def _linear_sign(x: NDArray[np.float64], y: NDArray[np.float64], a: int, b: int, c: int) -> NDArray[np.int8]:
    """The exact sign of a*y + b*x + c for the values as written (float filter, rational fallback)."""
    value = a * y + b * x + c
    bound = _FILTER * (np.abs(a * y) + np.abs(b * x) + abs(c))
    sign = np.sign(value).astype(np.int8)
    for i in np.flatnonzero(np.abs(value) <= bound):
        exact = a * _as_written(y[i]) + b * _as_written(x[i]) + c
        sign[i] = (exact > 0) - (exact < 0)
    return sign


def _as_written(value: np.float64) -> Fraction:
    return Fraction(repr(float(value)))


def clarke_zone_percentages(reference: ArrayLike, predicted: ArrayLike) -> dict[str, float]:
    """Percentage of pairs in each Clarke zone; the five values sum to 100."""
    zones = clarke_zones(reference, predicted)
    return {z: float(100.0 * np.mean(zones == z)) for z in ZONES}
