"""MIMIC-IV Clinical Database Demo (``hosp/`` module) -> the lab's ``ehr_risk`` dataset.

Source: the demo's CSV files (plain or ``.csv.gz``) under ``PATH/hosp/`` (or ``PATH`` itself),
with the public MIMIC-IV schema: ``patients`` (subject_id, gender, anchor_age, anchor_year),
``admissions`` (subject_id, hadm_id, admittime, dischtime, admission_type, insurance, race),
``diagnoses_icd`` (subject_id, hadm_id, icd_code, icd_version), ``labevents`` (subject_id,
hadm_id, itemid, charttime, valuenum) with ``d_labitems`` (itemid, label, fluid); optional
``d_icd_diagnoses`` (descriptions), ``prescriptions`` (medications) and ``omr`` (vitals).

Cohort and outcomes: patients with a diabetes code (ICD-10 E10/E11, ICD-9 250). Their index
date is the discharge of their first admission with one; type 1 if any code says so (E10,
250.x1/x3). Retinopathy (E10.31-E10.35, E11.31-E11.35; ICD-9 362.01-362.07, 250.5x) and
nephropathy (E10.21/22/29, E11.21/22/29; ICD-9 250.4x, 583.81) coded at or before the index
admission leave the label empty (present at index); coded at a later admission starting within
five years, 1 with that discharge date; otherwise 0 (no follow-up outside the hospital is seen,
so these labels undercount onset: the demo's 100 patients teach the pipeline, not the model).

Tables written (the lab's columns; what has no MIMIC source stays empty):
patients (sex, age at index from anchor_age/anchor_year, race; no birth date, ZIP, state or
smoking in MIMIC), insurance (payer of the first admission), encounters (one per admission,
inpatient, department = admission_type), diagnoses (ICD-10 codes with their dot; ICD-9 codes only
where the projects' feature groups need them - 250 diabetes, 401 hypertension, 272 lipids, 278.0
obesity, 585 CKD - the rest counted and left out), labs (HbA1c, creatinine, LDL, HDL,
triglycerides, total cholesterol, urine albumin/creatinine by their d_labitems label, plus eGFR
computed from each creatinine with CKD-EPI 2021, Inker et al., NEJM 2021;385:1737-49), vitals
(from omr: blood pressure, weight, height, BMI), medications (prescriptions), devices and notes
(none: the notes are a separate MIMIC module), outcomes (above).

De-identification: MIMIC is distributed de-identified (dates shifted far into the future, ages
over 89 capped); the import still runs the lab's EHR de-identification (``ehr_deid``, date-shift
mode: keyed pseudonyms for subject and admission ids, dates shifted again) and then verifies
that no original subject_id or hadm_id survives anywhere in the output.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..ehr.codes import LABS as LAB_CODES
from ..ehr_deid import DEFAULT_SCHEMA, DeidInputError, deidentify_ehr_folder
from ..publish_ehr import publish_ehr_risk
from .staging import DatasetImportError, ImportReport, Staging, restate_card, staged_import

REQUIRED = {
    "patients": ("subject_id", "gender", "anchor_age", "anchor_year"),
    "admissions": ("subject_id", "hadm_id", "admittime", "dischtime", "admission_type", "insurance", "race"),
    "diagnoses_icd": ("subject_id", "hadm_id", "icd_code", "icd_version"),
    "labevents": ("subject_id", "hadm_id", "itemid", "charttime", "valuenum"),
    "d_labitems": ("itemid", "label", "fluid"),
}
OPTIONAL = {
    "d_icd_diagnoses": ("icd_code", "icd_version", "long_title"),
    "prescriptions": ("subject_id", "hadm_id", "starttime", "drug", "dose_val_rx", "dose_unit_rx", "route"),
    "omr": ("subject_id", "chartdate", "result_name", "result_value"),
}
# d_labitems label -> the lab's test name; creatinine only from blood.
LAB_NAMES = {
    "% Hemoglobin A1c": "HbA1c",
    "Hemoglobin A1c": "HbA1c",
    "Creatinine": "Creatinine",
    "Cholesterol, LDL, Calculated": "LDL cholesterol",
    "Cholesterol, LDL, Measured": "LDL cholesterol",
    "Cholesterol, HDL": "HDL cholesterol",
    "Triglycerides": "Triglycerides",
    "Cholesterol, Total": "Total cholesterol",
    "Albumin/Creatinine, Urine": "Urine albumin/creatinine ratio",
}
# A measured LDL has a LOINC of its own; every other code and unit is the lab's (ehr.codes.LABS).
_MEASURED_LOINC = {"Cholesterol, LDL, Measured": "18262-6"}
# d_labitems label -> (the lab's test name, LOINC, unit).
LABS = {label: (test, _MEASURED_LOINC.get(label, LAB_CODES[test][0]), LAB_CODES[test][1]) for label, test in LAB_NAMES.items()}
EGFR = ("eGFR (CKD-EPI 2021)", *LAB_CODES["eGFR (CKD-EPI 2021)"])
RETINOPATHY = (r"^E1[01]3[1-5]", r"^3620[1-7]$", r"^2505")
NEPHROPATHY = (r"^E1[01]2[129]", r"^2504", r"^58381$")
HORIZON_YEARS = 5


def import_mimic_iv_demo(source: Path, out_dir: Path) -> ImportReport:
    """Import the MIMIC-IV demo under ``source`` as ``out_dir/public/ehr_risk`` (+ ``hidden/ehr_risk``)."""
    source = Path(source)
    if not source.is_dir():
        raise DatasetImportError(f"{source}: not a folder (give the MIMIC-IV demo folder, the one holding hosp/)")
    hosp = source / "hosp" if (source / "hosp").is_dir() else source
    frames = {name: _read(hosp, name, columns, required=True) for name, columns in REQUIRED.items()}
    frames |= {name: _read(hosp, name, columns, required=False) for name, columns in OPTIONAL.items()}
    tables, counts, notes = convert(frames)

    def build(staging: Staging) -> ImportReport:
        raw, deid = staging.scratch / "raw", staging.scratch / "deid"
        raw.mkdir()
        for name, frame in tables.items():
            frame.to_csv(raw / name, index=False)
        try:
            deidentify_ehr_folder(raw, deid, secret=staging.key, mode="date-shift", progress=False)
        except DeidInputError as error:
            raise DatasetImportError(f"de-identification refused the converted tables: {error}") from None
        originals = set(frames["patients"]["subject_id"]) | set(frames["admissions"]["hadm_id"])
        _verify_no_original_ids(deid, originals)
        published = publish_ehr_risk(deid, staging.public, staging.hidden, key=staging.key, version="1.0.0")
        restate_card(
            staging.public / "ehr_risk",
            summary="EHR of the diabetes patients of the MIMIC-IV Clinical Database Demo in the lab's layout "
            "(admissions, ICD-coded diagnoses, labs, vitals, prescriptions) with retinopathy and nephropathy "
            "outcomes derived from later admissions.",
            provenance="Imported by `practicum datasets import mimic-iv-demo` from the MIMIC-IV Clinical Database "
            "Demo (Johnson A, Bulgarelli L, Pollard T, et al., PhysioNet; Open Database License). Outcomes come from "
            "codes of later admissions only and undercount onset.",
            deidentification="Distributed de-identified by MIMIC (dates shifted, ages capped); de-identified again "
            "by the lab (date-shift mode: keyed pseudonyms for subject and admission ids, one secret shift per "
            "patient) and verified to hold no original subject_id or hadm_id.",
            notes=notes,
        )
        return ImportReport(
            dataset="ehr_risk", source_format="mimic-iv-demo", source=str(source), public_dir="", hidden_dir="",
            splits=published.splits, counts=counts, notes=notes,
        )

    return staged_import(out_dir, "ehr_risk", build)


def _read(folder: Path, name: str, columns: tuple[str, ...], *, required: bool) -> pd.DataFrame | None:
    path = next((p for p in (folder / f"{name}.csv", folder / f"{name}.csv.gz") if p.is_file()), None)
    if path is None:
        if required:
            raise DatasetImportError(f"{folder / (name + '.csv')}: missing (a MIMIC-IV hosp table the import needs)")
        return None
    try:
        header = list(pd.read_csv(path, nrows=0).columns)
        missing = [c for c in columns if c not in header]
        if missing:
            raise DatasetImportError(f"{path}: wrong header, missing columns {missing} (found {header[:8]})")
        # Only the columns used: the full MIMIC-IV labevents has over 100 million rows.
        return pd.read_csv(path, dtype=str, keep_default_na=False, usecols=list(columns))
    except (ValueError, UnicodeDecodeError, EOFError, OSError) as error:
        if isinstance(error, DatasetImportError):
            raise
        raise DatasetImportError(f"{path}: not a readable CSV ({error})") from None


def _column(frame: pd.DataFrame, name: str, path: str) -> pd.Series:
    values = pd.to_datetime(frame[name], errors="coerce", format="ISO8601")
    bad = values.isna() & (frame[name] != "")
    if bad.any():
        raise DatasetImportError(f"{path}: column {name}: {frame[name][bad].iloc[0]!r} is not a date-time")
    return values


def _matches(codes: pd.Series, patterns: tuple[str, ...]) -> pd.Series:
    return codes.str.match("|".join(f"(?:{p})" for p in patterns))


def convert(frames: dict[str, pd.DataFrame | None]) -> tuple[dict[str, pd.DataFrame], dict[str, int], list[str]]:
    """The lab's EHR tables (every column the de-identification schema declares), counts and notes."""
    patients, admissions, dx = frames["patients"], frames["admissions"], frames["diagnoses_icd"]
    admissions = admissions.assign(admit=_column(admissions, "admittime", "admissions.csv"),
                                   discharge=_column(admissions, "dischtime", "admissions.csv"))
    dx = dx.assign(code=dx["icd_code"].str.strip().str.upper().str.replace(".", "", regex=False))
    dx = dx.merge(admissions[["hadm_id", "admit", "discharge"]], on="hadm_id", how="inner")
    diabetic = dx[dx["code"].str.match(r"^(E10|E11|250)")]
    if diabetic.empty:
        raise DatasetImportError("diagnoses_icd.csv: no patient has a diabetes code (ICD-10 E10/E11, ICD-9 250)")
    index = diabetic.sort_values("admit").groupby("subject_id").first()
    type1 = diabetic.groupby("subject_id")["code"].apply(lambda c: bool(c.str.match(r"^E10|^250\d[13]$").any()))
    cohort = sorted(index.index)
    members = patients[patients["subject_id"].isin(cohort)].drop_duplicates("subject_id").set_index("subject_id")
    members = members.reindex(cohort)
    index_day = index["discharge"].dt.normalize()
    anchor_age = pd.to_numeric(members["anchor_age"], errors="coerce")
    anchor_year = pd.to_numeric(members["anchor_year"], errors="coerce")
    if anchor_age.isna().any() or anchor_year.isna().any():
        raise DatasetImportError("patients.csv: anchor_age and anchor_year must be whole numbers")
    age = (anchor_age + index_day.dt.year - anchor_year).astype(int)
    sex = members["gender"].str.upper().str[:1]
    race = admissions.sort_values("admit").groupby("subject_id")["race"].last().reindex(cohort).fillna("")

    columns = {name: list(spec.columns) for name, spec in DEFAULT_SCHEMA.tables.items()}

    def table(name: str, rows: pd.DataFrame) -> pd.DataFrame:
        return rows.reindex(columns=columns[name]).astype(object).fillna("").astype(str)

    day = lambda s: s.dt.strftime("%Y-%m-%d")  # noqa: E731 - a formatter
    tables: dict[str, pd.DataFrame] = {}
    tables["patients.csv"] = table("patients.csv", pd.DataFrame({
        "patient_id": cohort, "sex": sex.to_numpy(), "age_at_index": age.to_numpy(), "race": race.to_numpy(),
        "diabetes_type": np.where(type1.reindex(cohort).to_numpy(dtype=bool), "type 1", "type 2"),
        "diabetes_diagnosis_date": day(index_day).to_numpy(), "index_date": day(index_day).to_numpy(),
    }))
    mine = admissions[admissions["subject_id"].isin(cohort)]
    first = mine.sort_values("admit").groupby("subject_id").first()
    tables["insurance.csv"] = table("insurance.csv", pd.DataFrame({
        "patient_id": first.index, "payer": first["insurance"].to_numpy(), "coverage_start": day(first["admit"]).to_numpy()}))
    tables["encounters.csv"] = table("encounters.csv", pd.DataFrame({
        "encounter_id": mine["hadm_id"], "patient_id": mine["subject_id"], "encounter_type": "inpatient",
        "admit_date": day(mine["admit"]), "discharge_date": day(mine["discharge"]), "department": mine["admission_type"]}))
    mine_dx = dx[dx["subject_id"].isin(cohort)]
    icd10, skipped_icd9 = _icd10(mine_dx, type1)
    titles = frames.get("d_icd_diagnoses")
    description = pd.Series("", index=mine_dx.index)
    if titles is not None:
        key = titles.assign(code=titles["icd_code"].str.replace(".", "", regex=False).str.upper())
        lookup = dict(zip(zip(key["code"], key["icd_version"], strict=True), key["long_title"], strict=True))
        description = pd.Series([lookup.get(k, "") for k in zip(mine_dx["code"], mine_dx["icd_version"], strict=True)],
                                index=mine_dx.index)
    kept = icd10 != ""
    tables["diagnoses.csv"] = table("diagnoses.csv", pd.DataFrame({
        "patient_id": mine_dx["subject_id"], "encounter_id": mine_dx["hadm_id"], "diagnosis_date": day(mine_dx["discharge"]),
        "icd10_code": icd10, "description": description})[kept.to_numpy()])
    tables["labs.csv"] = table("labs.csv", _labs(frames["labevents"], frames["d_labitems"], cohort, sex, age, index_day))
    tables["vitals.csv"] = table("vitals.csv", _vitals(frames.get("omr"), cohort))
    rx = frames.get("prescriptions")
    if rx is not None:
        rx = rx[rx["subject_id"].isin(cohort)]
        start = _column(rx, "starttime", "prescriptions.csv")
        rx = pd.DataFrame({"patient_id": rx["subject_id"], "drug": rx["drug"].str.lower(),
                           "dose": (rx["dose_val_rx"] + " " + rx["dose_unit_rx"]).str.strip(), "route": rx["route"],
                           "start_date": day(start)})[start.notna().to_numpy()]
    tables["medications.csv"] = table("medications.csv", rx if rx is not None else pd.DataFrame())
    tables["devices.csv"] = table("devices.csv", pd.DataFrame())
    tables["notes.csv"] = table("notes.csv", pd.DataFrame())
    tables["outcomes.csv"] = table("outcomes.csv", _outcomes(mine_dx, cohort, index["admit"], index_day))
    counts = {"patients_in_source": int(patients["subject_id"].nunique()), "patients_with_diabetes": len(cohort),
              "admissions": len(mine), "diagnoses": int(kept.sum()), "icd9_codes_left_out": skipped_icd9,
              "labs": len(tables["labs.csv"]), "vitals": len(tables["vitals.csv"]),
              "medications": len(tables["medications.csv"])}
    notes = [
        f"{len(cohort)} of {counts['patients_in_source']} patients have a diabetes code and were imported.",
        f"{skipped_icd9} ICD-9 codes outside the projects' feature groups were left out.",
        "MIMIC records no diabetes onset: diabetes_diagnosis_date is the index date, so durations are 0.",
        "No devices or notes (MIMIC-IV-Note is a separate module); no birth dates, ZIP codes or smoking status.",
    ]
    return tables, counts, notes


