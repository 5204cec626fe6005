"""Simulate a cohort of type-1 patients minute by minute and read them with a CGM every 5 minutes.

All patients advance together (numpy arrays over patients, classical RK4 with a 1-minute
step and inputs held over the step). Decisions that depend on glucose - the size of
a meal bolus with its correction, treating a low, correcting a high - are taken inside
the loop from the CGM reading the patient sees (a finger-stick, i.e. plasma glucose,
while the sensor is warming up or has dropped out).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from .model import StepInputs, plasma_glucose, rk4_step
from .parameters import GS, PMOL_PER_UNIT, QSTO1, QSTO2, CohortParameters, basal_state, sample_cohort
from .scenario import (
    EXERCISE_END,
    EXERCISE_START,
    MEAL,
    MEAL_BOLUS,
    Behaviour,
    dawn_factor,
    plan_events,
    sensitivity_process,
)
from .sensor import SAMPLE_MIN, sensor_error
from .therapy import Therapy, titrate

TARGET_MGDL = 120.0
CORRECT_ABOVE_AT_MEAL = 160.0
CORRECT_ABOVE_BETWEEN_MEALS = 250.0
TREAT_BELOW = 70.0


@dataclass(frozen=True)
class LoggedEvent:
    patient: int
    minute: int
    kind: str  # meal | bolus | correction_bolus | rescue_carbs | exercise
    value: float
    unit: str


@dataclass(frozen=True)
class CGMSimulation:
    """Traces on the 5-minute grid (shape (n_samples, n_patients)) and the patients' logbook."""

    days: int
    params: CohortParameters
    therapy: Therapy
    behaviour: Behaviour
    plasma_glucose: np.ndarray
    readings: np.ndarray  # CGM values, NaN in gaps
    events: tuple[LoggedEvent, ...]

    @property
    def n_patients(self) -> int:
        return self.params.n

    def basal_units_per_hour(self) -> np.ndarray:
        return self.params.u_basal * self.params.BW * 60.0 / PMOL_PER_UNIT

    def mean_glucose(self) -> np.ndarray:
        return self.plasma_glucose.mean(axis=0)


def simulate_cohort(
    rng: np.random.Generator,
    body_weight_kg: np.ndarray,
    days: int,
    *,
    control: np.ndarray | None = None,
    progress: bool = True,
) -> CGMSimulation:
    """Simulate ``days`` of free living for one patient per body weight.

    ``control`` (optional, one standardised score per patient, higher = worse) shifts
    self-management: under-dosed carbohydrate ratios, more missed and later boluses.
    """
    params = sample_cohort(rng, body_weight_kg)
    basal = basal_state(params)
    therapy = titrate(params, basal)
    behaviour = Behaviour.sample(rng, params.n, control)
    plan = plan_events(rng, behaviour, days)
    n = params.n
    total = days * 1440
    n_samples = total // SAMPLE_MIN
    sensor = sensor_error(rng, n_samples, n)
    sensitivity = sensitivity_process(rng, behaviour.sensitivity_sd, n_samples, SAMPLE_MIN)
    bounds = plan.slice_bounds(total)
    carb_ratio = therapy.carb_ratio_g_per_u * behaviour.cr_setting
    correction = therapy.correction_mgdl_per_u * behaviour.cf_setting
    to_rate = PMOL_PER_UNIT / params.BW

    state = basal.state.copy()
    meal_size = np.full(n, 50_000.0)
    hr = np.zeros(n)
    last_bolus = np.full(n, -10_000)
    last_rescue = np.full(n, -10_000)
    seen = params.Gb.copy()  # the last glucose value the patient knows
    pending_carbs = np.zeros(n)
    pending_insulin = np.zeros(n)
    glucose_out = np.empty((n_samples, n))
    readings_out = np.empty((n_samples, n))
    log: list[LoggedEvent] = []

    bar = tqdm(total=days, desc=f"CGM ({n} patients)", unit="day", disable=not progress, leave=False)
    for t in range(total):
        carbs = pending_carbs
        insulin = params.u_basal + pending_insulin
        pending_carbs = np.zeros(n)
        pending_insulin = np.zeros(n)
        for e in range(bounds[t], bounds[t + 1]):
            j, kind, amount = int(plan.patient[e]), int(plan.kind[e]), float(plan.amount[e])
            if kind == MEAL:
                carbs[j] += amount * 1000.0
                meal_size[j] = amount * 1000.0
                log.append(LoggedEvent(j, t, "meal", float(plan.extra[e]), "g"))
            elif kind == MEAL_BOLUS:
                dose = amount / carb_ratio[j]
                if seen[j] > CORRECT_ABOVE_AT_MEAL:
                    dose += (seen[j] - TARGET_MGDL) / correction[j]
                dose = round(dose * 2.0) / 2.0  # pens and pumps dose in half units here
                if dose > 0:
                    insulin[j] += dose * to_rate[j]
                    last_bolus[j] = t
                    log.append(LoggedEvent(j, t, "bolus", dose, "U"))
            elif kind == EXERCISE_START:
                hr[j] = amount
                log.append(LoggedEvent(j, t, "exercise", float(plan.extra[e]), "min"))
            elif kind == EXERCISE_END:
                hr[j] = 0.0
        k = t // SAMPLE_MIN
        u = StepInputs(
            carbs_mg_per_min=carbs,
            insulin_pmol_per_kg_min=insulin,
            hr_excess_bpm=hr,
            meal_size_mg=meal_size,
            egp_factor=dawn_factor(t % 1440, behaviour.dawn_amplitude),
            sens_factor=sensitivity[k],
        )
        state = rk4_step(state, params, basal, u)

        if (t + 1) % SAMPLE_MIN == 0:
            glucose = plasma_glucose(state, params)
            reading = sensor.read(k, state[GS])
            glucose_out[k] = glucose
            readings_out[k] = reading
            seen = np.where(np.isnan(reading), glucose, reading)
            # A low on the CGM is confirmed by a finger-stick before carbohydrates are taken.
            low = (seen < TREAT_BELOW) & (glucose < TREAT_BELOW + 10.0) & (t - last_rescue >= 20)
            low &= rng.random(n) < 0.9
            for j in np.flatnonzero(low):
                grams = float(rng.uniform(12.0, 25.0))
                pending_carbs[j] += grams * 1000.0
                meal_size[j] = max(meal_size[j], grams * 1000.0) if state[QSTO1, j] + state[QSTO2, j] > 1000 else grams * 1000.0
                last_rescue[j] = t
                log.append(LoggedEvent(int(j), t + 1, "rescue_carbs", round(grams), "g"))
            if (t + 1) % 60 == 0:
                high = (seen > CORRECT_ABOVE_BETWEEN_MEALS) & (t - last_bolus >= 180)
                high &= rng.random(n) < behaviour.correction_prob
                for j in np.flatnonzero(high):
                    dose = round((seen[j] - TARGET_MGDL) / correction[j] * 2.0) / 2.0
                    if dose > 0:
                        pending_insulin[j] += dose * to_rate[j]
                        last_bolus[j] = t
                        log.append(LoggedEvent(int(j), t + 1, "correction_bolus", dose, "U"))
        if (t + 1) % 1440 == 0:
            bar.update(1)
    bar.close()
    log.sort(key=lambda e: (e.patient, e.minute))
    return CGMSimulation(
        days=days,
        params=params,
        therapy=therapy,
        behaviour=behaviour,
        plasma_glucose=glucose_out,
        readings=readings_out,
        events=tuple(log),
    )
