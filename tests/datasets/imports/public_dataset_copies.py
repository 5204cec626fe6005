"""Small copies of the public datasets in their distributed formats, made by the import tests (no download)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

# --- OhioT1DM: one XML file per patient and part ------------------------------------------

OHIO_PATIENTS = ("559", "563", "570")


def _ts(when: dt.datetime) -> str:
    return when.strftime("%d-%m-%Y %H:%M:%S")


def write_ohiot1dm(folder: Path, *, days: int = 2, seed: int = 0) -> Path:
    """``<id>-ws-training.xml`` per patient: glucose every 5 min (one 40-minute gap), basal, temp basal,
    boluses, meals, exercise and finger sticks (not imported)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for n, patient in enumerate(OHIO_PATIENTS):
        start = dt.datetime(2027, 1, 27, 0, 4) + dt.timedelta(minutes=n)
        steps = days * 288
        glucose = 150 + 60 * np.sin(np.arange(steps) / (30 + 5 * n)) + rng.normal(0, 5, steps)
        readings = [f'\t\t<event ts="{_ts(start + dt.timedelta(minutes=5 * k))}" value="{int(round(g))}"/>'
                    for k, g in enumerate(glucose) if not 100 <= k < 108]
        meals = [start + dt.timedelta(hours=h) for d in range(days) for h in (24 * d + 7, 24 * d + 12.5, 24 * d + 19)]
        lines = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<patient id="{patient}" weight="99" insulin_type="Novalog">',
            "\t<glucose_level>", *readings, "\t</glucose_level>",
            "\t<finger_stick>", f'\t\t<event ts="{_ts(start)}" value="140"/>', "\t</finger_stick>",
            "\t<basal>", f'\t\t<event ts="{_ts(start)}" value="0.9"/>',
            f'\t\t<event ts="{_ts(start + dt.timedelta(hours=30))}" value="1.1"/>', "\t</basal>",
            "\t<temp_basal>", f'\t\t<event ts_begin="{_ts(start + dt.timedelta(hours=3))}" '
            f'ts_end="{_ts(start + dt.timedelta(hours=4))}" value="0"/>', "\t</temp_basal>",
            "\t<bolus>", *[f'\t\t<event ts_begin="{_ts(m)}" ts_end="{_ts(m)}" type="normal" dose="{4 + k % 3}" '
                          f'bwz_carb_input="{45 + 5 * k}"/>' for k, m in enumerate(meals)], "\t</bolus>",
            "\t<meal>", *[f'\t\t<event ts="{_ts(m)}" type="Lunch" carbs="{45 + 5 * k}"/>' for k, m in enumerate(meals)],
            "\t</meal>",
            "\t<exercise>", f'\t\t<event ts="{_ts(start + dt.timedelta(hours=17))}" intensity="5" type="" duration="30" '
            'competitive=""/>', "\t</exercise>",
            "\t<sleep>", "\t</sleep>",
            "</patient>",
        ]
        (folder / f"{patient}-ws-training.xml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


# --- MIMIC-IV demo: hosp/*.csv ------------------------------------------------------------

def write_mimic_demo(folder: Path, *, n_patients: int = 14, seed: int = 0) -> Path:
    """``hosp/`` with patients, admissions, diagnoses_icd, d_icd_diagnoses, labevents, d_labitems,
    prescriptions and omr in the MIMIC-IV column layout; two patients without diabetes."""
    rng = np.random.default_rng(seed)
    hosp = folder / "hosp"
    hosp.mkdir(parents=True, exist_ok=True)
    patients, admissions, dx, labs, rx, omr = [], [], [], [], [], []
    hadm = 20_000_000
    event = 1
    for i in range(n_patients):
        subject = str(10_000_032 + 1_117 * i)
        year = 2140 + i
        patients.append({"subject_id": subject, "gender": "F" if i % 2 else "M", "anchor_age": 40 + 3 * i,
                         "anchor_year": year, "anchor_year_group": "2011 - 2013", "dod": ""})
        diabetic = i < n_patients - 2
        type1 = i % 4 == 0
        for visit in range(3):
            hadm += 7_919
            admit = dt.datetime(year, 3, 1, 10) + dt.timedelta(days=300 * visit + 11 * i)
            discharge = admit + dt.timedelta(days=4, hours=3)
            admissions.append({
                "subject_id": subject, "hadm_id": str(hadm), "admittime": f"{admit:%Y-%m-%d %H:%M:%S}",
                "dischtime": f"{discharge:%Y-%m-%d %H:%M:%S}", "deathtime": "", "admission_type": "EW EMER.",
                "admit_provider_id": "P12AB3", "admission_location": "EMERGENCY ROOM", "discharge_location": "HOME",
                "insurance": "Medicare", "language": "ENGLISH", "marital_status": "MARRIED", "race": "WHITE",
                "edregtime": "", "edouttime": "", "hospital_expire_flag": "0"})
            codes = [("4019", "9"), ("I10", "10")] if visit == 0 else [("E785", "10")]
            if diabetic:
                codes.append(("E109" if type1 else "E119", "10") if i % 3 else ("25001" if type1 else "25000", "9"))
            if diabetic and visit == 2 and i % 3 == 1:
                codes.append(("E11319", "10"))  # retinopathy at a later admission
            if diabetic and visit == 0 and i == 5:
                codes.append(("36202", "9"))  # retinopathy already at the index admission
            codes.append(("V5867", "9"))  # an ICD-9 code outside the feature groups
            for seq, (code, version) in enumerate(codes, start=1):
                dx.append({"subject_id": subject, "hadm_id": str(hadm), "seq_num": seq, "icd_code": code, "icd_version": version})
            for itemid, value, unit in (("50852", 6.5 + rng.normal(1.2, 0.8), "%"), ("50912", 0.9 + rng.uniform(0, 0.6), "mg/dL"),
                                        ("50905", 100 + rng.normal(0, 20), "mg/dL"), ("51221", 38.0, "%")):
                labs.append({"labevent_id": event, "subject_id": subject, "hadm_id": str(hadm), "specimen_id": 90_000 + event,
                             "itemid": itemid, "order_provider_id": "", "charttime": f"{admit + dt.timedelta(hours=2):%Y-%m-%d %H:%M:%S}",
                             "storetime": "", "value": f"{value:.1f}", "valuenum": f"{value:.1f}", "valueuom": unit,
                             "ref_range_lower": "", "ref_range_upper": "", "flag": "", "priority": "ROUTINE", "comments": ""})
                event += 1
            rx.append({"subject_id": subject, "hadm_id": str(hadm), "pharmacy_id": "1", "poe_id": "", "poe_seq": "",
                       "order_provider_id": "", "starttime": f"{admit:%Y-%m-%d %H:%M:%S}", "stoptime": "",
                       "drug_type": "MAIN", "drug": "Insulin" if diabetic else "Acetaminophen", "formulary_drug_cd": "",
                       "gsn": "", "ndc": "", "prod_strength": "", "form_rx": "", "dose_val_rx": "10", "dose_unit_rx": "UNIT",
                       "form_val_disp": "", "form_unit_disp": "", "doses_per_24_hrs": "", "route": "SC"})
            for name, value in (("Blood Pressure", f"{120 + i}/{80 - i % 5}"), ("Weight (Lbs)", "180"), ("BMI (kg/m2)", "27.4")):
                omr.append({"subject_id": subject, "chartdate": f"{admit:%Y-%m-%d}", "seq_num": 1, "result_name": name,
                            "result_value": value})
    items = pd.DataFrame([("50852", "% Hemoglobin A1c", "Blood", "Chemistry"), ("50912", "Creatinine", "Blood", "Chemistry"),
                          ("50905", "Cholesterol, LDL, Calculated", "Blood", "Chemistry"), ("51221", "Hematocrit", "Blood", "Hematology")],
                         columns=["itemid", "label", "fluid", "category"])
    titles = pd.DataFrame([("4019", "9", "Unspecified essential hypertension"), ("E119", "10", "Type 2 diabetes mellitus without complications")],
                          columns=["icd_code", "icd_version", "long_title"])
    for name, rows in (("patients", patients), ("admissions", admissions), ("diagnoses_icd", dx), ("labevents", labs),
                       ("prescriptions", rx), ("omr", omr)):
        pd.DataFrame(rows).to_csv(hosp / f"{name}.csv", index=False)
    items.to_csv(hosp / "d_labitems.csv", index=False)
    titles.to_csv(hosp / "d_icd_diagnoses.csv", index=False)
    return folder


# --- LUNA16: subsetN/<seriesuid>.mhd + .raw, annotations.csv ------------------------------

LUNA_PREFIX = "1.3.6.1.4.1.14519.5.2.1.6279.6001."


def write_luna16(folder: Path, *, n_scans: int = 5, shape=(12, 40, 40), spacing=(0.7, 0.7, 2.5)) -> Path:
    """Volumes (z, y, x) of air around a soft-tissue body with one bright ball each (none in the last)."""
    rows = []
    for n in range(n_scans):
        subset = folder / f"subset{n % 2}"
        subset.mkdir(parents=True, exist_ok=True)
        uid = f"{LUNA_PREFIX}{105756658031515062000744821260 + 7 * n}"
        nz, ny, nx = shape
        offset = (-140.0 - n, -150.5, -310.25 + 3 * n)
        volume = np.full(shape, -1000, dtype=np.int16)
        volume[:, 5:35, 4:36] = 40
        if n < n_scans - 1:
            k, j, i = 6, 18 + n, 20 - n
            zz, yy, xx = np.ogrid[:nz, :ny, :nx]
            ball = ((xx - i) * spacing[0]) ** 2 + ((yy - j) * spacing[1]) ** 2 + ((zz - k) * spacing[2]) ** 2 <= 3.0**2
            volume[ball] = 300
            rows.append((uid, offset[0] + i * spacing[0], offset[1] + j * spacing[1], offset[2] + k * spacing[2], 6.0))
        (subset / f"{uid}.raw").write_bytes(volume.astype("<i2").tobytes())
        header = [
            "ObjectType = Image", "NDims = 3", "BinaryData = True", "BinaryDataByteOrderMSB = False",
            "CompressedData = False", "TransformMatrix = 1 0 0 0 1 0 0 0 1", f"Offset = {offset[0]} {offset[1]} {offset[2]}",
            "CenterOfRotation = 0 0 0", "AnatomicalOrientation = RAI", f"ElementSpacing = {spacing[0]} {spacing[1]} {spacing[2]}",
            f"DimSize = {nx} {ny} {nz}", "ElementType = MET_SHORT", f"ElementDataFile = {uid}.raw",
        ]
        (subset / f"{uid}.mhd").write_text("\n".join(header) + "\n")
    pd.DataFrame(rows, columns=["seriesuid", "coordX", "coordY", "coordZ", "diameter_mm"]).to_csv(folder / "annotations.csv", index=False)
    return folder
