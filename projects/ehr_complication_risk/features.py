"""One row of features per patient from the EHR tables, using only what was recorded by the index date.

The index date is the moment the risk is predicted (the clinic visit at which the five-year
horizon starts). Every dated row (lab, vital sign, diagnosis, encounter, prescription,
device, note) is kept only if it is dated at or before that patient's index date, so a
model trained on these features cannot see the future, whatever the export contains.

Pure functions over pandas frames, shared by the reference solution, the baseline, the
starter notebook and the tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

TABLES = (
    "patients.csv", "encounters.csv", "diagnoses.csv", "labs.csv", "vitals.csv", "medications.csv", "devices.csv",
    "notes.csv",
)
LABELS = ("retinopathy_5y", "nephropathy_5y")

# Each dated table and the column that dates its rows.
DATE_COLUMNS = {
    "encounters.csv": "admit_date",
    "diagnoses.csv": "diagnosis_date",
    "labs.csv": "collected_at",
    "vitals.csv": "measured_at",
    "medications.csv": "start_date",
    "devices.csv": "start_date",
    "notes.csv": "note_date",
}

LAB_NAMES = {
    "HbA1c": "hba1c",
    "eGFR (CKD-EPI 2021)": "egfr",
    "Creatinine": "creatinine",
    "Urine albumin/creatinine ratio": "uacr",
    "LDL cholesterol": "ldl",
    "HDL cholesterol": "hdl",
    "Triglycerides": "triglycerides",
}
# ICD-10-CM code prefixes (https://www.icd10data.com): I10 essential hypertension, E78 lipid
# disorders, E66 obesity, N18 chronic kidney disease, E1x.65 diabetes with hyperglycaemia.
DIAGNOSIS_PREFIXES = {
    "hypertension": ("I10",),
    "hyperlipidemia": ("E78",),
    "obesity": ("E66",),
    "ckd": ("N18",),
    "hyperglycemia": ("E10.65", "E11.65"),
    "dka": ("E10.1", "E11.1"),
}
DRUG_GROUPS = {
    "insulin": ("insulin",),
    "metformin": ("metformin",),
    "sglt2": ("empagliflozin",),
    "glp1": ("semaglutide",),
    "statin": ("atorvastatin",),
    "ace_arb": ("lisinopril", "losartan"),
    "ccb": ("amlodipine",),
}
# Phrases looked for in the clinical notes (lower case).
NOTE_KEYWORDS = {
    "note_current_smoker": "current smoker",
    "note_eye_referral": "dilated retinal examination",
    "note_hyperglycemia_admission": "ketoacidosis",
}

STRUCTURED_FEATURES = (
    "age", "male", "type1", "duration_years", "log_duration", "smoker_current", "smoker_former",
    "hba1c_mean", "hba1c_last", "hba1c_max", "hba1c_n",
    "egfr_mean", "egfr_last", "creatinine_mean", "log_uacr_mean", "log_uacr_last", "uacr_measured",
    "ldl_mean", "hdl_mean", "log_triglycerides_mean",
    "sbp_mean", "sbp_last", "dbp_mean", "bmi_mean",
    *(f"dx_{name}" for name in DIAGNOSIS_PREFIXES),
    *(f"rx_{name}" for name in DRUG_GROUPS),
    "insulin_pump", "n_encounters", "n_inpatient",
)
NOTE_FEATURES = ("n_notes", *NOTE_KEYWORDS)


def read_tables(ehr_dir: Path | str, names: Iterable[str] = TABLES) -> dict[str, pd.DataFrame]:
    """The CSV tables of one split folder, every column as text (empty cells stay empty strings)."""
    folder = Path(ehr_dir)
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise FileNotFoundError(f"{folder} lacks {', '.join(missing)}")
    return {n: pd.read_csv(folder / n, dtype=str, keep_default_na=False) for n in names}


def read_outcomes(ehr_dir: Path | str) -> pd.DataFrame:
    """``outcomes.csv`` of a split, labels as floats (NaN where empty: complication already present)."""
    outcomes = pd.read_csv(Path(ehr_dir) / "outcomes.csv", dtype={"patient_id": str}, keep_default_na=False)
    for label in LABELS:
        if label in outcomes:
            outcomes[label] = pd.to_numeric(outcomes[label], errors="coerce")
    return outcomes.set_index("patient_id")


def index_dates(tables: Mapping[str, pd.DataFrame]) -> pd.Series:
    """Each patient's index date (from ``patients.csv``), as a day-resolution timestamp."""
    patients = tables["patients.csv"]
    return pd.Series(pd.to_datetime(patients["index_date"], format="ISO8601").to_numpy(), index=patients["patient_id"], name="index_date")


