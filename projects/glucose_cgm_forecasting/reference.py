"""Instructor reference: gradient-boosted trees on causal glucose, insulin and carbohydrate features.

For each horizon h the model predicts the change from the last reading to the reading h
minutes later from the recent glucose trend, insulin and carbohydrates on board (and the
part of them that will act within h minutes, known from doses logged so far), exercise and
the time of day (features.py). One ``HistGradientBoostingRegressor`` per horizon, trained on
the public train and val blocks, each built with the grader's ``model_frame``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import mlflow.pyfunc
import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from .features import feature_names, forecast_features
from .forecasts import check_model_input, forecast_table, future_readings, horizons_of, load_block, pip_requirements


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


def train_reference(
    public_dir: Path,
    *,
    max_iter: int = 200,
    learning_rate: float = 0.08,
    horizons: Sequence[int] = (30, 60),
    use_val: bool = True,
    max_rows: int | None = 200_000,
    n_threads: int = 1,
    seed: int = 0,
) -> GlucoseForecaster:
    """Train the reference on the public blocks (``public_dir``: the public root or its ``cgm`` folder).

    ``max_iter`` is the number of boosting rounds (the tests run a few dozen); ``use_val``
    adds the val block to the training data; ``max_rows`` caps the training rows per horizon
    (a seeded random subset: the small build has about 150,000, the full build five times more);
    ``n_threads`` caps OpenMP threads (1 is the fastest on a shared 2-core machine).
    Deterministic for a given ``seed``.
    """
    horizons = horizons_of(horizons)
    frames = [load_block(public_dir, "train")] + ([load_block(public_dir, "val")] if use_val else [])
    fallback = float(np.nanmean(np.concatenate([f["glucose_mg_dl"].to_numpy() for f in frames])))
    regressors = {}
    with threadpool_limits(n_threads):
        for h in horizons:
            x, y = training_set(frames, h, horizons)
            if max_rows is not None and len(y) > max_rows:
                keep = np.sort(np.random.default_rng(seed).choice(len(y), size=max_rows, replace=False))
                x, y = x.iloc[keep], y[keep]
            regressor = HistGradientBoostingRegressor(
                max_iter=max_iter,
                learning_rate=learning_rate,
                max_leaf_nodes=31,
                min_samples_leaf=40,
                l2_regularization=1.0,
                early_stopping=False,
                random_state=seed,
            )
            regressors[h] = regressor.fit(x, y)
    return GlucoseForecaster(regressors, fallback, n_threads=n_threads)


def save_reference(model: GlucoseForecaster, path: Path) -> Path:
    mlflow.pyfunc.save_model(str(path), python_model=model, pip_requirements=pip_requirements())
    return Path(path)


def timed_training(public_dir: Path, **options) -> tuple[GlucoseForecaster, float]:
    """The reference and its training time in seconds (data loading included)."""
    started = time.perf_counter()
    model = train_reference(public_dir, **options)
    return model, time.perf_counter() - started
