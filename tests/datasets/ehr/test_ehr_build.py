"""The synthetic hospital exports: layout, planted PHI, CGM and outcome calibration, determinism."""

import csv
import datetime as dt
import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from practicum.datasets.cgm.forecast import persistence_rmse
from practicum.datasets.ehr import SIZES, BuildSize, build_ehr_exports
from practicum.datasets.ehr.build import MANIFEST_NAME, RAW_SUBDIR
from practicum.datasets.ehr.features import patient_features, read_tables
from practicum.datasets.ehr.manifest import PHIManifest
from practicum.datasets.ehr.records import TABLE_COLUMNS
from practicum.datasets.ehr_deid.restricted_zip3 import RESTRICTED_ZIP3

# HIPAA Safe Harbor identifier (164.514(b)(2)(i)(A)-(R)) -> manifest kinds that plant it.
SAFE_HARBOR_KINDS = {
    "A names": {"first_name", "last_name", "full_name", "relative_name", "provider_name", "employer"},
    "B geographic subdivisions": {"street_address", "city", "zip5"},
    "D telephone": {"phone", "emergency_contact_phone"},
    "E fax": {"fax"},
    "F email": {"email"},
    "G SSN": {"ssn"},
    "H medical record number": {"mrn"},
    "I health plan beneficiary number": {"health_plan_id"},
    "J account number": {"account_number"},
    "K certificate/license number": {"drivers_license"},
    "L vehicle identifier": {"vehicle_plate"},
    "M device serial": {"device_serial"},
    "N URL": {"url"},
    "O IP address": {"ip_address"},
    "P biometric identifier": {"biometric_id"},
    "Q full-face photograph": {"photo_file"},
    "R other unique identifier": {"patient_id", "encounter_id", "note_id"},
}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("ehr-small")
    report = build_ehr_exports(out, size="small", seed=0, progress=False)
    return out, report, PHIManifest.read(out / MANIFEST_NAME)


def test_layout_and_row_counts(small):
    out, report, manifest = small
    raw = out / RAW_SUBDIR
    expected = set(TABLE_COLUMNS) | {"cgm.csv", "cgm_events.csv"}
    assert {p.name for p in raw.iterdir()} == expected
    assert (out / MANIFEST_NAME).exists() and not (raw / MANIFEST_NAME.name).exists()
    for name, n_rows in report.rows.items():
        with (raw / name).open(encoding="utf-8", newline="") as handle:
            assert sum(1 for _ in csv.reader(handle)) - 1 == n_rows == manifest.tables[name]
    assert report.n_patients == SIZES["small"].n_patients == report.rows["patients.csv"]
    assert report.n_cgm_patients == SIZES["small"].n_cgm_patients
    assert json.loads(report.to_json())["seed"] == 0


def test_every_safe_harbor_identifier_kind_is_planted(small):
    out, _, manifest = small
    kinds = {v.kind for v in manifest.all_values()}
    for identifier, wanted in SAFE_HARBOR_KINDS.items():
        assert kinds & wanted, identifier
    # C: dates of every kind, and ages over 89 with their birth dates
    date_columns = {(d.table, d.column) for p in manifest.patients for d in p.dates}
    assert {("patients.csv", "date_of_birth"), ("encounters.csv", "admit_date"),
            ("encounters.csv", "discharge_date"), ("cgm.csv", "timestamp")} <= date_columns
    assert any(p.age.value >= 90 for p in manifest.patients)
    assert any(a >= 90 for p in manifest.patients for a in p.note_ages)
    # ZIP codes in the restricted three-digit areas, so "000" is exercised
    assert any(p.zip.value[:3] in RESTRICTED_ZIP3 for p in manifest.patients)


def test_notes_mention_the_patients_phi(small):
    out, _, manifest = small
    notes = pd.read_csv(out / RAW_SUBDIR / "notes.csv", dtype=str, keep_default_na=False)
    patients = pd.read_csv(out / RAW_SUBDIR / "patients.csv", dtype=str, keep_default_na=False).set_index("patient_id")
    text = notes.groupby("patient_id")["text"].apply("\n".join)
    for pid in patients.index[:50]:
        t = text[pid]
        p = patients.loc[pid]
        assert p["last_name"] in t or p["last_name"].upper() in t
        assert p["mrn"] in t or p["phone"] in t
    all_text = "\n".join(text)
    for needle in ("Dr. ", "MRN", "DOB", "@example.", "https://", "SSN ", "year-old"):
        assert needle in all_text


