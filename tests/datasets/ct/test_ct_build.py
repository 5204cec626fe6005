"""Synthetic CT exports: valid CT Image Storage DICOM, consistent geometry and UIDs, planted PHI
recorded in a manifest kept apart, LUNA16 annotations in world millimetres, determinism."""

import json
from collections import defaultdict
from dataclasses import replace

import numpy as np
import pydicom
import pytest
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian

from practicum.datasets.ct import (
    BuildSize,
    build_ct_exports,
    generate_case,
    load_series,
    plan_build,
    read_annotations,
    read_seriesuids,
    series_files,
)
from practicum.datasets.dicom_deid import PhiManifest

# Two patients, each with a follow-up study reconstructed twice: 8 series of 64 x 64 x ~42.
TINY = BuildSize(
    name="tiny",
    n_patients=2,
    second_study_share=1.0,
    second_recon_share=1.0,
    matrices=((64, 300.0, 320.0),),
    slice_thickness_mm=(5.0,),
    coverage_mm=(200.0, 220.0),
    slices=(40, 44),
)


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    out = tmp_path_factory.mktemp("ct")
    report = build_ct_exports(out, TINY, seed=1, progress=False)
    return out, report


def test_layout_and_report(build):
    out, report = build
    raw = out / "raw"
    assert sorted(p.name for p in raw.iterdir()) == [
        "annotations.csv",
        "annotations_excluded.csv",
        "build_report.json",
        "dicom",
        "phi_manifest.json",
        "practice_seriesuids.csv",
        "seriesuids.csv",
    ]
    assert (report.n_patients, report.n_studies, report.n_series) == (2, 4, 8)
    assert report.n_practice_series == 0 and (raw / "practice_seriesuids.csv").read_text() == ""
    assert report.n_files == len(list((raw / "dicom").rglob("*.dcm")))
    assert json.loads((raw / "build_report.json").read_text())["n_files"] == report.n_files
    assert not list(out.glob(".raw*")), "no temporary build folder left behind"
    with pytest.raises(FileExistsError):
        build_ct_exports(out, TINY, seed=1, progress=False)


def test_files_are_ct_image_storage_with_valid_meta_and_consistent_uids(build):
    out, _ = build
    groups = series_files(out / "raw" / "dicom")
    assert len(groups) == 8
    by_study = defaultdict(set)
    for series_uid, files in groups.items():
        slices = [pydicom.dcmread(f) for f in files]
        first = slices[0]
        assert first.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
        assert first.preamble is not None and len(first.preamble) == 128
        for ds in slices:
            assert ds.SOPClassUID == CTImageStorage == ds.file_meta.MediaStorageSOPClassUID
            assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
            assert ds.SeriesInstanceUID == series_uid
            assert (ds.StudyInstanceUID, ds.FrameOfReferenceUID) == (first.StudyInstanceUID, first.FrameOfReferenceUID)
            assert list(ds.ImageOrientationPatient) == [1, 0, 0, 0, 1, 0]
            assert ds.PixelRepresentation == 1 and ds.BitsAllocated == 16 and ds.RescaleSlope == 1
            assert ds.pixel_array.dtype == np.int16
        assert len({ds.SOPInstanceUID for ds in slices}) == len(slices)
        z = sorted(float(ds.ImagePositionPatient[2]) for ds in slices)
        assert np.allclose(np.diff(z), float(first.SliceThickness))
        by_study[first.StudyInstanceUID].add(first.FrameOfReferenceUID)
    assert all(len(f) == 1 for f in by_study.values()), "two recons of a study share the frame of reference"