def _icd10(dx: pd.DataFrame, type1: pd.Series) -> tuple[pd.Series, int]:
    """ICD-10-CM codes with their dot; ICD-9 codes of the feature groups mapped, others empty."""
    codes = dx["code"]
    is10 = dx["icd_version"].astype(str).str.strip() == "10"
    out = pd.Series("", index=dx.index)
    out[is10] = [c[:3] + ("." + c[3:] if len(c) > 3 else "") for c in codes[is10]]
    prefix = np.where(type1.reindex(dx["subject_id"]).fillna(False).to_numpy(dtype=bool), "E10", "E11")
    mapped = []
    for code, e1x, ten in zip(codes, prefix, is10, strict=True):
        if ten:
            mapped.append(None)
        elif code.startswith("250") and len(code) >= 4:
            mapped.append({"1": f"{e1x}.10", "4": f"{e1x}.21", "5": f"{e1x}.319"}.get(
                code[3], f"{e1x}.65" if code[-1:] in "23" and len(code) == 5 else f"{e1x}.9"))
        elif code.startswith("401"):
            mapped.append("I10")
        elif code.startswith("272"):
            mapped.append("E78.5")
        elif code.startswith("2780"):
            mapped.append("E66.9")
        elif code.startswith("585"):
            mapped.append(f"N18.{code[3]}" if len(code) > 3 and code[3] in "123456" else "N18.9")
        elif re.match(r"^3620[1-7]$", code):
            mapped.append(f"{e1x}.319")
        else:
            mapped.append("")
    nine = ~is10.to_numpy()
    out[nine] = [m for m, ten in zip(mapped, is10, strict=True) if not ten]
    return out, int(sum(1 for m, ten in zip(mapped, is10, strict=True) if not ten and m == ""))


