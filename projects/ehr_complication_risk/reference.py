"""Instructor reference: a logistic regression on the recognised risk factors of diabetic retinopathy.

Features (all from data dated at or before the index date, see ``features.py``): mean HbA1c
(DCCT 1993; UKPDS 33/35), log diabetes duration (WESDR, Klein et al. 1984), mean systolic blood
pressure and a hypertension diagnosis (UKPDS 38), diabetes type, mean LDL cholesterol, the
geometric mean of the urine albumin/creatinine ratio, current smoking and age. Missing values
get the training median, features are standardised, and an L2-penalised logistic regression
gives probabilities that are calibrated by construction on the training prevalence.

Trained on the public train and val splits together (patients whose label is defined).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from .model import LABEL, ComplicationRiskModel, training_data

REFERENCE_FEATURES = (
    "hba1c_mean",
    "log_duration",
    "sbp_mean",
    "dx_hypertension",
    "type1",
    "ldl_mean",
    "log_uacr_mean",
    "smoker_current",
    "age",
)


def make_estimator(*, max_iter: int = 1000, c: float = 1.0, seed: int = 0) -> Pipeline:
    """Median imputation, standardisation, L2 logistic regression."""
    return make_pipeline(
        SimpleImputer(strategy="median"),
        StandardScaler(),
        LogisticRegression(C=c, max_iter=max_iter, random_state=seed),
    )


def train_reference(
    public_dir: Path, *, max_iter: int = 1000, c: float = 1.0, seed: int = 0, label: str = LABEL
) -> ComplicationRiskModel:
    """Fit the reference on the public train + val splits; deterministic (lbfgs has no randomness)."""
    x, y = training_data(public_dir, label)
    estimator = make_estimator(max_iter=max_iter, c=c, seed=seed).fit(x[list(REFERENCE_FEATURES)], y)
    return ComplicationRiskModel(estimator, REFERENCE_FEATURES, label)


def odds_ratios(model: ComplicationRiskModel) -> pd.Series:
    """Odds ratio per one standard deviation of each feature (the fitted pipeline's coefficients)."""
    coef = model.estimator[-1].coef_.ravel()
    return pd.Series(np.exp(coef), index=list(model.features), name="odds_ratio_per_sd").sort_values(ascending=False)
