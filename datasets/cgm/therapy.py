"""Each virtual patient's insulin therapy: carbohydrate ratio and correction factor.

Found the way a clinician titrates them, but on the model itself: the carbohydrate ratio
is the grams of carbohydrate one unit covers when a 50 g meal with its bolus brings
plasma glucose back to basal 5 hours later (bisection on the bolus, all patients at
once); the correction factor is the deepest glucose drop within 6 hours of a 1 U bolus at rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import StepInputs, plasma_glucose, rk4_step
from .parameters import PMOL_PER_UNIT, BasalState, CohortParameters

TEST_MEAL_G = 50.0
HORIZON_MIN = 300


@dataclass(frozen=True)
class Therapy:
    carb_ratio_g_per_u: np.ndarray
    correction_mgdl_per_u: np.ndarray


def glucose_trace(
    p: CohortParameters, basal: BasalState, carbs_g: np.ndarray, bolus_u: np.ndarray, minutes: int = HORIZON_MIN
) -> np.ndarray:
    """Plasma glucose every minute (shape (minutes, n)) after ``carbs_g`` with ``bolus_u`` at time 0."""
    n = p.n
    s = basal.state.copy()
    trace = np.empty((minutes, n))
    ones = np.ones(n)
    meal = np.where(carbs_g > 0, carbs_g * 1000.0, TEST_MEAL_G * 1000.0)
    for t in range(minutes):
        u = StepInputs(
            carbs_mg_per_min=carbs_g * 1000.0 if t == 0 else np.zeros(n),
            insulin_pmol_per_kg_min=p.u_basal + (bolus_u * PMOL_PER_UNIT / p.BW if t == 0 else 0.0),
            hr_excess_bpm=np.zeros(n),
            meal_size_mg=meal,
            egp_factor=ones,
            sens_factor=ones,
        )
        s = rk4_step(s, p, basal, u)
        trace[t] = plasma_glucose(s, p)
    return trace


def titrate(p: CohortParameters, basal: BasalState, iterations: int = 14) -> Therapy:
    """Carbohydrate ratio and correction factor of every patient (vectorised bisection)."""
    n = p.n
    low, high = np.zeros(n), np.full(n, 40.0)
    meal = np.full(n, TEST_MEAL_G)
    for _ in range(iterations):
        mid = (low + high) / 2.0
        too_high = glucose_trace(p, basal, meal, mid)[-1] > p.Gb
        low = np.where(too_high, mid, low)
        high = np.where(too_high, high, mid)
    bolus = (low + high) / 2.0
    drop = p.Gb - glucose_trace(p, basal, np.zeros(n), np.ones(n), minutes=360).min(axis=0)
    return Therapy(
        carb_ratio_g_per_u=TEST_MEAL_G / np.maximum(bolus, 0.1),
        correction_mgdl_per_u=np.maximum(drop, 5.0),
    )