def _labs(labs: pd.DataFrame, items: pd.DataFrame, cohort: list[str], sex: pd.Series, age: pd.Series,
          index_day: pd.Series) -> pd.DataFrame:
    known = items[items["label"].isin(LABS) & ((items["label"] != "Creatinine") | (items["fluid"] == "Blood"))]
    names = dict(zip(known["itemid"], known["label"], strict=True))
    rows = labs[labs["subject_id"].isin(cohort) & labs["itemid"].isin(names)].copy()
    rows["number"] = pd.to_numeric(rows["valuenum"], errors="coerce")
    rows["when"] = _column(rows, "charttime", "labevents.csv")
    rows = rows.dropna(subset=["number", "when"])
    test, loinc, unit = zip(*(LABS[names[i]] for i in rows["itemid"]), strict=True) if len(rows) else ((), (), ())
    out = pd.DataFrame({"patient_id": rows["subject_id"], "encounter_id": rows["hadm_id"],
                        "collected_at": rows["when"].dt.strftime("%Y-%m-%d %H:%M:%S"), "test": list(test),
                        "loinc": list(loinc), "value": [f"{v:g}" for v in rows["number"]], "unit": list(unit)})
    creatinine = out["test"] == "Creatinine"
    if creatinine.any():
        part = out[creatinine]
        years = age.reindex(part["patient_id"]).to_numpy() + (
            rows.loc[part.index, "when"].dt.year.to_numpy() - index_day.reindex(part["patient_id"]).dt.year.to_numpy())
        egfr = ckd_epi_2021(part["value"].astype(float).to_numpy(), years, sex.reindex(part["patient_id"]).to_numpy() == "F")
        out = pd.concat([out, part.assign(test=EGFR[0], loinc=EGFR[1], unit=EGFR[2], value=[f"{v:.0f}" for v in egfr])])
    return out


