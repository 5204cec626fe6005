"""MIMIC-IV demo CSVs -> the lab's ehr_risk dataset, read by the risk project's features and the grader."""

from __future__ import annotations

import random
import re

import pandas as pd
import pytest
from public_dataset_copies import write_mimic_demo

from practicum.datasets.imports import DatasetImportError, import_dataset
from practicum.datasets.imports.mimic_iv_demo import ckd_epi_2021
from practicum.graders.protocols import complication_risk
from practicum.projects.ehr_complication_risk.features import labelled_features, patient_features, read_tables


def test_an_import_feeds_the_risk_project_and_its_grader(tmp_path):
    source = write_mimic_demo(tmp_path / "mimic")
    report = import_dataset("mimic-iv-demo", source, tmp_path / "build")
    public, hidden = tmp_path / "build" / "public", tmp_path / "build" / "hidden"
    assert report.counts["patients_in_source"] == 14 and report.counts["patients_with_diabetes"] == 12
    assert sum(report.splits.values()) == 12
    outcomes = pd.concat([pd.read_csv(public / "ehr_risk" / s / "outcomes.csv", dtype=str, keep_default_na=False)
                          for s in ("train", "val")] + [pd.read_csv(hidden / "ehr_risk" / "test_outcomes.csv", dtype=str,
                                                                    keep_default_na=False)])
    assert sorted(outcomes["retinopathy_5y"]) == [""] + ["0"] * 7 + ["1"] * 4  # one present at index, four later
    assert "retinopathy_5y" not in pd.read_csv(public / "ehr_risk" / "test" / "outcomes.csv").columns
    for split in ("train", "val", "test"):
        features = patient_features(read_tables(public / "ehr_risk" / split))
        assert features["hba1c_mean"].notna().all() and features["egfr_mean"].notna().all()
        assert features["dx_hypertension"].eq(1).all() and features["rx_insulin"].eq(1).all()
        assert features["sbp_mean"].notna().all()
    x, y = labelled_features(public / "ehr_risk" / "train", "retinopathy_5y")
    assert len(x) == len(y) > 0
    inputs = complication_risk.model_inputs(public, hidden, {"label": "retinopathy_5y"}, rng=random.Random(0))
    assert len(inputs["test"]) == report.splits["test"]
    everything = b"".join(p.read_bytes() for p in (tmp_path / "build").rglob("*") if p.is_file() and "secrets" not in p.parts)
    originals = set(pd.read_csv(source / "hosp" / "admissions.csv", dtype=str)[["subject_id", "hadm_id"]].to_numpy().ravel())
    assert not originals & {m.decode() for m in re.findall(rb"\d+", everything)}
    card = (public / "ehr_risk" / "CARD.md").read_text()
    assert "MIMIC-IV" in card and "no original subject_id or hadm_id" in card


def test_ckd_epi_2021_matches_a_worked_value():
    # Inker et al. 2021: a 60-year-old woman with creatinine 1.0 mg/dL has an eGFR of about 64.
    assert ckd_epi_2021([1.0], [60], [True])[0] == pytest.approx(64.4, abs=0.5)
    assert ckd_epi_2021([1.0], [50], [False])[0] == pytest.approx(92, abs=1)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda hosp: (hosp / "admissions.csv").unlink(), "admissions.csv: missing"),
        (lambda hosp: (hosp / "diagnoses_icd.csv").write_text("subject_id,hadm_id,code\n1,2,E11\n"),
         "diagnoses_icd.csv: wrong header, missing columns ['icd_code', 'icd_version']"),
        (lambda hosp: (hosp / "admissions.csv").write_text(
            (hosp / "admissions.csv").read_text().replace(",2140-03-01 10:00:00,", ",yesterday,", 1)), "admissions.csv: column admittime"),
    ],
)
def test_bad_inputs_are_named_and_the_stored_dataset_kept(tmp_path, damage, message):
    build = tmp_path / "build"
    import_dataset("mimic-iv-demo", write_mimic_demo(tmp_path / "good"), build)
    before = (build / "public" / "ehr_risk" / "card.json").read_bytes()
    bad = write_mimic_demo(tmp_path / "bad")
    damage(bad / "hosp")
    with pytest.raises(DatasetImportError, match=re.escape(message)):
        import_dataset("mimic-iv-demo", bad, build)
    assert (build / "public" / "ehr_risk" / "card.json").read_bytes() == before
