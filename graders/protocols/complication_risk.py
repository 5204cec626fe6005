"""Complication-risk protocol: one probability per patient, scored by discrimination and calibration.

Reported: AUROC, AUPRC (average precision), Brier score, expected calibration error over
ten equal-width bins, and the prevalence (the AUPRC of a useless model). Patients whose
label is empty (the complication was already present at the index date) are not scored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..metrics.risk import average_precision, brier_score, calibration_bins, expected_calibration_error, roc_auc
from ..tables import Column, TableError, TableSpec, check_frame, read_table

PREDICTIONS = TableSpec((Column("patient_id", "text"), Column("probability", "probability")), key=("patient_id",))
CALIBRATION_BINS = 10


def truth_spec(label: str) -> TableSpec:
    return TableSpec((Column("patient_id", "text"), Column(label, "binary")), key=("patient_id",))


@dataclass(frozen=True)
class RiskEvaluation:
    label: str
    n_patients: int
    n_positive: int
    auroc: float
    auprc: float
    brier: float
    ece: float
    calibration: dict[str, list[float]]
    # Scored (outcome, probability) pairs for the plots; not part of the JSON.
    points: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False, compare=False)

    @property
    def prevalence(self) -> float:
        return self.n_positive / self.n_patients

    @property
    def metrics(self) -> dict[str, float]:
        return {"auroc": self.auroc, "auprc": self.auprc, "brier": self.brier, "ece": self.ece, "prevalence": self.prevalence}

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("points")
        return out | {"metrics": self.metrics}


def evaluate_risk(truth: pd.DataFrame, predictions: pd.DataFrame, *, label: str, source: str = "predictions", place: str = "row") -> RiskEvaluation:
    """Score checked predictions (``PREDICTIONS``) against checked outcomes (``truth_spec(label)``)."""
    known = set(truth["patient_id"])
    for index, pid in enumerate(predictions["patient_id"]):
        if pid not in known:
            raise TableError(source, f"patient {pid!r} is not in the evaluated cohort", line=int(predictions["_line"].iloc[index]), place=place)
    joined = truth.merge(predictions[["patient_id", "probability"]], on="patient_id", how="left")
    lacking = joined["probability"].isna().to_numpy()
    if lacking.any():
        raise TableError(
            source,
            f"no probability for patient {joined['patient_id'].iloc[int(np.flatnonzero(lacking)[0])]!r} "
            f"({int(lacking.sum())} of {len(joined)} patients missing)",
        )
    y = joined[label].to_numpy(dtype=bool)
    p = joined["probability"].to_numpy(dtype=np.float64)
    if y.all() or not y.any():
        raise ValueError(f"the outcomes of {label} have one class only: AUROC is undefined")
    bins = calibration_bins(y, p, n_bins=CALIBRATION_BINS)
    return RiskEvaluation(
        label=label,
        n_patients=len(y),
        n_positive=int(y.sum()),
        auroc=roc_auc(y, p),
        auprc=average_precision(y, p),
        brier=brier_score(y, p),
        ece=expected_calibration_error(y, p, n_bins=CALIBRATION_BINS),
        calibration={"prob_pred": list(bins.prob_pred), "prob_true": list(bins.prob_true), "counts": list(bins.counts)},
        points=(y, p),
    )


def evaluate_risk_files(*, truth: Path, predictions: Path, label: str | None = None) -> RiskEvaluation:
    """The CLI's verb. Without ``label`` the truth file must have exactly one column besides patient_id."""
    if label is None:
        header = [c for c in pd.read_csv(truth, nrows=0).columns if c != "patient_id"] if truth.is_file() else []
        if len(header) != 1:
            raise TableError(str(truth), f"name the outcome column with --label (columns besides patient_id: {', '.join(header) or 'none'})", line=1)
        label = header[0]
    outcomes = _defined(read_table(truth, _optional_label(label)), label)
    return evaluate_risk(outcomes, read_table(predictions, PREDICTIONS), label=label, source=str(predictions), place="line")


def _optional_label(label: str) -> TableSpec:
    return TableSpec((Column("patient_id", "text"), Column(label, "optional_number")), key=("patient_id",))


def _defined(outcomes: pd.DataFrame, label: str) -> pd.DataFrame:
    """Rows with a 0/1 label (empty = not at risk, not scored)."""
    defined = outcomes.dropna(subset=[label]).reset_index(drop=True)
    bad = np.flatnonzero(~defined[label].isin((0.0, 1.0)).to_numpy())
    if bad.size:
        raise TableError("outcomes", f"label {defined[label].iloc[int(bad[0])]} is not 0 or 1", line=int(defined["_line"].iloc[int(bad[0])]))
    return defined.assign(**{label: defined[label].astype(np.int64)})


# --- grading a model on the hidden test split -------------------------------------------


def _label(options: Mapping[str, Any]) -> str:
    label = options.get("label")
    if not label:
        raise ValueError("the project's evaluation options must name the outcome `label`")
    return str(label)


def model_inputs(public_dir: Path, hidden_dir: Path, options: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    """Every scored test patient, with the folder of the test split's tables (labels removed)."""
    label = _label(options)
    outcomes = _defined(read_table(hidden_dir / "ehr_risk" / "test_outcomes.csv", _optional_label(label)), label)
    ehr_dir = str(public_dir / "ehr_risk" / "test")
    return {"test": pd.DataFrame({"patient_id": outcomes["patient_id"].tolist(), "ehr_dir": ehr_dir})}


def score_predictions(
    outputs: Mapping[str, object], *, inputs: Mapping[str, pd.DataFrame], hidden_dir: Path, options: Mapping[str, Any]
) -> RiskEvaluation:
    label = _label(options)
    outcomes = _defined(read_table(hidden_dir / "ehr_risk" / "test_outcomes.csv", _optional_label(label)), label)
    checked = check_frame(outputs["test"], PREDICTIONS, source="the model's predictions")
    return evaluate_risk(outcomes, checked, label=label, source="the model's predictions")