def ckd_epi_2021(creatinine_mg_dl: np.ndarray, age_years: np.ndarray, female: np.ndarray) -> np.ndarray:
    """eGFR (mL/min/1.73 m2), the race-free CKD-EPI 2021 creatinine equation (Inker et al., NEJM 2021)."""
    creatinine_mg_dl, age_years = np.asarray(creatinine_mg_dl, dtype=float), np.asarray(age_years, dtype=float)
    kappa = np.where(female, 0.7, 0.9)
    alpha = np.where(female, -0.241, -0.302)
    ratio = creatinine_mg_dl / kappa
    return 142 * np.minimum(ratio, 1) ** alpha * np.maximum(ratio, 1) ** -1.200 * 0.9938 ** age_years * np.where(female, 1.012, 1.0)


def _vitals(omr: pd.DataFrame | None, cohort: list[str]) -> pd.DataFrame:
    if omr is None:
        return pd.DataFrame()
    omr = omr[omr["subject_id"].isin(cohort)]
    out: dict[tuple[str, str], dict[str, str]] = {}
    for pid, when, name, value in zip(omr["subject_id"], omr["chartdate"], omr["result_name"], omr["result_value"], strict=True):
        row = out.setdefault((pid, when), {"patient_id": pid, "measured_at": when})
        try:
            if name.startswith("Blood Pressure") and "/" in value:
                systolic, diastolic = value.split("/", 1)
                row["systolic_bp"], row["diastolic_bp"] = str(int(float(systolic))), str(int(float(diastolic)))
            elif name == "Weight (Lbs)":
                row["weight_kg"] = f"{float(value) * 0.45359237:.1f}"
            elif name == "Height (Inches)":
                row["height_cm"] = f"{float(value) * 2.54:.1f}"
            elif name == "BMI (kg/m2)":
                row["bmi"] = f"{float(value):.1f}"
        except ValueError:
            raise DatasetImportError(f"omr.csv: {name} {value!r} is not a number") from None
    return pd.DataFrame(list(out.values()))


