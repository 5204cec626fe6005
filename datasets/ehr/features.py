"""One row of structured features per patient, from the EHR tables (raw or de-identified).

A pure function over the tables, so a project's baseline, its reference solution and the
generator's calibration checks all see the same features. Works on de-identified tables
too: ages "90+" count as 90, and durations come from date differences, which per-patient
date shifting preserves.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

FEATURE_LABS = {
    "HbA1c": "hba1c",
    "LDL cholesterol": "ldl",
    "HDL cholesterol": "hdl",
    "Triglycerides": "triglycerides",
    "Total cholesterol": "total_cholesterol",
    "eGFR (CKD-EPI 2021)": "egfr",
    "Creatinine": "creatinine",
    "Urine albumin/creatinine ratio": "uacr",
}
DX_PREFIXES = {"hypertension": ("I10",), "hyperlipidemia": ("E78",), "ckd": ("N18",), "obesity": ("E66",)}
MED_GROUPS = {
    "insulin": ("insulin",),
    "statin": ("atorvastatin",),
    "ace_arb": ("lisinopril", "losartan"),
    "metformin": ("metformin",),
    "sglt2": ("empagliflozin",),
    "glp1": ("semaglutide",),
}


def _age(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values.astype(str).str.replace("+", "", regex=False), errors="coerce")


def patient_features(tables: Mapping[str, pd.DataFrame], id_column: str = "patient_id") -> pd.DataFrame:
    """Features indexed by patient id. ``tables`` maps file names (``labs.csv`` ...) to frames."""
    patients = tables["patients.csv"].set_index(id_column)
    out = pd.DataFrame(index=patients.index)
    out["age"] = _age(patients["age_at_index"])
    out["male"] = (patients["sex"] == "M").astype(float)
    out["type1"] = (patients["diabetes_type"].astype(str).str.contains("1")).astype(float)
    index = pd.to_datetime(patients["index_date"], errors="coerce")
    onset = pd.to_datetime(patients["diabetes_diagnosis_date"], errors="coerce")
    out["duration_years"] = (index - onset).dt.days / 365.25
    out["log_duration"] = np.log(out["duration_years"].clip(lower=0.5))
    out["smoker_current"] = (patients["smoking_status"] == "current").astype(float)
    out["smoker_former"] = (patients["smoking_status"] == "former").astype(float)

    labs = tables["labs.csv"]
    values = pd.to_numeric(labs["value"], errors="coerce")
    labs = labs.assign(value=values, feature=labs["test"].map(FEATURE_LABS)).dropna(subset=["feature", "value"])
    means = labs.pivot_table(index=id_column, columns="feature", values="value", aggfunc="mean")
    for name in FEATURE_LABS.values():
        out[f"{name}_mean"] = means[name] if name in means else np.nan
    out["log_uacr_mean"] = np.log(out.pop("uacr_mean").clip(lower=0.5))
    a1c = labs[labs["feature"] == "hba1c"].sort_values("collected_at")
    out["hba1c_last"] = a1c.groupby(id_column)["value"].last()
    out["hba1c_max"] = a1c.groupby(id_column)["value"].max()

    vitals = tables["vitals.csv"]
    for column in ("systolic_bp", "diastolic_bp", "bmi"):
        out[f"{column}_mean"] = pd.to_numeric(vitals[column], errors="coerce").groupby(vitals[id_column]).mean()

    dx = tables["diagnoses.csv"]
    for name, prefixes in DX_PREFIXES.items():
        hit = dx["icd10_code"].astype(str).str.startswith(prefixes)
        out[f"dx_{name}"] = out.index.isin(dx.loc[hit, id_column]).astype(float)

    meds = tables["medications.csv"]
    for name, drugs in MED_GROUPS.items():
        hit = meds["drug"].astype(str).str.startswith(drugs)
        out[f"rx_{name}"] = out.index.isin(meds.loc[hit, id_column]).astype(float)

    enc = tables["encounters.csv"]
    out["n_encounters"] = enc.groupby(id_column).size().reindex(out.index).fillna(0)
    inpatient = enc[enc["encounter_type"] == "inpatient"]
    out["n_inpatient"] = inpatient.groupby(id_column).size().reindex(out.index).fillna(0)
    return out


FEATURE_TABLES = (
    "patients.csv", "labs.csv", "vitals.csv", "diagnoses.csv", "medications.csv", "encounters.csv", "outcomes.csv",
)


def read_tables(folder: Path, names: tuple[str, ...] = FEATURE_TABLES) -> dict[str, pd.DataFrame]:
    """The CSV tables of an export folder, every column as text (empty cells stay empty strings)."""
    return {n: pd.read_csv(Path(folder) / n, dtype=str, keep_default_na=False) for n in names}
