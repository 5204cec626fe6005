"""The ehr_complication_risk feature builder: only data dated at or before each index date counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from practicum.projects.ehr_complication_risk.features import (
    DATE_COLUMNS,
    NOTE_FEATURES,
    STRUCTURED_FEATURES,
    features_for,
    labelled_features,
    patient_features,
    read_tables,
    up_to_index,
)


@pytest.fixture(scope="module")
def test_dir(small_build):
    return small_build / "public" / "ehr_risk" / "test"


@pytest.fixture(scope="module")
def tables(test_dir):
    return read_tables(test_dir)


def _later(day: str, days: int, with_time: bool) -> str:
    moment = pd.Timestamp(day) + pd.Timedelta(days=days, hours=23)  # late in the day: after that day's visit
    return moment.strftime("%Y-%m-%d %H:%M:%S" if with_time else "%Y-%m-%d")


def _future_rows(tables: dict[str, pd.DataFrame], patient: str, index: str, days: int) -> dict[str, pd.DataFrame]:
    """The tables plus, for ``patient``, one alarming row per dated table ``days`` after the index date."""
    out = dict(tables)

    def add(name: str, **values: str) -> None:
        row = {column: "" for column in tables[name].columns} | {"patient_id": patient} | values
        out[name] = pd.concat([out[name], pd.DataFrame([row])], ignore_index=True)

    stamp = lambda with_time=False: _later(index, days, with_time)  # noqa: E731
    add("labs.csv", collected_at=stamp(True), test="HbA1c", value="14.9", unit="%")
    add("labs.csv", collected_at=stamp(True), test="Urine albumin/creatinine ratio", value="2500", unit="mg/g")
    add("labs.csv", collected_at=stamp(True), test="eGFR (CKD-EPI 2021)", value="12", unit="mL/min/1.73m2")
    add("vitals.csv", measured_at=stamp(True), systolic_bp="210", diastolic_bp="120", bmi="50")
    add("diagnoses.csv", diagnosis_date=stamp(), icd10_code="I10", description="Essential (primary) hypertension")
    add("diagnoses.csv", diagnosis_date=stamp(), icd10_code="N18.5", description="Chronic kidney disease, stage 5")
    add("medications.csv", drug="insulin glargine", start_date=stamp())
    add("medications.csv", drug="amlodipine", start_date=stamp())
    add("devices.csv", device_type="insulin pump", start_date=stamp())
    add("encounters.csv", encounter_type="inpatient", admit_date=stamp(), discharge_date=stamp())
    add("notes.csv", note_date=stamp(), note_type="progress_note", text="Current smoker. Diabetic ketoacidosis.")
    return out


def test_every_dated_table_is_cut_at_the_index_date(tables):
    assert set(DATE_COLUMNS) <= set(tables)
    patient, index = tables["patients.csv"][["patient_id", "index_date"]].iloc[0]
    kept = up_to_index(_future_rows(tables, patient, index, days=1))
    for name in DATE_COLUMNS:
        assert len(kept[name]) == len(tables[name]), f"{name}: a row after the index date survived"
    kept_today = up_to_index(_future_rows(tables, patient, index, days=0))
    assert len(kept_today["labs.csv"]) == len(tables["labs.csv"]) + 3


def test_rows_after_the_index_date_do_not_change_any_feature(tables):
    before = patient_features(tables)
    patients = tables["patients.csv"][["patient_id", "index_date"]].iloc[:5]
    leaky = tables
    for patient, index in patients.itertuples(index=False):
        leaky = _future_rows(leaky, patient, index, days=1)
    after = patient_features(leaky)
    pd.testing.assert_frame_equal(before, after)


def test_rows_on_the_index_date_count(tables):
    patient, index = tables["patients.csv"][["patient_id", "index_date"]].iloc[0]
    before = patient_features(tables).loc[patient]
    after = patient_features(_future_rows(tables, patient, index, days=0)).loc[patient]
    assert after["hba1c_max"] == 14.9
    assert after["hba1c_last"] == 14.9
    assert after["dx_ckd"] == 1.0 and after["rx_ccb"] == 1.0 and after["insulin_pump"] == 1.0
    assert after["n_inpatient"] == before["n_inpatient"] + 1
    assert after["note_current_smoker"] == 1.0


def test_features_cover_every_patient_without_labels(tables, test_dir):
    features = patient_features(tables)
    assert list(features.index) == list(tables["patients.csv"]["patient_id"])
    assert set(STRUCTURED_FEATURES) | set(NOTE_FEATURES) == set(features.columns)
    assert not any("retinopathy" in c or "nephropathy" in c for c in features.columns)
    core = features[["age", "duration_years", "hba1c_mean", "sbp_mean", "ldl_mean"]]
    assert core.notna().all().all()
    assert features["duration_years"].between(0, 90).all()
    assert features["hba1c_mean"].between(4, 17).all()
    outcomes = pd.read_csv(test_dir / "outcomes.csv")
    assert not {"retinopathy_5y", "nephropathy_5y"} & set(outcomes.columns)


def test_grader_input_keeps_row_order_and_rejects_unknown_patients(tables, test_dir):
    ids = list(tables["patients.csv"]["patient_id"].iloc[[7, 2, 5]])
    frame = features_for(pd.DataFrame({"patient_id": ids, "ehr_dir": str(test_dir)}))
    assert list(frame.index) == [0, 1, 2]
    expected = patient_features(tables).loc[ids]
    np.testing.assert_allclose(frame.to_numpy(), expected.to_numpy())
    repeated = features_for(pd.DataFrame({"patient_id": [ids[0], ids[1], ids[0]], "ehr_dir": str(test_dir)}))
    np.testing.assert_allclose(repeated.to_numpy(), expected.loc[[ids[0], ids[1], ids[0]]].to_numpy())
    with pytest.raises(KeyError, match="not in patients.csv"):
        features_for(pd.DataFrame({"patient_id": ["nobody"], "ehr_dir": str(test_dir)}))
    with pytest.raises(ValueError, match="ehr_dir"):
        features_for(pd.DataFrame({"patient_id": ids}))


def test_labelled_features_leave_out_patients_with_the_complication_at_index(small_build):
    train = small_build / "public" / "ehr_risk" / "train"
    outcomes = pd.read_csv(train / "outcomes.csv", dtype={"patient_id": str})
    x, y = labelled_features(train, "retinopathy_5y")
    assert list(x.index) == list(y.index)
    assert set(y.unique()) == {0, 1}
    assert len(y) == outcomes["retinopathy_5y"].notna().sum() < len(outcomes)
    with pytest.raises(ValueError, match="unknown label"):
        labelled_features(train, "blindness")
