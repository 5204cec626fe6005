"""On synthetic CT exports: UID links survive (study/series/frame of reference, references into
other instances), pixels are identical, dates move together per patient, outputs verify."""

import datetime as dt
import shutil
from collections import defaultdict

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

from practicum.datasets.ct import BuildSize, build_ct_exports, read_annotations, remap_series
from practicum.datasets.dicom_deid import (
    DeidOptions,
    Keyring,
    PhiManifest,
    deidentify_dicom_folder,
    verify_dicom_folder,
)

SECRET = b"linkage-test-secret-0123456789"
KOS = "1.2.840.10008.5.1.4.1.1.88.59"
TINY = BuildSize("tiny", 2, 1.0, 1.0, ((64, 300.0, 320.0),), (5.0,), (200.0, 220.0), (40, 44))


def key_object(referenced: list[pydicom.Dataset]) -> Dataset:
    """A Key Object Selection document pointing at CT slices (how annotations reference images)."""
    first = referenced[0]
    ds = Dataset()
    uid = generate_uid()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = KOS
    ds.file_meta.MediaStorageSOPInstanceUID = uid
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = KOS, uid, "KO"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = first.StudyInstanceUID, generate_uid()
    ds.PatientName, ds.PatientID, ds.IssuerOfPatientID = first.PatientName, first.PatientID, first.IssuerOfPatientID
    ds.ContentDate, ds.ContentTime = first.StudyDate, "120000"
    sops = []
    for r in referenced:
        item = Dataset()
        item.ReferencedSOPClassUID, item.ReferencedSOPInstanceUID = r.SOPClassUID, r.SOPInstanceUID
        sops.append(item)
    series = Dataset()
    series.SeriesInstanceUID = first.SeriesInstanceUID
    series.ReferencedSOPSequence = Sequence(sops)
    study = Dataset()
    study.StudyInstanceUID = first.StudyInstanceUID
    study.ReferencedSeriesSequence = Sequence([series])
    ds.CurrentRequestedProcedureEvidenceSequence = Sequence([study])
    return ds


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("link")
    build_ct_exports(root, TINY, seed=3, progress=False)
    dicom = root / "raw" / "dicom"
    slices = [pydicom.dcmread(f) for f in sorted(dicom.rglob("*.dcm"))[:3]]
    kos = key_object(slices)
    (dicom / "KOS").mkdir()
    pydicom.dcmwrite(dicom / "KOS" / "ko.dcm", kos, enforce_file_format=True)
    out = root / "deid"
    report = deidentify_dicom_folder(
        dicom, out, secret=SECRET, options=DeidOptions(retain_longitudinal_modified_dates=True), progress=False
    )
    return root, out, report, slices


def test_every_file_is_processed_and_verifies(exported):
    root, out, report, _ = exported
    assert report.processed == sum(1 for _ in (root / "raw" / "dicom").rglob("*.dcm")) and not report.skipped
    assert report.n_patients == 2
    verdict = verify_dicom_folder(out, PhiManifest.load(root / "raw" / "phi_manifest.json"), progress=False)
    assert verdict.ok, verdict.summary()


def test_study_series_and_frame_of_reference_stay_consistent(exported):
    root, out, _, _ = exported
    keys = Keyring(SECRET)
    by_series = defaultdict(list)
    for f in out.rglob("*.dcm"):
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        by_series[ds.SeriesInstanceUID].append(ds)
        assert f.parent.name == ds.SeriesInstanceUID and f.parent.parent.name == ds.StudyInstanceUID
        assert f.stem == ds.SOPInstanceUID == ds.file_meta.MediaStorageSOPInstanceUID
        for uid in (ds.SOPInstanceUID, ds.SeriesInstanceUID, ds.StudyInstanceUID):
            assert UID(uid).is_valid and uid.startswith("2.25.") and len(uid) <= 64
    originals = defaultdict(list)
    for f in (root / "raw" / "dicom").rglob("IM*.dcm"):
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        originals[ds.SeriesInstanceUID].append(ds)
    for series_uid, slices in originals.items():
        new = by_series[keys.uid(series_uid)]
        assert len(new) == len(slices)
        assert {d.StudyInstanceUID for d in new} == {keys.uid(slices[0].StudyInstanceUID)}
        assert {d.FrameOfReferenceUID for d in new} == {keys.uid(slices[0].FrameOfReferenceUID)}
        assert sorted(d.SOPInstanceUID for d in new) == sorted(keys.uid(d.SOPInstanceUID) for d in slices)
        # Related Series Sequence (kept, cleaned) points at the sibling reconstruction's new UID.
        related = {item.SeriesInstanceUID for d in new for item in d.get("RelatedSeriesSequence", [])}
        assert related <= set(by_series) and series_uid not in related


