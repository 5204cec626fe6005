"""The hospital's tables for each patient: encounters, diagnoses, labs, vitals, medications,
devices, insurance, notes - all measured from the latent cohort up to the index date.

Nothing after the index date is recorded here (the outcome table holds the follow-up),
so the tables never leak the label.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from .codes import DRUGS, ICD10, LABS, ckd_stage_code, creatinine_from_egfr, egfr_ckd_epi_2021
from .cohort import DAYS_PER_YEAR, Cohort
from .identities import PROVIDERS, Identity
from .notes import NoteFacts, NoteWriter, PatientContext, Visit

Row = dict[str, object]

TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "patients.csv": (
        "patient_id", "mrn", "first_name", "last_name", "sex", "date_of_birth", "age_at_index", "race", "ethnicity",
        "street_address", "city", "state", "zip", "phone", "fax", "email", "ssn", "drivers_license", "vehicle_plate",
        "portal_url", "last_login_ip", "biometric_id", "photo_file", "employer", "emergency_contact_name",
        "emergency_contact_relation", "emergency_contact_phone", "smoking_status", "diabetes_type",
        "diabetes_diagnosis_date", "index_date",
    ),
    "insurance.csv": ("patient_id", "payer", "health_plan_id", "account_number", "coverage_start"),
    "encounters.csv": (
        "encounter_id", "patient_id", "encounter_type", "admit_date", "discharge_date", "department", "attending",
        "reason",
    ),
    "diagnoses.csv": ("patient_id", "encounter_id", "diagnosis_date", "icd10_code", "description"),
    "labs.csv": ("patient_id", "encounter_id", "collected_at", "test", "loinc", "value", "unit"),
    "vitals.csv": (
        "patient_id", "encounter_id", "measured_at", "systolic_bp", "diastolic_bp", "heart_rate", "weight_kg",
        "height_cm", "bmi",
    ),
    "medications.csv": ("patient_id", "drug", "dose", "route", "frequency", "start_date", "prescriber"),
    "devices.csv": ("patient_id", "device_type", "model", "serial_number", "start_date"),
    "notes.csv": ("note_id", "patient_id", "encounter_id", "note_date", "note_type", "author", "text"),
    "outcomes.csv": (
        "patient_id", "index_date", "horizon_years", "retinopathy_5y", "retinopathy_date", "nephropathy_5y",
        "nephropathy_date",
    ),
}

INPATIENT_REASONS = {
    1: ("Diabetic ketoacidosis", "E10.10"),
    2: ("Hypoglycemia", None),
    3: ("Community-acquired pneumonia", "J18.9"),
    4: ("Cellulitis of the lower leg", "L03.90"),
    5: ("Urinary tract infection", "N39.0"),
    6: ("Acute decompensated heart failure", "I50.9"),
}


def age_in_years(birth: dt.date, on: dt.date) -> int:
    """Completed years of age on ``on``."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def to_date(d: np.datetime64) -> dt.date:
    return dt.date.fromisoformat(str(np.datetime64(d, "D")))


@dataclass(frozen=True)
class DeviceInfo:
    """A device already assigned (CGM sensors from the simulation)."""

    device_type: str
    model: str
    serial: str
    start: dt.date


@dataclass
class PatientRecords:
    tables: dict[str, list[Row]] = field(default_factory=dict)
    facts: NoteFacts = field(default_factory=NoteFacts)

    def add(self, table: str, row: Row) -> None:
        self.tables.setdefault(table, []).append(row)


@dataclass
class Counters:
    encounter: int = 0
    note: int = 0

    def next_encounter(self) -> str:
        self.encounter += 1
        return f"E{self.encounter:08d}"

    def next_note(self) -> str:
        self.note += 1
        return f"N{self.note:08d}"


def _time(rng: np.random.Generator, d: dt.date, start_hour: int = 7, end_hour: int = 17) -> str:
    minutes = int(rng.integers(start_hour * 60, end_hour * 60))
    return f"{d.isoformat()} {minutes // 60:02d}:{minutes % 60:02d}:00"


def _visit_dates(rng: np.random.Generator, start: dt.date, index: dt.date) -> list[dt.date]:
    dates = [index]
    d = index
    while True:
        d = d - dt.timedelta(days=int(45 + rng.exponential(85.0)))
        if d < start:
            break
        dates.append(d)
    return sorted(dates)


