"""The Table E.1-1 transcription, action resolution, options, keyed replacements, date shifts,
text cleaning - and a verifier that catches what a broken de-identifier would leave behind."""

import numpy as np
import pydicom
import pytest
from pydicom.datadict import dictionary_description, dictionary_has_tag
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from practicum.datasets.dicom_deid import (
    RULES,
    DeidOptions,
    Keyring,
    ManifestBuilder,
    deidentify_dicom_folder,
    rule_for,
    verify_dicom_folder,
)
from practicum.datasets.dicom_deid.actions import resolve
from practicum.datasets.dicom_deid.clean import clean_text
from practicum.datasets.dicom_deid.dates import shift_date, shift_datetime
from practicum.datasets.dicom_deid.profile import EDITION

ENHANCED_CT = "1.2.840.10008.5.1.4.1.1.2.1"
COMPREHENSIVE_SR = "1.2.840.10008.5.1.4.1.1.88.33"


def test_table_transcription_matches_the_data_dictionary():
    tagged = [r for r in RULES if r.tag_int is not None]
    assert EDITION == "2026d" and len(RULES) == 657 and len(tagged) == 653
    assert len({r.tag for r in RULES}) == len(RULES)
    unknown = [r for r in tagged if not dictionary_has_tag(r.tag_int)]
    assert len(unknown) == 26, "rows newer than pydicom's dictionary"
    words = lambda s: s.lower().replace("'", "").replace(" ", "").replace("-", "")  # noqa: E731
    for r in tagged:
        if dictionary_has_tag(r.tag_int):
            assert words(dictionary_description(r.tag_int)) == words(r.name) or "Generation" in r.name, r


@pytest.mark.parametrize(
    ("keyword", "basic", "options"),
    [
        ("PatientName", "Z", {}),
        ("PatientBirthDate", "Z", {}),
        ("SOPInstanceUID", "U", {"retain_uids": "K"}),
        ("StudyDate", "Z", {"retain_longitudinal_full_dates": "K", "retain_longitudinal_modified_dates": "C"}),
        ("InstitutionName", "X/Z/D", {"retain_institution_identity": "K"}),
        ("ReferencedImageSequence", "X/Z/U*", {"retain_uids": "K"}),
        ("ContentDate", "Z/D", {"retain_longitudinal_full_dates": "K", "retain_longitudinal_modified_dates": "C"}),
        ("StudyDescription", "X", {"clean_descriptors": "C"}),
        ("PatientAge", "X", {"retain_patient_characteristics": "K"}),
        ("DeviceUID", "U", {"retain_uids": "K", "retain_device_identity": "K"}),
        ("ReferencedPatientSequence", "X", {"retain_uids": "K"}),
        ("PatientID", "Z/D", {}),
        ("StationAETitle", "X", {"retain_device_identity": "C"}),
        ("IssuerOfClinicalTrialSubjectID", "X", {}),
        ("OtherClinicalTrialProtocolIDsSequence", "X", {}),
        ("TreatmentSites", "X", {"clean_descriptors": "C"}),
        ("EncapsulatedDocument", "D", {}),
        ("CertificateOfSigner", "D", {}),
        ("CertifiedTimestamp", "X", {"retain_longitudinal_full_dates": "K", "retain_longitudinal_modified_dates": "C"}),
        ("ROICreatorSequence", "X", {}),
        ("ROIInterpreterSequence", "X", {}),
        ("FrameOriginTimestamp", "D", {"retain_longitudinal_full_dates": "K", "retain_longitudinal_modified_dates": "C"}),
        ("InstanceCreationDate", "X/D", {"retain_longitudinal_full_dates": "K", "retain_longitudinal_modified_dates": "C"}),
        ("RequestingService", "X", {"clean_descriptors": "C"}),
    ],
)
def test_known_rows(keyword, basic, options):
    rule = rule_for(pydicom.datadict.tag_for_keyword(keyword))
    assert (rule.basic, rule.options) == (basic, options)