def up_to_index(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The tables with every row dated after its patient's index date removed (undated rows dropped too)."""
    index = index_dates(tables)
    kept = dict(tables)
    for name, column in DATE_COLUMNS.items():
        if name not in tables:
            continue
        frame = tables[name]
        day = pd.to_datetime(frame[column], errors="coerce", format="ISO8601").dt.normalize()
        limit = frame["patient_id"].map(index)
        kept[name] = frame[(day <= limit).to_numpy()]
    return kept


def _numeric(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values.astype(str).str.replace("+", "", regex=False), errors="coerce")


def _has(frame: pd.DataFrame, column: str, prefixes: tuple[str, ...], ids: pd.Index) -> np.ndarray:
    hit = frame[column].astype(str).str.startswith(prefixes)
    return ids.isin(frame.loc[hit, "patient_id"]).astype(float)


def _lab_features(labs: pd.DataFrame, ids: pd.Index) -> pd.DataFrame:
    labs = labs.assign(value=_numeric(labs["value"]), name=labs["test"].map(LAB_NAMES), when=pd.to_datetime(labs["collected_at"], errors="coerce", format="ISO8601"))
    labs = labs.dropna(subset=["name", "value"]).sort_values("when", kind="mergesort")
    grouped = labs.groupby(["patient_id", "name"])["value"]
    mean, last, high, count = (grouped.agg(f).unstack() for f in ("mean", "last", "max", "count"))
    out = pd.DataFrame(index=ids)

    def column(table: pd.DataFrame, name: str) -> pd.Series:
        return table[name].reindex(ids) if name in table else pd.Series(np.nan, index=ids)

    out["hba1c_mean"] = column(mean, "hba1c")
    out["hba1c_last"] = column(last, "hba1c")
    out["hba1c_max"] = column(high, "hba1c")
    out["hba1c_n"] = column(count, "hba1c").fillna(0.0)
    out["egfr_mean"] = column(mean, "egfr")
    out["egfr_last"] = column(last, "egfr")
    out["creatinine_mean"] = column(mean, "creatinine")
    # Albuminuria is log-normal: average its logarithm (a geometric mean).
    uacr = labs[labs["name"] == "uacr"]
    log_uacr = np.log(uacr["value"].clip(lower=0.5)).groupby(uacr["patient_id"])
    out["log_uacr_mean"] = log_uacr.mean().reindex(ids)
    out["log_uacr_last"] = log_uacr.last().reindex(ids)
    out["uacr_measured"] = out["log_uacr_mean"].notna().astype(float)
    out["ldl_mean"] = column(mean, "ldl")
    out["hdl_mean"] = column(mean, "hdl")
    out["log_triglycerides_mean"] = np.log(column(mean, "triglycerides").clip(lower=1.0))
    return out


def patient_features(
    tables: Mapping[str, pd.DataFrame], patient_ids: Iterable[str] | None = None, *, notes: bool = True
) -> pd.DataFrame:
    """Features indexed by patient id (every patient of ``patients.csv``, or ``patient_ids`` in that order).

    Only rows dated at or before each patient's index date are used (``up_to_index``).
    Missing measurements stay NaN; the models impute them.
    """
    tables = up_to_index(tables)
    patients = tables["patients.csv"].drop_duplicates("patient_id").set_index("patient_id")
    requested = pd.Index(patients.index if patient_ids is None else [str(p) for p in patient_ids], name="patient_id")
    unknown = requested.difference(patients.index)
    if len(unknown):
        raise KeyError(f"patients not in patients.csv: {', '.join(map(str, unknown[:5]))}")
    ids = requested.unique()
    patients = patients.reindex(ids)
    out = pd.DataFrame(index=ids)
    out["age"] = _numeric(patients["age_at_index"])
    out["male"] = (patients["sex"] == "M").astype(float)
    out["type1"] = patients["diabetes_type"].astype(str).str.contains("1").astype(float)
    index = pd.to_datetime(patients["index_date"], errors="coerce", format="ISO8601")
    onset = pd.to_datetime(patients["diabetes_diagnosis_date"], errors="coerce", format="ISO8601")
    out["duration_years"] = ((index - onset).dt.days / 365.25).clip(lower=0.0)
    out["log_duration"] = np.log(out["duration_years"].clip(lower=0.5))
    out["smoker_current"] = (patients["smoking_status"] == "current").astype(float)
    out["smoker_former"] = (patients["smoking_status"] == "former").astype(float)

    out = out.join(_lab_features(tables["labs.csv"], ids))

    vitals = tables["vitals.csv"].sort_values("measured_at", kind="mergesort")
    for column, name in (("systolic_bp", "sbp"), ("diastolic_bp", "dbp"), ("bmi", "bmi")):
        values = _numeric(vitals[column]).groupby(vitals["patient_id"])
        out[f"{name}_mean"] = values.mean().reindex(ids)
    out["sbp_last"] = _numeric(vitals["systolic_bp"]).groupby(vitals["patient_id"]).last().reindex(ids)

    dx = tables["diagnoses.csv"]
    for name, prefixes in DIAGNOSIS_PREFIXES.items():
        out[f"dx_{name}"] = _has(dx, "icd10_code", prefixes, ids)
    meds = tables["medications.csv"]
    for name, drugs in DRUG_GROUPS.items():
        out[f"rx_{name}"] = _has(meds, "drug", drugs, ids)
    out["insulin_pump"] = _has(tables["devices.csv"], "device_type", ("insulin pump",), ids)
    enc = tables["encounters.csv"]
    out["n_encounters"] = enc.groupby("patient_id").size().reindex(ids).fillna(0.0)
    out["n_inpatient"] = enc[enc["encounter_type"] == "inpatient"].groupby("patient_id").size().reindex(ids).fillna(0.0)

    if notes and "notes.csv" in tables:
        text = tables["notes.csv"]
        lower = text["text"].astype(str).str.lower()
        out["n_notes"] = text.groupby("patient_id").size().reindex(ids).fillna(0.0)
        for name, phrase in NOTE_KEYWORDS.items():
            hit = lower.str.contains(phrase, regex=False)
            out[name] = ids.isin(text.loc[hit, "patient_id"]).astype(float)
    return out.astype(float).reindex(requested)


def features_for(model_input: pd.DataFrame, *, notes: bool = True) -> pd.DataFrame:
    """Features for a grader-style input frame (``patient_id``, ``ehr_dir``), in its row order."""
    missing = {"patient_id", "ehr_dir"} - set(model_input.columns)
    if missing:
        raise ValueError(f"model input lacks column(s) {', '.join(sorted(missing))}")
    ids = model_input["patient_id"].astype(str)
    parts = []
    for ehr_dir, rows in model_input.assign(patient_id=ids).groupby("ehr_dir", sort=False):
        tables = read_tables(ehr_dir)
        parts.append(patient_features(tables, rows["patient_id"], notes=notes).set_axis(rows.index))
    return pd.concat(parts).loc[model_input.index]


def labelled_features(ehr_dir: Path | str, label: str, *, notes: bool = True) -> tuple[pd.DataFrame, pd.Series]:
    """Features and 0/1 labels of one split's patients whose label is defined (at risk at the index date)."""
    if label not in LABELS:
        raise ValueError(f"unknown label {label!r}; choose one of {', '.join(LABELS)}")
    outcomes = read_outcomes(ehr_dir)
    y = outcomes[label].dropna().astype(int)
    x = patient_features(read_tables(ehr_dir), y.index, notes=notes)
    return x, y