def _medications(rng: np.random.Generator, c: Cohort, i: int, basal_rate: float | None) -> list[tuple[str, str]]:
    """(drug, dose) pairs for patient i."""
    meds: list[tuple[str, str]] = []
    if c.diabetes_type[i] == 1:
        if basal_rate is not None or rng.random() < 0.35:
            rate = basal_rate if basal_rate is not None else float(rng.uniform(0.6, 1.4))
            meds.append(("insulin lispro (pump)", DRUGS["insulin lispro (pump)"][0].format(rate=f"{rate:.2f}")))
        else:
            units = int(c.weight_kg[i] * rng.uniform(0.25, 0.45))
            meds.append(("insulin glargine", DRUGS["insulin glargine"][0].format(units=units)))
            meds.append(("insulin lispro", DRUGS["insulin lispro"][0]))
    else:
        if rng.random() < 0.85 and c.egfr[i] >= 30:
            meds.append(("metformin", DRUGS["metformin"][0]))
        if rng.random() < 0.22 + 0.08 * (c.hba1c[i] - 7.0):
            units = int(c.weight_kg[i] * rng.uniform(0.2, 0.5))
            meds.append(("insulin glargine", DRUGS["insulin glargine"][0].format(units=units)))
        if rng.random() < 0.2:
            meds.append(("empagliflozin", DRUGS["empagliflozin"][0]))
        if rng.random() < 0.15:
            meds.append(("semaglutide", DRUGS["semaglutide"][0]))
    if c.ldl[i] > 100 or c.age_at_index[i] > 40:
        if rng.random() < 0.7:
            meds.append(("atorvastatin", DRUGS["atorvastatin"][0]))
    if c.hypertension[i] or c.uacr[i] >= 30:
        if rng.random() < 0.75:
            drug = "lisinopril" if rng.random() < 0.6 else "losartan"
            meds.append((drug, DRUGS[drug][0]))
        if c.hypertension[i] and rng.random() < 0.3:
            meds.append(("amlodipine", DRUGS["amlodipine"][0]))
    return meds