def test_patterns_private_curves_overlays():
    assert rule_for(0x00091001).basic == "X" and rule_for(0x00291010).name.startswith("Private")
    assert rule_for(0x50023000).name == "Curve Data"
    assert rule_for(0x60023000).name == "Overlay Data" and rule_for(0x60004000).name == "Overlay Comments"
    assert rule_for(0x60000010) is None  # handled with the whole overlay group


def test_composite_resolution_depends_on_the_iod():
    opts = DeidOptions()
    r = lambda kw: rule_for(pydicom.datadict.tag_for_keyword(kw))  # noqa: E731
    t = lambda kw: pydicom.datadict.tag_for_keyword(kw)  # noqa: E731
    for kw in ("InstitutionName", "AcquisitionDateTime", "DeviceSerialNumber", "ReferencedImageSequence", "SeriesDate"):
        assert resolve(r(kw), opts, CTImageStorage, t(kw)) == "X", kw
    assert resolve(r("ContentDate"), opts, CTImageStorage, t("ContentDate")) == "Z"
    assert resolve(r("DeviceSerialNumber"), opts, ENHANCED_CT, t("DeviceSerialNumber")) == "D"
    assert resolve(r("AcquisitionDateTime"), opts, ENHANCED_CT, t("AcquisitionDateTime")) == "D"
    assert resolve(r("SourceImageSequence"), opts, ENHANCED_CT, t("SourceImageSequence")) == "U*"
    assert resolve(r("ContentDate"), opts, COMPREHENSIVE_SR, t("ContentDate")) == "D"
    assert resolve(r("ReferencedPerformedProcedureStepSequence"), opts, COMPREHENSIVE_SR, t("ReferencedPerformedProcedureStepSequence")) == "Z"
    # Options come first; among several the most retaining wins.
    assert resolve(r("InstitutionName"), DeidOptions(retain_institution_identity=True), CTImageStorage, t("InstitutionName")) == "K"
    both = DeidOptions(retain_patient_characteristics=True, clean_descriptors=True)
    assert resolve(r("Allergies"), both, CTImageStorage, t("Allergies")) == "C"


def test_options_codes_and_flags():
    opts = DeidOptions(retain_longitudinal_modified_dates=True, clean_descriptors=True)
    assert opts.codes() == ["113100", "113105", "113107"]
    assert DeidOptions.from_codes({"113100", "113105", "113107"}) == opts
    every = DeidOptions(**{name: True for name in DeidOptions().to_json() if name != "retain_longitudinal_full_dates"})
    assert every.codes() == ["113100"] + [f"1131{n:02d}" for n in range(1, 13) if n != 6]
    assert DeidOptions.from_codes(set(every.codes())) == every
    assert opts.longitudinal_status() == "MODIFIED" and DeidOptions().longitudinal_status() == "REMOVED"
    with pytest.raises(ValueError):
        DeidOptions(retain_longitudinal_full_dates=True, retain_longitudinal_modified_dates=True)


def test_keyring_is_deterministic_and_keyed():
    a, b, c = Keyring(b"k" * 20), Keyring(b"k" * 20), Keyring(b"j" * 20)
    uid = "1.2.826.0.1.3680043.8.498.1"
    assert a.uid(uid) == b.uid(uid) != c.uid(uid)
    assert a.uid(uid).startswith("2.25.") and len(a.uid(uid)) <= 64 and a.n_uids == 1
    assert a.date_offset_days("p1") == b.date_offset_days("p1")
    assert all(-3652 <= a.date_offset_days(f"p{i}") <= -366 for i in range(200))
    assert a.pseudonym("p1") == b.pseudonym("p1") != a.pseudonym("p2")
    assert a.pseudonym("p1")[4:].isalpha()


