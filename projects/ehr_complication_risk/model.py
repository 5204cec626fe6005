"""The submitted model's shape for this project, shared by the reference, the baseline and learners.

``ComplicationRiskModel`` wraps any fitted scikit-learn classifier as an MLflow pyfunc model;
``training_data`` gives the features and labels of the public splits.
"""

from __future__ import annotations

from pathlib import Path

import mlflow.pyfunc
import numpy as np
import pandas as pd

from .features import features_for, labelled_features

LABEL = "retinopathy_5y"
DATASET = "ehr_risk"
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
