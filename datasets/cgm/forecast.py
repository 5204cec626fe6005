"""Reference forecasts on CGM traces, used to calibrate the generator (not the grader's metrics)."""

from __future__ import annotations

import numpy as np

from .sensor import SAMPLE_MIN


def persistence_errors(readings: np.ndarray, horizon_min: int = 30) -> np.ndarray:
    """Errors of the "last value" forecast at ``horizon_min`` for every pair of present samples.

    ``readings`` has shape (n_samples, n_patients) on the 5-minute grid, NaN in gaps.
    """
    if horizon_min % SAMPLE_MIN:
        raise ValueError(f"horizon must be a multiple of {SAMPLE_MIN} minutes")
    lag = horizon_min // SAMPLE_MIN
    now, later = readings[:-lag], readings[lag:]
    ok = ~(np.isnan(now) | np.isnan(later))
    return (later - now)[ok]


def persistence_rmse(readings: np.ndarray, horizon_min: int = 30) -> float:
    """RMSE (mg/dl) of the persistence forecast pooled over patients and times."""
    errors = persistence_errors(readings, horizon_min)
    return float(np.sqrt(np.mean(errors**2)))
