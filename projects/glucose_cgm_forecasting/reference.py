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
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from .forecasts import horizons_of, load_block, pip_requirements
from .model import GlucoseForecaster, training_set


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