def test_cgm_traces_are_calibrated(small):
    """Persistence ("last value") RMSE at 30 minutes lies in [18, 26] mg/dl on the small build."""
    out, report, _ = small
    cgm = pd.read_csv(out / RAW_SUBDIR / "cgm.csv", dtype={"patient_id": str})
    ts = pd.to_datetime(cgm["timestamp"])
    steps = ts.groupby(cgm["patient_id"]).diff().dropna().dt.total_seconds()
    assert (steps == 300).all()
    traces = np.stack([g["glucose_mg_dl"].to_numpy(dtype=float) for _, g in cgm.groupby("patient_id")], axis=1)
    rmse = persistence_rmse(traces, 30)
    assert 18.0 <= rmse <= 26.0
    assert rmse == pytest.approx(report.persistence_rmse_30min, abs=0.6)  # integer readings in the CSV
    missing = np.isnan(traces).mean()
    assert 0.01 < missing < 0.10
    values = traces[np.isfinite(traces)]
    assert values.min() >= 40 and values.max() <= 400 and 120 < values.mean() < 200
    events = pd.read_csv(out / RAW_SUBDIR / "cgm_events.csv")
    assert {"meal", "bolus", "basal_rate", "exercise"} <= set(events["event"])


def test_no_record_after_the_index_date(small):
    out, _, _ = small
    t = read_tables(out / RAW_SUBDIR, ("patients.csv", "encounters.csv", "diagnoses.csv", "outcomes.csv"))
    index = t["patients.csv"].set_index("patient_id")["index_date"]
    enc = t["encounters.csv"]
    assert (enc["admit_date"] <= enc["patient_id"].map(index)).all()
    dx = t["diagnoses.csv"]
    assert (dx["diagnosis_date"] <= dx["patient_id"].map(index)).all()
    outcomes = t["outcomes.csv"]
    events = outcomes[outcomes["retinopathy_5y"] == "1"]
    assert (events["retinopathy_date"] > events["index_date"]).all()
    assert set(outcomes["retinopathy_5y"]) == {"0", "1", ""}


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_builds_are_deterministic(tmp_path):
    spec = BuildSize(n_patients=40, n_cgm_patients=2, cgm_days=1)
    a = build_ehr_exports(tmp_path / "a", size=spec, seed=5, progress=False)
    b = build_ehr_exports(tmp_path / "b", size=spec, seed=5, progress=False)
    c = build_ehr_exports(tmp_path / "c", size=spec, seed=6, progress=False)
    assert _digest(tmp_path / "a" / "raw") == _digest(tmp_path / "b" / "raw")
    assert _digest(tmp_path / "a" / "raw") != _digest(tmp_path / "c" / "raw")
    assert a.rows == b.rows
    # a rebuild replaces the previous export completely
    build_ehr_exports(tmp_path / "a", size=spec, seed=6, progress=False)
    assert _digest(tmp_path / "a" / "raw") == _digest(tmp_path / "c" / "raw")
    assert not [p for p in (tmp_path / "a" / "raw").iterdir() if p.name.startswith(".")]
    assert c.seed == 6


def test_outcomes_are_learnable_from_structured_features_but_not_from_age(tmp_path):
    """Reduced, seed-fixed build (2,000 patients, EHR tables only, no CGM) so the held-out
    half is large enough for a stable AUROC; the small build uses the same generator."""
    build_ehr_exports(tmp_path, size=BuildSize(n_patients=2000, n_cgm_patients=0, cgm_days=14), seed=11,
                      progress=False)
    tables = read_tables(tmp_path / RAW_SUBDIR)
    features = patient_features(tables)
    outcomes = tables["outcomes.csv"].set_index("patient_id").reindex(features.index)
    for label in ("retinopathy_5y", "nephropathy_5y"):
        at_risk = outcomes[label] != ""
        x = features[at_risk].fillna(features[at_risk].median())
        y = outcomes.loc[at_risk, label].astype(int).to_numpy()
        x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.5, stratify=y, random_state=0)
        model = make_pipeline(StandardScaler(), LogisticRegression(C=0.3, max_iter=2000)).fit(x_train, y_train)
        good = roc_auc_score(y_test, model.predict_proba(x_test)[:, 1])
        age_model = LogisticRegression().fit(x_train[["age"]], y_train)
        age_only = roc_auc_score(y_test, age_model.predict_proba(x_test[["age"]])[:, 1])
        assert good >= 0.75, (label, good)
        assert age_only <= 0.62, (label, age_only)
        assert 0.04 < y.mean() < 0.35  # nephropathy about 7 %, retinopathy about 20 % (the card's table)


def test_dates_in_notes_are_recorded_for_verification(small):
    _, _, manifest = small
    p = manifest.patients[0]
    assert p.note_dates and all(dt.date.fromisoformat(d) for d in p.note_dates)
    assert p.rows["patients.csv"] == [0, 1]
