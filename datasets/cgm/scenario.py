"""Daily life of the virtual patients: meals, boluses, exercise, and how well they self-manage.

All choices here are ours (no published distribution is copied); they are set so the
traces look like free-living type-1 data: three meals with snacks at irregular times,
carbohydrate counting errors, late or forgotten boluses, corrections of highs,
treatment of lows, a dawn phenomenon and slow day-to-day changes in insulin sensitivity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Event kinds of a plan (int codes so plans are plain arrays).
MEAL, MEAL_BOLUS, EXERCISE_START, EXERCISE_END = 0, 1, 2, 3

# (name, mean start in minutes after midnight, sd of start, median grams, probability of eating)
MEALS = (
    ("breakfast", 7.5 * 60, 45.0, 45.0, 0.85),
    ("lunch", 12.75 * 60, 45.0, 65.0, 0.95),
    ("snack", 16.0 * 60, 60.0, 20.0, 0.45),
    ("dinner", 19.0 * 60, 50.0, 75.0, 0.97),
    ("late snack", 21.75 * 60, 40.0, 20.0, 0.30),
)


@dataclass(frozen=True)
class Behaviour:
    """How each patient lives and manages their diabetes (arrays of shape (n,))."""

    appetite: np.ndarray  # multiplier on meal sizes
    carb_error_sd: np.ndarray  # sd of the log carb-count error
    bolus_delay_min: np.ndarray  # mean delay of the meal bolus after the meal (negative: pre-bolus)
    miss_bolus_prob: np.ndarray
    exercise_prob: np.ndarray  # probability of an exercise session on a given day
    dawn_amplitude: np.ndarray  # relative rise of kp1 around 06:00
    cr_setting: np.ndarray  # the patient's carbohydrate-ratio setting / the model's true one
    cf_setting: np.ndarray  # the patient's correction-factor setting / the model's true one
    correction_prob: np.ndarray  # probability of correcting a high between meals
    sensitivity_sd: np.ndarray  # sd of the slow log insulin-sensitivity process

    @staticmethod
    def sample(rng: np.random.Generator, n: int, control: np.ndarray | None = None) -> Behaviour:
        """``control``: a standardised score per patient, higher meaning worse glycaemic control."""
        z = np.zeros(n) if control is None else np.asarray(control, dtype=np.float64)
        return Behaviour(
            appetite=rng.lognormal(0.0, 0.2, n),
            carb_error_sd=np.clip(rng.uniform(0.10, 0.35, n) + 0.04 * z, 0.05, 0.6),
            bolus_delay_min=rng.uniform(-15.0, 20.0, n) + 4.0 * z,
            miss_bolus_prob=np.clip(rng.uniform(0.02, 0.10, n) + 0.03 * z, 0.01, 0.3),
            exercise_prob=rng.uniform(0.05, 0.45, n),
            dawn_amplitude=rng.uniform(0.0, 0.25, n),
            cr_setting=rng.lognormal(0.05 + 0.10 * z, 0.10),
            cf_setting=rng.lognormal(0.0, 0.15, n),
            correction_prob=rng.uniform(0.3, 0.8, n),
            sensitivity_sd=rng.uniform(0.10, 0.25, n),
        )


@dataclass(frozen=True)
class EventPlan:
    """Planned events sorted by minute: kind codes, patient index, amount, second amount."""

    minute: np.ndarray
    patient: np.ndarray
    kind: np.ndarray
    amount: np.ndarray  # grams (meal, bolus estimate), bpm (exercise start)
    extra: np.ndarray  # meal: estimated grams; exercise: duration in minutes

    def slice_bounds(self, total_minutes: int) -> np.ndarray:
        """Index bounds so that events of minute t are [bounds[t], bounds[t + 1])."""
        return np.searchsorted(self.minute, np.arange(total_minutes + 1), side="left")


def plan_events(rng: np.random.Generator, behaviour: Behaviour, days: int) -> EventPlan:
    """Meals with their (possibly late, wrong or missing) boluses and exercise sessions."""
    n = behaviour.appetite.size
    rows: list[tuple[int, int, int, float, float]] = []
    total = days * 1440
    for j in range(n):
        for day in range(days):
            base = day * 1440
            for _name, mean_start, sd_start, grams, p_eat in MEALS:
                if rng.random() > p_eat:
                    continue
                start = base + int(rng.normal(mean_start, sd_start))
                size = float(np.clip(grams * behaviour.appetite[j] * rng.lognormal(0.0, 0.25), 8.0, 180.0))
                estimate = float(size * rng.lognormal(0.0, behaviour.carb_error_sd[j]))
                rows.append((start, j, MEAL, size, round(estimate)))
                if rng.random() > behaviour.miss_bolus_prob[j]:
                    delay = int(rng.normal(behaviour.bolus_delay_min[j], 10.0))
                    rows.append((start + delay, j, MEAL_BOLUS, round(estimate), 0.0))
            if rng.random() < behaviour.exercise_prob[j]:
                start = base + int(rng.choice([6.75 * 60, 17.5 * 60]) + rng.normal(0.0, 60.0))
                duration = int(rng.uniform(25.0, 75.0))
                rows.append((start, j, EXERCISE_START, float(rng.uniform(25.0, 60.0)), float(duration)))
                rows.append((start + duration, j, EXERCISE_END, 0.0, 0.0))
    plan = np.array([r for r in rows if 0 <= r[0] < total], dtype=np.float64).reshape(-1, 5)
    order = np.lexsort((plan[:, 2], plan[:, 0]))
    plan = plan[order]
    return EventPlan(
        minute=plan[:, 0].astype(np.int64),
        patient=plan[:, 1].astype(np.int64),
        kind=plan[:, 2].astype(np.int64),
        amount=plan[:, 3],
        extra=plan[:, 4],
    )


def sensitivity_process(rng: np.random.Generator, sd: np.ndarray, n_samples: int, step_min: int) -> np.ndarray:
    """exp of an Ornstein-Uhlenbeck process (time constant 12 h), one value per sample."""
    tau = 12 * 60.0
    phi = np.exp(-step_min / tau)
    z = np.empty((n_samples, sd.size))
    z[0] = rng.normal(0.0, 1.0, sd.size)
    shocks = rng.normal(0.0, np.sqrt(1.0 - phi**2), (n_samples, sd.size))
    for k in range(1, n_samples):
        z[k] = phi * z[k - 1] + shocks[k]
    return np.exp(sd * z - sd**2 / 2.0)


def dawn_factor(minute_of_day: int, amplitude: np.ndarray) -> np.ndarray:
    """Multiplier on kp1: a smooth bump between 03:00 and 09:00 peaking at 06:00."""
    hours = minute_of_day / 60.0
    bump = np.sin(np.pi * (hours - 3.0) / 6.0) ** 2 if 3.0 <= hours <= 9.0 else 0.0
    return 1.0 + amplitude * bump
