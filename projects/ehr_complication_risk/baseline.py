"""Naive baseline: the retinopathy risk from glycaemic control alone.

A one-feature logistic regression on each patient's mean HbA1c before the index date - the
number a busy clinic looks at first. It is calibrated on average (it predicts the training
prevalence for a typical HbA1c) but ignores diabetes duration, blood pressure and
albuminuria, so it ranks patients poorly.
"""

from __future__ import annotations

from pathlib import Path

from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from .model import LABEL, ComplicationRiskModel, training_data

BASELINE_FEATURES = ("hba1c_mean",)


def build_baseline(public_dir: Path, *, label: str = LABEL) -> ComplicationRiskModel:
    """Fit the HbA1c-only model on the public train + val splits."""
    x, y = training_data(public_dir, label)
    estimator = make_pipeline(SimpleImputer(strategy="median"), LogisticRegression())
    estimator.fit(x[list(BASELINE_FEATURES)], y)
    return ComplicationRiskModel(estimator, BASELINE_FEATURES, label)