def patient_records(
    rng: np.random.Generator,
    c: Cohort,
    i: int,
    ident: Identity,
    counters: Counters,
    devices: tuple[DeviceInfo, ...] = (),
    basal_rate: float | None = None,
) -> PatientRecords:
    """All baseline rows of patient i (index date inclusive)."""
    out = PatientRecords()
    index = to_date(c.index_date[i])
    birth = to_date(c.birth_date[i])
    onset = to_date(c.onset_date[i])
    female = ident.sex == "F"
    t1 = int(c.diabetes_type[i]) == 1
    age_at = lambda d: age_in_years(birth, d)  # noqa: E731
    start = max(index - dt.timedelta(days=int(rng.uniform(2.0, 4.0) * DAYS_PER_YEAR)), onset + dt.timedelta(days=30))
    start = min(start, index - dt.timedelta(days=60))
    provider = PROVIDERS[int(rng.integers(0, len(PROVIDERS)))]
    prescriber = f"{provider[0]} {provider[1]}"

    meds = _medications(rng, c, i, basal_rate)
    pump = any(m[0] == "insulin lispro (pump)" for m in meds)
    all_devices = list(devices)
    if pump:
        all_devices.append(DeviceInfo("insulin pump", "InfuseRite 780", f"PMP{int(rng.integers(10**8, 10**9))}", start))
    if not t1 and rng.random() < 0.5:
        all_devices.append(DeviceInfo("glucose meter", "StripCheck Plus", f"GM-{int(rng.integers(10**7, 10**8))}", start))

    out.add("patients.csv", {
        "patient_id": ident.patient_id, "mrn": ident.mrn, "first_name": ident.first_name,
        "last_name": ident.last_name, "sex": ident.sex, "date_of_birth": birth.isoformat(),
        "age_at_index": age_in_years(birth, index), "race": ident.race, "ethnicity": ident.ethnicity,
        "street_address": ident.street_address, "city": ident.city, "state": ident.state, "zip": ident.zip5,
        "phone": ident.phone, "fax": ident.fax, "email": ident.email, "ssn": ident.ssn,
        "drivers_license": ident.drivers_license, "vehicle_plate": ident.vehicle_plate,
        "portal_url": ident.portal_url, "last_login_ip": ident.last_login_ip, "biometric_id": ident.biometric_id,
        "photo_file": ident.photo_file, "employer": ident.employer,
        "emergency_contact_name": ident.emergency_contact_name,
        "emergency_contact_relation": ident.emergency_contact_relation,
        "emergency_contact_phone": ident.emergency_contact_phone, "smoking_status": str(c.smoking[i]),
        "diabetes_type": f"type {int(c.diabetes_type[i])}", "diabetes_diagnosis_date": onset.isoformat(),
        "index_date": index.isoformat(),
    })
    out.add("insurance.csv", {
        "patient_id": ident.patient_id, "payer": ident.payer, "health_plan_id": ident.health_plan_id,
        "account_number": ident.account_number, "coverage_start": start.isoformat(),
    })
    for drug, dose in meds:
        _, route, freq = DRUGS[drug]
        out.add("medications.csv", {
            "patient_id": ident.patient_id, "drug": drug, "dose": dose, "route": route, "frequency": freq,
            "start_date": (start + dt.timedelta(days=int(rng.integers(0, 60)))).isoformat(),
            "prescriber": prescriber,
        })
    for d in all_devices:
        out.add("devices.csv", {
            "patient_id": ident.patient_id, "device_type": d.device_type, "model": d.model,
            "serial_number": d.serial, "start_date": d.start.isoformat(),
        })

    ctx = PatientContext(
        ident=ident, birth_date=birth,
        diabetes_type=int(c.diabetes_type[i]), onset_year=onset.year, smoking=str(c.smoking[i]),
        medications=tuple(m[0] for m in meds), device_serials=tuple(d.serial for d in all_devices),
    )
    writer = NoteWriter(rng, ctx)

    # Visits: outpatient every few months, sometimes an admission or an emergency visit.
    visits: list[Visit] = []
    a1c_trend = rng.normal(0.0, 0.3)
    for d in _visit_dates(rng, start, index):
        frac = (d - start).days / max((index - start).days, 1)
        a1c = c.hba1c[i] + a1c_trend * (frac - 0.5) + rng.normal(0.0, 0.45) if rng.random() < 0.85 else None
        visits.append(Visit(
            date=d, kind="outpatient", discharge=d, provider=provider, reason="Diabetes follow-up",
            hba1c=None if a1c is None else float(np.clip(a1c, 4.5, 16.0)),
            sbp=int(round(c.sbp[i] + rng.normal(0.0, 10.0))), dbp=int(round(c.dbp[i] + rng.normal(0.0, 7.0))),
            bmi=float(c.bmi[i] * np.exp(rng.normal(0.0, 0.02))),
        ))
    if rng.random() < 0.12 + 0.08 * (c.hba1c[i] > 9.0):
        key = int(rng.choice([1, 2, 3, 4, 5, 6] if t1 else [2, 3, 4, 5, 6]))
        d = start + dt.timedelta(days=int(rng.integers(1, max((index - start).days - 10, 2))))
        attending = PROVIDERS[int(rng.integers(0, len(PROVIDERS)))]
        visits.append(Visit(
            date=d, kind="inpatient", discharge=d + dt.timedelta(days=int(rng.integers(1, 9))), provider=attending,
            reason=INPATIENT_REASONS[key][0], hba1c=None,
            sbp=int(round(c.sbp[i] + rng.normal(5.0, 12.0))), dbp=int(round(c.dbp[i] + rng.normal(0.0, 8.0))),
            bmi=float(c.bmi[i]),
        ))
    visits.sort(key=lambda v: v.date)

    dx_code = "E10" if t1 else "E11"
    last_outpatient: Visit | None = None
    lipid_due = start
    for v in visits:
        enc = counters.next_encounter()
        out.add("encounters.csv", {
            "encounter_id": enc, "patient_id": ident.patient_id, "encounter_type": v.kind,
            "admit_date": v.date.isoformat(), "discharge_date": v.discharge.isoformat(),
            "department": "Endocrinology" if v.kind == "outpatient" else "Internal Medicine",
            "attending": f"{v.provider[0]} {v.provider[1]}", "reason": v.reason,
        })
        age_v = age_at(v.date)
        codes = [f"{dx_code}.65" if (v.hba1c or 0) > 9.0 else f"{dx_code}.9"]
        if v.kind == "inpatient":
            key = next(k for k, r in INPATIENT_REASONS.items() if r[0] == v.reason)
            codes.insert(0, INPATIENT_REASONS[key][1] or f"{dx_code}.649")
        if c.hypertension[i]:
            codes.append("I10")
        if c.ldl[i] > 130 or "atorvastatin" in ctx.medications:
            codes.append("E78.5" if c.triglycerides[i] > 150 else "E78.00")
        if c.bmi[i] >= 30:
            codes.append("E66.9")
        if c.smoking[i] == "current":
            codes.append("F17.210")
        elif c.smoking[i] == "former":
            codes.append("Z87.891")
        years_before_index = (index - v.date).days / DAYS_PER_YEAR
        if c.prevalent_retinopathy[i] and years_before_index < 1.5:
            codes += [f"{dx_code}.319", "H36.0"]
        egfr_v = float(np.clip(c.egfr[i] + 0.8 * years_before_index + rng.normal(0.0, 6.0), 4.0, 150.0))
        uacr_v = float(np.clip(c.uacr[i] * np.exp(rng.normal(0.0, 0.45)), 1.0, 6000.0))
        if c.prevalent_nephropathy[i] and years_before_index < 1.5:
            codes.append(f"{dx_code}.22" if c.egfr[i] < 60 else f"{dx_code}.21")
        ckd = ckd_stage_code(c.egfr[i], c.uacr[i])
        if ckd and rng.random() < 0.8:
            codes.append(ckd)
        for code in dict.fromkeys(codes):
            out.add("diagnoses.csv", {
                "patient_id": ident.patient_id, "encounter_id": enc, "diagnosis_date": v.date.isoformat(),
                "icd10_code": code, "description": ICD10[code],
            })

        out.add("vitals.csv", {
            "patient_id": ident.patient_id, "encounter_id": enc, "measured_at": _time(rng, v.date),
            "systolic_bp": v.sbp, "diastolic_bp": v.dbp, "heart_rate": int(rng.normal(74.0, 9.0)),
            "weight_kg": round(v.bmi * (c.height_cm[i] / 100.0) ** 2, 1), "height_cm": round(float(c.height_cm[i]), 1),
            "bmi": round(v.bmi, 1),
        })

        taken = _time(rng, v.date, 7, 12)
        labs: list[tuple[str, float]] = []
        if v.hba1c is not None:
            labs.append(("HbA1c", round(v.hba1c, 1)))
        if v.kind == "inpatient" or rng.random() < 0.55:
            creat = creatinine_from_egfr(egfr_v, age_v, female) * np.exp(rng.normal(0.0, 0.03))
            labs.append(("Creatinine", round(float(creat), 2)))
            labs.append(("eGFR (CKD-EPI 2021)", round(egfr_ckd_epi_2021(round(float(creat), 2), age_v, female))))
        if v.kind == "outpatient" and v.date >= lipid_due:
            lipid_due = v.date + dt.timedelta(days=300)
            ldl = float(np.clip(c.ldl[i] + rng.normal(0.0, 12.0), 25.0, 300.0))
            hdl = float(np.clip(c.hdl[i] + rng.normal(0.0, 4.0), 15.0, 120.0))
            tg = float(np.clip(c.triglycerides[i] * np.exp(rng.normal(0.0, 0.2)), 25.0, 1500.0))
            labs += [
                ("LDL cholesterol", round(ldl)), ("HDL cholesterol", round(hdl)), ("Triglycerides", round(tg)),
                ("Total cholesterol", round(ldl + hdl + tg / 5.0)),
            ]
            if rng.random() < 0.75:
                labs.append(("Urine albumin/creatinine ratio", round(uacr_v, 1)))
        if v.kind == "inpatient":
            labs.append(("Glucose", int(np.clip(rng.normal(240.0 if "keto" in v.reason else 180.0, 60.0), 35, 700))))
        for test, value in labs:
            loinc, unit = LABS[test]
            out.add("labs.csv", {
                "patient_id": ident.patient_id, "encounter_id": enc, "collected_at": taken, "test": test,
                "loinc": loinc, "value": f"{value:g}", "unit": unit,
            })

        notes: list[tuple[str, str, str]] = []  # (type, author, text)
        author = f"{v.provider[0]} {v.provider[1]}"
        if v.kind == "inpatient":
            notes.append(("discharge_summary", author, writer.discharge_summary(v)))
        elif last_outpatient is None or v.date == index or rng.random() < 0.25:
            notes.append(("progress_note", author, writer.progress_note(v, last_outpatient)))
        if v.kind == "outpatient" and rng.random() < 0.12:
            nurse = PROVIDERS[int(rng.integers(0, len(PROVIDERS)))]
            notes.append(("telephone", f"{nurse[0]} {nurse[1]}", writer.telephone_note(v.date, nurse)))
        if v.date == index:
            if rng.random() < 0.5:
                clerk = PROVIDERS[int(rng.integers(0, len(PROVIDERS)))]
                notes.append(("registration", f"{clerk[0]} {clerk[1]}", writer.registration_note(v.date)))
            if rng.random() < 0.35:
                eye = PROVIDERS[int(rng.integers(0, len(PROVIDERS)))]
                notes.append(("referral", author, writer.referral_letter(v.date, eye, v.provider, v.hba1c)))
        for note_type, note_author, text in notes:
            out.add("notes.csv", {
                "note_id": counters.next_note(), "patient_id": ident.patient_id, "encounter_id": enc,
                "note_date": v.date.isoformat(), "note_type": note_type, "author": note_author, "text": text,
            })
        if v.kind == "outpatient":
            last_outpatient = v
    out.facts = writer.facts
    return out
