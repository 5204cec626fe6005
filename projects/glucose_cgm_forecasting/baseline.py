"""The naive baseline: persistence (the last observed reading is the forecast at every horizon).

It is the forecast the grader reports beside every submission, so it scores
``rmse_vs_persistence_* == 1`` by construction and must miss the project's targets.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import mlflow.pyfunc
import numpy as np
import pandas as pd

from .forecasts import cgm_dir, check_model_input, forecast_table, horizons_of, last_observed, pip_requirements


class PersistenceForecaster(mlflow.pyfunc.PythonModel):
    """Forecast = the patient's last reading at or before the origin; ``fallback_mg_dl`` before any reading."""

    def __init__(self, fallback_mg_dl: float, horizons: Sequence[int] = (30, 60)) -> None:
        self.fallback_mg_dl = float(fallback_mg_dl)
        self.horizons = horizons_of(horizons)

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        frame = check_model_input(model_input)
        last = last_observed(frame)
        value = np.where(np.isnan(last), self.fallback_mg_dl, last)
        return forecast_table(frame, {h: value for h in self.horizons})


def build_baseline(public_dir: Path, horizons: Sequence[int] = (30, 60)) -> PersistenceForecaster:
    """The persistence forecaster; its fallback is the mean reading of the public training block."""
    readings = pd.read_csv(cgm_dir(public_dir) / "train_cgm.csv", usecols=["glucose_mg_dl"])
    return PersistenceForecaster(float(readings["glucose_mg_dl"].mean()), horizons)


def save_baseline(public_dir: Path, path: Path) -> Path:
    mlflow.pyfunc.save_model(str(path), python_model=build_baseline(public_dir), pip_requirements=pip_requirements())
    return Path(path)
