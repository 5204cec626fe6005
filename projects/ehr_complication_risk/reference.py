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

import mlflow.pyfunc
import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from .features import features_for, labelled_features

LABEL = "retinopathy_5y"
DATASET = "ehr_risk"
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
TRAIN_SPLITS = ("train", "val")


class ComplicationRiskModel(mlflow.pyfunc.PythonModel):
    """MLflow pyfunc model: (patient_id, ehr_dir) rows in, (patient_id, probability) rows out.

    ``estimator`` is a fitted scikit-learn classifier with ``predict_proba`` over ``features``
    (columns of ``features.patient_features``).
    """

    def __init__(self, estimator: object, features: tuple[str, ...], label: str = LABEL) -> None:
        self.estimator = estimator
        self.features = tuple(features)
        self.label = label

    def predict_frame(self, model_input: pd.DataFrame) -> pd.DataFrame:
        x = features_for(model_input, notes=any(f.startswith("note") for f in self.features))
        probability = self.estimator.predict_proba(x[list(self.features)])[:, 1]
        probability = np.clip(np.nan_to_num(probability.astype(np.float64), nan=0.5), 0.0, 1.0)
        return pd.DataFrame({"patient_id": model_input["patient_id"].astype(str).to_numpy(), "probability": probability})

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        return self.predict_frame(pd.DataFrame(model_input))


def training_data(public_dir: Path, label: str = LABEL, splits: tuple[str, ...] = TRAIN_SPLITS) -> tuple[pd.DataFrame, pd.Series]:
    """Features and labels of the public splits' at-risk patients (``public_dir`` holds ``ehr_risk/``)."""
    parts = [labelled_features(Path(public_dir) / DATASET / split, label) for split in splits]
    return pd.concat([x for x, _ in parts]), pd.concat([y for _, y in parts])


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