def _outcomes(dx: pd.DataFrame, cohort: list[str], index_admit: pd.Series, index_day: pd.Series) -> pd.DataFrame:
    out = pd.DataFrame({"patient_id": cohort, "index_date": index_day.reindex(cohort).dt.strftime("%Y-%m-%d").to_numpy(),
                        "horizon_years": HORIZON_YEARS})
    for name, patterns in (("retinopathy", RETINOPATHY), ("nephropathy", NEPHROPATHY)):
        hits = dx[_matches(dx["code"], patterns)]
        labels, dates = [], []
        for pid in cohort:
            mine = hits[hits["subject_id"] == pid]
            start = index_admit[pid]
            if (mine["admit"] <= start).any():
                labels.append(""), dates.append("")
                continue
            later = mine[mine["admit"] <= start + pd.DateOffset(years=HORIZON_YEARS)].sort_values("admit")
            labels.append("1" if len(later) else "0")
            dates.append(later["discharge"].iloc[0].strftime("%Y-%m-%d") if len(later) else "")
        out[f"{name}_5y"], out[f"{name}_date"] = labels, dates
    return out


def _verify_no_original_ids(folder: Path, originals: set[str]) -> None:
    """Fail closed if any original subject_id or hadm_id appears as a number anywhere in the output."""
    wanted = {o for o in originals if o}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            found = wanted.intersection(re.findall(r"\d+", path.read_text(encoding="utf-8", errors="replace")))
            if found:
                raise DatasetImportError(f"{path}: original MIMIC id {sorted(found)[0]} survived de-identification; nothing imported")