def test_hu_round_trip_equals_the_generated_volume(build):
    out, _ = build
    plan = plan_build(TINY, 1)
    series = plan[0].series[0]
    volume = load_series(series_files(out / "raw" / "dicom")[series.series_uid])
    case = generate_case(series.case)
    assert volume.hu.shape == case.stored.shape
    assert np.array_equal(volume.hu, case.hu)
    assert volume.origin == pytest.approx(series.case.geometry.origin)
    assert volume.spacing == pytest.approx(series.case.geometry.spacing)
    lungs = volume.hu[volume.hu.shape[0] // 2]
    assert (lungs < -700).mean() > 0.1 and lungs.max() > 300  # air/lung and bone present


def test_annotations_are_luna16_csv_in_world_mm(build):
    out, report = build
    raw = out / "raw"
    header = (raw / "annotations.csv").read_text().splitlines()[0]
    assert header == "seriesuid,coordX,coordY,coordZ,diameter_mm"
    rows = read_annotations(raw / "annotations.csv")
    excluded = read_annotations(raw / "annotations_excluded.csv")
    uids = read_seriesuids(raw / "seriesuids.csv")
    assert len(rows) == report.n_nodules > 0 and len(excluded) == report.n_excluded
    assert set(uids) == set(series_files(raw / "dicom"))
    assert all(3.0 <= r.diameter_mm <= 30.0 and r.seriesuid in uids for r in rows)
    assert all(r.diameter_mm == -1 or r.diameter_mm < 3.0 for r in excluded)
    # Each nodule centre lies inside its scan's grid.
    for uid, files in list(series_files(raw / "dicom").items())[:2]:
        vol = load_series(files)
        for r in (r for r in rows if r.seriesuid == uid):
            k = (r.z - vol.origin[2]) / vol.spacing[0]
            j = (r.y - vol.origin[1]) / vol.spacing[1]
            i = (r.x - vol.origin[0]) / vol.spacing[2]
            assert 0 <= k < vol.hu.shape[0] and 0 <= j < vol.hu.shape[1] and 0 <= i < vol.hu.shape[2]


def test_phi_is_planted_everywhere_and_recorded_in_the_manifest(build):
    out, _ = build
    raw = out / "raw"
    manifest = PhiManifest.load(raw / "phi_manifest.json")
    kinds = {v.kind for v in manifest.values}
    assert {"name", "id", "birth_date", "date", "time", "datetime", "text", "institution", "device", "private"} <= kinds
    some = pydicom.dcmread(next((raw / "dicom").rglob("*.dcm")))
    values = {v.value for v in manifest.values}
    for keyword in ("PatientName", "PatientID", "AccessionNumber", "InstitutionName", "StationName", "StudyDescription"):
        assert str(some.data_element(keyword).value) in values, keyword
    assert str(some.ReferringPhysicianIdentificationSequence[0].PersonIdentificationCodeSequence[0].CodeValue) in values
    assert some.RequestAttributesSequence[0].IssuerOfAccessionNumberSequence[0].LocalNamespaceEntityID
    assert any(t.is_private for t in some.keys())
    assert str(some.OtherPatientIDsSequence[0].PatientID) in values
    # Every original UID written is in the manifest.
    uids = set(manifest.uids)
    for f in list((raw / "dicom").rglob("*.dcm"))[:20]:
        ds = pydicom.dcmread(f)
        assert {ds.SOPInstanceUID, ds.SeriesInstanceUID, ds.StudyInstanceUID, ds.FrameOfReferenceUID} <= uids
    # The manifest sits beside the exports, not among them.
    assert not list((raw / "dicom").rglob("*.json"))


def test_builds_are_deterministic(build, tmp_path):
    out, _ = build
    again = build_ct_exports(tmp_path, TINY, seed=1, progress=False)
    assert (tmp_path / "raw" / "phi_manifest.json").read_bytes() == (out / "raw" / "phi_manifest.json").read_bytes()
    assert (tmp_path / "raw" / "annotations.csv").read_bytes() == (out / "raw" / "annotations.csv").read_bytes()
    a = sorted((out / "raw" / "dicom").rglob("*.dcm"))[:5]
    b = sorted((tmp_path / "raw" / "dicom").rglob("*.dcm"))[:5]
    assert [f.read_bytes() for f in a] == [f.read_bytes() for f in b]
    assert again.n_files == sum(1 for _ in (tmp_path / "raw" / "dicom").rglob("*.dcm"))


def test_practice_patients_come_after_the_cohort_and_leave_it_as_it_was():
    alone = plan_build(TINY, seed=1)
    with_practice = plan_build(replace(TINY, practice_patients=1), seed=1)
    assert with_practice[: len(alone)] == alone and not any(study.practice for study in alone)
    extra = with_practice[len(alone):]
    assert extra and all(study.practice for study in extra)
    assert {study.patient.key for study in extra}.isdisjoint(study.patient.key for study in alone)


def test_the_practice_split_is_published_apart_and_its_annotations_are_the_graders(small_build):
    public, hidden = small_build / "public" / "ct", small_build / "hidden" / "ct"
    practice = read_seriesuids(public / "practice" / "seriesuids.csv")
    others = {split: set(read_seriesuids(public / split / "seriesuids.csv")) for split in ("train", "val", "test")}
    assert practice and all(others[split].isdisjoint(practice) for split in others)
    assert not (public / "practice" / "annotations.csv").exists()
    reference = hidden / "practice_annotations.csv"
    assert reference.stat().st_mode & 0o777 == 0o600 and {row.seriesuid for row in read_annotations(reference)} <= set(practice)
    for split in ("train", "val"):
        assert {row.seriesuid for row in read_annotations(public / split / "annotations.csv")}.isdisjoint(practice)
    assert json.loads((public / "card.json").read_text())["splits"]["practice"] == len(practice)
