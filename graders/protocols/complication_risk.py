"""Complication-risk protocol: one probability per patient, scored by discrimination and calibration.

Reported: AUROC, AUPRC (average precision), Brier score, expected calibration error over
ten equal-width bins, and the prevalence (the AUPRC of a useless model). Patients whose
label is empty (the complication was already present at the index date) are not scored.

What crosses to the model, and why it tells nothing about the labels:

* Ids and count: every patient of the public test split (its ``outcomes.csv`` cohort list, the
  same patients as its other tables), not only the scored ones: listing the scored patients
  would tell the model which test patients already had the complication at the index date,
  a label-derived fact. The model must give a probability to every one of them (so a refusal
  never names a patient because they are scored); only those with a defined label are scored.
* Order: shuffled with the grader's ``rng`` per grading (the files' order is not a signal the
  grader vouches for); the scoring does not depend on it.
* ``ehr_dir``: the public test folder, the same on every row.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..metrics.risk import average_precision, brier_score, calibration_bins, expected_calibration_error, roc_auc
from ..tables import Column, TableError, TableSpec, check_frame, read_table

PREDICTIONS = TableSpec((Column("patient_id", "text"), Column("probability", "probability")), key=("patient_id",))
# The public test split's cohort list (``outcomes.csv`` without labels): who the model predicts for.
COHORT = TableSpec((Column("patient_id", "text"),), key=("patient_id",))
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


def evaluate_risk(
    truth: pd.DataFrame,
    predictions: pd.DataFrame,
    *,
    label: str,
    cohort: Sequence[str] | None = None,
    source: str = "predictions",
    place: str = "row",
) -> RiskEvaluation:
    """Score checked predictions (``PREDICTIONS``) against checked outcomes (``truth_spec(label)``).

    ``cohort`` (default: the patients of ``truth``) are the patients predictions may name, and
    must all cover; only the patients of ``truth`` are scored (they must be in the cohort).
    """
    scored = truth["patient_id"].tolist()
    required = scored if cohort is None else list(cohort)
    known = set(required)
    outside = [pid for pid in scored if pid not in known]
    if outside:
        raise ValueError(f"{len(outside)} scored patients are not in the cohort, e.g. {outside[0]!r}")
    for index, pid in enumerate(predictions["patient_id"]):
        if pid not in known:
            raise TableError(source, f"patient {pid!r} is not in the evaluated cohort", line=int(predictions["_line"].iloc[index]), place=place)
    given = set(predictions["patient_id"])
    lacking = [pid for pid in required if pid not in given]
    if lacking:
        raise TableError(source, f"no probability for patient {lacking[0]!r} ({len(lacking)} of {len(required)} patients missing)")
    joined = truth.merge(predictions[["patient_id", "probability"]], on="patient_id", how="left")
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


def model_inputs(
    public_dir: Path, hidden_dir: Path, options: Mapping[str, Any], *, rng: random.Random
) -> dict[str, pd.DataFrame]:
    """Every patient of the public test split, in random order, with the folder of its tables (no labels)."""
    _label(options)
    test_dir = public_dir / "ehr_risk" / "test"
    patients = read_table(test_dir / "outcomes.csv", COHORT)["patient_id"].tolist()
    rng.shuffle(patients)
    return {"test": pd.DataFrame({"patient_id": patients, "ehr_dir": str(test_dir)})}


def max_output_rows(name: str, model_input: pd.DataFrame, options: Mapping[str, Any]) -> int:
    """One probability per input patient."""
    return len(model_input)


def score_predictions(
    outputs: Mapping[str, object], *, inputs: Mapping[str, pd.DataFrame], hidden_dir: Path, options: Mapping[str, Any]
) -> RiskEvaluation:
    """Every input patient needs a probability; those whose label is defined are scored."""
    label = _label(options)
    source = "the model's predictions"
    if "test" not in outputs:
        raise TableError(source, "no output for the input")
    cohort = inputs["test"]["patient_id"].astype(str).tolist()
    outcomes = _defined(read_table(hidden_dir / "ehr_risk" / "test_outcomes.csv", _optional_label(label)), label)
    checked = check_frame(outputs["test"], PREDICTIONS, source=source, max_rows=len(cohort))
    return evaluate_risk(outcomes, checked, label=label, cohort=cohort, source=source)
