"""The submitted model's shape for this project, shared by the reference and learners.

``GlucoseForecaster`` wraps one regressor per horizon (predicting the change from the last
reading) as an MLflow pyfunc model; ``training_set`` builds the features and targets of one
horizon from blocks of readings.
"""

from __future__ import annotations

from collections.abc import Sequence

import mlflow.pyfunc
import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from .features import feature_names, forecast_features
from .forecasts import check_model_input, forecast_table, future_readings


def horizon_columns(horizon: int, horizons: Sequence[int]) -> list[str]:
    """The features of one horizon: the shared ones and that horizon's own ``*_next_<h>`` ones."""
    others = {f"{kind}_next_{h}" for h in horizons if h != horizon for kind in ("insulin", "carbs")}
    return [name for name in feature_names(horizons) if name not in others]


class GlucoseForecaster(mlflow.pyfunc.PythonModel):
    """One regressor per horizon on the change from the last reading; persistence-like fallbacks.

    ``regressors[h]`` predicts reading(t + h) - last reading(t) from ``forecast_features``.
    Before a patient's first reading the forecast is ``fallback_mg_dl``.
    """

    def __init__(self, regressors: dict[int, object], fallback_mg_dl: float, n_threads: int = 1) -> None:
        self.regressors = {int(h): r for h, r in regressors.items()}
        self.horizons = tuple(sorted(self.regressors))
        self.fallback_mg_dl = float(fallback_mg_dl)
        self.n_threads = int(n_threads)

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        frame = check_model_input(model_input)
        features = forecast_features(frame, self.horizons)
        last = features["glucose"].to_numpy()
        out = {}
        with threadpool_limits(self.n_threads):
            for h, regressor in self.regressors.items():
                change = regressor.predict(features[horizon_columns(h, self.horizons)])
                out[h] = np.where(np.isnan(last), self.fallback_mg_dl, last + change)
        return forecast_table(frame, out)


def training_set(frames: Sequence[pd.DataFrame], horizon: int, horizons: Sequence[int]) -> tuple[pd.DataFrame, np.ndarray]:
    """Features and targets (change over ``horizon``) of every row with a last reading and a target reading."""
    xs, ys = [], []
    for frame in frames:
        frame = check_model_input(frame)
        features = forecast_features(frame, horizons)
        change = future_readings(frame, horizon) - features["glucose"].to_numpy()
        keep = np.isfinite(change)
        xs.append(features.loc[keep, horizon_columns(horizon, horizons)])
        ys.append(change[keep])
    return pd.concat(xs, ignore_index=True), np.concatenate(ys)
