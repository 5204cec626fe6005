"""`practicum datasets build` on the small size: verified, split by patient, labels apart, cards."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pydicom
import pytest

PRACTICUM = str(Path(sys.executable).parent / "practicum")


@pytest.fixture(scope="module")
def build(small_build) -> Path:
    return small_build


def test_risk_splits_are_disjoint_by_patient_and_test_labels_are_hidden(build):
    ids = {
        split: set(pd.read_csv(build / "public" / "ehr_risk" / split / "patients.csv")["patient_id"])
        for split in ("train", "val", "test")
    }
    assert all(ids.values())
    assert not (ids["train"] & ids["val"] or ids["train"] & ids["test"] or ids["val"] & ids["test"])
    public_test = pd.read_csv(build / "public" / "ehr_risk" / "test" / "outcomes.csv")
    assert "retinopathy_5y" not in public_test.columns and "nephropathy_5y" not in public_test.columns
    hidden = build / "hidden" / "ehr_risk" / "test_outcomes.csv"
    assert set(pd.read_csv(hidden)["patient_id"]) == ids["test"]
    assert stat.S_IMODE(os.stat(hidden).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(build / "hidden").st_mode) == 0o700


def test_cgm_test_block_follows_the_public_blocks_in_time(build):
    val = pd.read_csv(build / "public" / "cgm" / "val_cgm.csv", parse_dates=["timestamp"])
    test = pd.read_csv(build / "hidden" / "cgm" / "test_cgm.csv", parse_dates=["timestamp"])
    last_public = val.groupby("patient_id")["timestamp"].max()
    first_hidden = test.groupby("patient_id")["timestamp"].min()
    assert (first_hidden > last_public.reindex(first_hidden.index)).all()
    assert not list((build / "public").rglob("test_cgm*"))


def test_every_dataset_has_a_card_with_checksums(build):
    for name in ("ehr_risk", "cgm"):
        card = json.loads((build / "public" / name / "card.json").read_text())
        assert card["version"] and card["checksums"]
        some_file, digest = next(iter(card["checksums"].items()))
        assert len(digest) == 64 and (build / "public" / name / some_file).exists()
        assert (build / "public" / name / "CARD.md").read_text().startswith(f"# {name}")


def test_verify_passes_on_the_build_and_fails_on_a_leak(build, tmp_path):
    ok = subprocess.run([PRACTICUM, "datasets", "verify", str(build)], capture_output=True, text=True)
    assert ok.returncode == 0 and "PASSED" in ok.stdout
    manifest = json.loads((build / "sources" / "ehr" / "raw" / "ehr_phi_manifest.json").read_text())
    leaky = tmp_path / "leaky"
    subprocess.run(["cp", "-r", str(build / "deid" / "ehr"), str(leaky)], check=True)
    planted = _a_planted_name(manifest)
    with (leaky / "notes.csv").open("a") as notes:
        notes.write(f'"Xleak","Pleak","Xenc","2020-01-01","note","seen by {planted} today"\n')
    bad = subprocess.run(
        [PRACTICUM, "datasets", "verify", str(leaky), "--manifest", str(build / "sources" / "ehr" / "raw" / "ehr_phi_manifest.json")],
        capture_output=True, text=True,
    )
    assert bad.returncode == 1 and "FAILED" in bad.stdout


def _a_planted_name(manifest: dict) -> str:
    identifiers = manifest["patients"][0]["identifiers"]
    return next(item["value"] for item in identifiers if item["kind"] == "last_name")


def test_ct_split_keeps_test_annotations_hidden_and_uids_linked(build):
    ct = build / "public" / "ct"
    assert not (ct / "test" / "annotations.csv").exists()
    assert (build / "hidden" / "ct" / "test_annotations.csv").exists()
    test_series = (ct / "test" / "seriesuids.csv").read_text().split()
    assert test_series
    train = pd.read_csv(ct / "train" / "annotations.csv")
    assert len(train) > 0
    series_on_disk = {
        str(pydicom.dcmread(next(folder.glob("*.dcm")), stop_before_pixels=True).SeriesInstanceUID)
        for folder in {p.parent for p in (ct / "train" / "images").rglob("*.dcm")}
    }
    assert set(train["seriesuid"]) <= series_on_disk
    hidden = pd.read_csv(build / "hidden" / "ct" / "test_annotations.csv")
    assert set(hidden["seriesuid"]) <= set(test_series)


def test_deid_cli_takes_a_users_dicom_folder_and_skips_bad_files(build, tmp_path):
    source = tmp_path / "export"
    first_series = next((build / "sources" / "ct" / "raw" / "dicom").iterdir())
    subprocess.run(["cp", "-r", str(first_series), str(source)], check=True)
    (source / "readme.txt").write_text("not an image")
    some_file = next(source.rglob("*.dcm"))
    (source / "truncated.dcm").write_bytes(some_file.read_bytes()[:500])
    before = sorted(p.name for p in source.rglob("*"))
    done = subprocess.run(
        [PRACTICUM, "datasets", "deid", str(source), "--out", str(tmp_path / "out"), "--quiet"],
        capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert {s["path"] for s in report["skipped"]} == {"readme.txt", "truncated.dcm"}
    assert report["processed"] == report["n_inputs"] - 2
    assert sorted(p.name for p in source.rglob("*")) == before  # inputs untouched
    assert len(list((tmp_path / "out").rglob("*.dcm"))) == report["processed"]