def test_date_shifts():
    assert shift_date("20210314", -400) == "20200208"
    assert shift_date("20210101-20210131", -1) == "20201231-20210130"
    assert shift_date("2021", -1) is None and shift_date("notadate", 3) is None
    assert shift_datetime("20210314101532.123456+0100", -400) == "20200208101532.123456+0100"
    assert shift_datetime("202103", -62) == "202101"
    assert shift_datetime("2021", -400) == "2020"


def test_clean_text_keeps_only_vocabulary():
    assert clean_text("CT CHEST W/O CONTRAST - Kowalczyk MRN 40382917") == "CT CHEST W/O CONTRAST"
    assert clean_text("AXIAL LUNG 2.5MM pt Okafor 14.03.1958") == "AXIAL LUNG 2.5MM"
    assert clean_text("Dr. Marta Lindqvist") == ""


def _deidentified(tmp_path, mutate=None):
    src = tmp_path / "in"
    src.mkdir()
    ds = Dataset()
    uid = generate_uid()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID, ds.file_meta.MediaStorageSOPInstanceUID = CTImageStorage, uid
    ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, uid
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientName, ds.PatientID, ds.StudyDate = "Lindqvist^Astrid", "55667788", "20210505"
    ds.Manufacturer = "Synthetica"
    ds.Rows = ds.Columns = 2
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.PixelData = np.zeros(4, np.int16).tobytes()
    pydicom.dcmwrite(src / "a.dcm", ds, enforce_file_format=True)
    out = tmp_path / "out"
    deidentify_dicom_folder(src, out, secret=b"verify-secret-0123456789", progress=False)
    [f] = list(out.rglob("*.dcm"))
    if mutate:
        d = pydicom.dcmread(f)
        mutate(d)
        pydicom.dcmwrite(f, d, enforce_file_format=True)
    mb = ManifestBuilder()
    mb.add("Lindqvist^Astrid", "name")
    mb.add("55667788", "id")
    mb.add("20210505", "date")
    mb.add_uid(uid)
    return out, mb.build()


def test_verifier_passes_a_clean_output(tmp_path):
    out, manifest = _deidentified(tmp_path)
    report = verify_dicom_folder(out, manifest, progress=False)
    assert report.ok, report.summary()
    assert "PASS" in report.summary() and report.n_files == 1


@pytest.mark.parametrize(
    ("mutate", "finding"),
    [
        (lambda d: setattr(d, "Manufacturer", "made for Astrid Lindqvist"), "leak"),
        (lambda d: setattr(d, "InstitutionName", "Anywhere"), "X must be removed"),
        (lambda d: d.add_new(0x00091001, "LO", "x"), "private element"),
        (lambda d: delattr(d, "PatientIdentityRemoved"), "flag"),
        (lambda d: setattr(d, "StudyDate", "19990101"), "Z must be empty"),
        (lambda d: setattr(d, "FrameOfReferenceUID", "1.2.3.4.5"), "U must be replaced"),
        (lambda d: setattr(d, "LongitudinalTemporalInformationModified", "MODIFIED"), "flag"),
    ],
)
def test_verifier_catches_problems(tmp_path, mutate, finding):
    out, manifest = _deidentified(tmp_path, mutate)
    report = verify_dicom_folder(out, manifest, progress=False)
    assert not report.ok
    if finding == "leak":
        assert report.leaks and report.leaks[0].kind == "name"
        assert "Lindqvist" in report.leaks[0].value or "Astrid" in report.leaks[0].value
    else:
        assert any(i.rule == finding for i in report.issues), report.summary()
    assert "FAIL" in report.summary()


def test_verifier_flags_original_uids_and_planted_values_in_file_paths(tmp_path):
    out, manifest = _deidentified(tmp_path)
    [f] = list(out.rglob("*.dcm"))
    f.rename(f.with_name("Lindqvist_Astrid.dcm"))
    report = verify_dicom_folder(out, manifest, progress=False)
    assert any(x.where == "file path" for x in report.leaks)