def test_referenced_sop_instance_uids_are_remapped_consistently(exported):
    _, out, _, slices = exported
    keys = Keyring(SECRET)
    kos = [pydicom.dcmread(f) for f in out.rglob("*.dcm") if pydicom.dcmread(f, stop_before_pixels=True).Modality == "KO"]
    assert len(kos) == 1
    refs = kos[0].CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence[0].ReferencedSOPSequence
    new_uids = [r.ReferencedSOPInstanceUID for r in refs]
    assert new_uids == [keys.uid(s.SOPInstanceUID) for s in slices]
    written = {f.stem for f in out.rglob("*.dcm")}
    assert set(new_uids) <= written, "every reference resolves to a de-identified file"


def test_pixels_are_identical(exported):
    root, out, _, _ = exported
    keys = Keyring(SECRET)
    new_by_sop = {f.stem: f for f in out.rglob("*.dcm")}
    for f in sorted((root / "raw" / "dicom").rglob("IM*.dcm"))[:15]:
        a = pydicom.dcmread(f)
        b = pydicom.dcmread(new_by_sop[keys.uid(a.SOPInstanceUID)])
        assert a.PixelData == b.PixelData
        assert np.array_equal(a.pixel_array, b.pixel_array)
        assert (b.RescaleIntercept, b.RescaleSlope) == (a.RescaleIntercept, a.RescaleSlope)
        assert list(b.ImagePositionPatient) == list(a.ImagePositionPatient)


def test_dates_shift_together_per_patient(exported):
    root, out, _, _ = exported
    keys = Keyring(SECRET)
    raw_dates, new_dates = defaultdict(set), defaultdict(set)
    for f in (root / "raw" / "dicom").rglob("IM*.dcm"):
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        raw_dates[ds.PatientID].add((keys.uid(ds.StudyInstanceUID), ds.StudyDate))
    for f in out.rglob("*.dcm"):
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        if ds.Modality != "CT":
            continue
        new_dates[ds.PatientID].add((ds.StudyInstanceUID, ds.StudyDate, ds.AcquisitionDate))
        assert ds.LongitudinalTemporalInformationModified == "MODIFIED"
        assert "PatientBirthDate" not in ds or not ds.PatientBirthDate
    assert len(new_dates) == len(raw_dates) == 2
    day = lambda s: dt.datetime.strptime(s, "%Y%m%d").date()  # noqa: E731
    offsets = set()
    for studies in raw_dates.values():
        original = dict(studies)
        shifted = {uid: date for uid, date, _ in next(v for v in new_dates.values() if {u for u, _, _ in v} >= set(original))}
        assert len(original) == 2, "each patient has a follow-up study"
        deltas = {(day(shifted[u]) - day(original[u])).days for u in original}
        assert len(deltas) == 1, "one offset per patient keeps the interval between studies"
        delta = deltas.pop()
        assert -3652 <= delta <= -366
        offsets.add(delta)
    assert len(offsets) == 2, "different patients, different offsets"


def test_same_secret_same_output_other_secret_other_uids(exported, tmp_path):
    root, out, _, _ = exported
    sub = tmp_path / "sub"
    first = sorted((root / "raw" / "dicom").rglob("IM*.dcm"))[0]
    sub.mkdir()
    shutil.copy(first, sub / "one.dcm")
    opts = DeidOptions(retain_longitudinal_modified_dates=True)
    deidentify_dicom_folder(sub, tmp_path / "a", secret=SECRET, options=opts, progress=False)
    deidentify_dicom_folder(sub, tmp_path / "b", secret=b"another-secret-9876543210", options=opts, progress=False)
    [a] = list((tmp_path / "a").rglob("*.dcm"))
    [b] = list((tmp_path / "b").rglob("*.dcm"))
    assert a.read_bytes() == (out / a.relative_to(tmp_path / "a")).read_bytes()
    assert a.name != b.name


def test_annotations_follow_the_series_uids(exported):
    root, out, _, _ = exported
    keys = Keyring(SECRET)
    rows = remap_series(read_annotations(root / "raw" / "annotations.csv"), keys.uid)
    series = {p.name for p in out.glob("*/*")}
    assert rows and all(r.seriesuid in series for r in rows)
