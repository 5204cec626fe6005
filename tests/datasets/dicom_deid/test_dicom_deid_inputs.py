"""Inputs beyond the lab's own exports: files without the Part 10 preamble, pydicom's test corpus
(compressed pixel data passed through undecoded), pixels that may show PHI (quarantined unless
an option says they were cleaned), binary values under the clean action, and safe private tags."""

import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_files
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

from practicum.datasets.dicom_deid import DeidOptions, deidentify_dicom_folder, verify_dicom_folder
from practicum.datasets.dicom_deid.options import BASIC_PROFILE

SECRET = b"inputs-test-secret-0123456789"


def image(sop_class: str = CTImageStorage) -> Dataset:
    uid = generate_uid()
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID, ds.file_meta.MediaStorageSOPInstanceUID = sop_class, uid
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, uid
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientName, ds.PatientID = "Okafor^Chidi", "77001122"
    ds.Rows = ds.Columns = 4
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.PixelData = np.arange(16, dtype=np.uint16).tobytes()
    return ds


def run(tmp_path, files: dict[str, Dataset], options: DeidOptions = BASIC_PROFILE, **write):
    src = tmp_path / "in"
    src.mkdir(exist_ok=True)
    for name, ds in files.items():
        pydicom.dcmwrite(src / name, ds, **(write or {"enforce_file_format": True}))
    out = tmp_path / "out"
    shutil.rmtree(out, ignore_errors=True)
    return deidentify_dicom_folder(src, out, secret=SECRET, options=options, progress=False), out


def test_a_bare_data_set_without_preamble_is_read_and_written_as_part_10(tmp_path):
    ds = image()
    del ds.file_meta
    report, out = run(tmp_path, {"bare.dcm": ds}, implicit_vr=True, little_endian=True)
    raw = (tmp_path / "in" / "bare.dcm").read_bytes()
    assert raw[128:132] != b"DICM" and b"Okafor" in raw
    assert report.processed == 1, report.skipped
    [f] = list(out.rglob("*.dcm"))
    data = f.read_bytes()
    assert data[:128] == b"\x00" * 128 and data[128:132] == b"DICM" and b"Okafor" not in data
    back = pydicom.dcmread(f)
    assert back.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2"
    assert np.array_equal(back.pixel_array, np.arange(16, dtype=np.uint16).reshape(4, 4))
    assert verify_dicom_folder(out, progress=False).ok


def test_pydicom_corpus_every_readable_instance_is_written_compressed_ones_byte_for_byte(tmp_path):
    src = tmp_path / "corpus"
    src.mkdir()
    seen: set[str] = set()
    for i, path in enumerate(sorted(p for p in get_testdata_files() if Path(p).is_file())):
        try:
            uid = str(pydicom.dcmread(path, force=True, stop_before_pixels=True).get("SOPInstanceUID", f"none-{i}"))
        except Exception:  # noqa: BLE001 - unreadable files go in too: they must be skipped with a reason
            uid = f"unreadable-{i}"
        if uid not in seen:  # one file per distinct instance
            seen.add(uid)
            shutil.copy(path, src / f"{i:03d}_{path.rsplit('/', 1)[-1]}")
    # The corpus is mostly secondary captures: say their pixels were checked, or they are quarantined.
    report = deidentify_dicom_folder(
        src, tmp_path / "out", secret=SECRET, options=DeidOptions(pixels_cleaned=True), progress=False, workers=2
    )
    skipped = {s.path: s.reason for s in report.skipped}
    assert report.processed >= 120 and not report.quarantined, skipped
    assert not [r for r in skipped.values() if "decoder" in r], skipped
    assert not [p for p, r in skipped.items() if "NoMeta" in p], "bare data sets are read"
    outputs = list((tmp_path / "out").rglob("*.dcm"))
    by_pixels = {}
    for f in outputs:
        assert f.read_bytes()[128:132] == b"DICM"
        ds = pydicom.dcmread(f)
        if "PixelData" in ds and ds.file_meta.TransferSyntaxUID.is_encapsulated:
            by_pixels[ds.PixelData] = ds.file_meta.TransferSyntaxUID
    assert len(set(by_pixels.values())) >= 5, "several compressed transfer syntaxes passed through"
    compressed = [p for p in src.iterdir() if p.name.endswith(("_JPEG2000.dcm", "_jpeg_gdcm.dcm", "_rle.dcm", "_lossy_line.dcm"))]
    assert len(compressed) >= 2
    for src_file in compressed:
        assert pydicom.dcmread(src_file).PixelData in by_pixels, src_file.name  # byte for byte, never decoded
    verdict = verify_dicom_folder(tmp_path / "out", progress=False)
    assert verdict.ok, verdict.summary()


@pytest.mark.parametrize(
    ("mutate", "options", "written", "reason"),
    [
        (lambda d: setattr(d, "BurnedInAnnotation", "YES"), DeidOptions(), False, "Burned In Annotation (0028,0301) is YES"),
        (lambda d: setattr(d, "BurnedInAnnotation", "YES"), DeidOptions(pixels_cleaned=True), True, ""),
        (lambda d: setattr(d, "RecognizableVisualFeatures", "YES"), DeidOptions(pixels_cleaned=True), False, "Recognizable"),
        (lambda d: None, DeidOptions(), True, ""),
    ],
    ids=["burned-in", "burned-in-but-cleaned", "face", "ct-without-flag"],
)
def test_pixel_phi_is_quarantined_unless_an_option_says_it_was_cleaned(tmp_path, mutate, options, written, reason):
    ds = image()
    mutate(ds)
    report, out = run(tmp_path, {"a.dcm": ds}, options)
    assert report.processed == int(written) and not report.skipped
    if written:
        assert verify_dicom_folder(out, progress=False).ok
        assert ("113101" in report.codes) == options.pixels_cleaned
    else:
        assert [q.path for q in report.quarantined] == ["a.dcm"] and reason in report.quarantined[0].reason
        assert not list(out.rglob("*.dcm"))


def test_secondary_capture_needs_burned_in_annotation_no(tmp_path):
    unknown, declared = image(SecondaryCaptureImageStorage), image(SecondaryCaptureImageStorage)
    declared.BurnedInAnnotation = "NO"
    report, _ = run(tmp_path, {"unknown.dcm": unknown, "declared.dcm": declared})
    assert report.processed == 1 and [q.path for q in report.quarantined] == ["unknown.dcm"]
    assert "Secondary Capture" in report.quarantined[0].reason and "missing" in report.quarantined[0].reason


@pytest.mark.parametrize(
    ("options", "kept"),
    [(DeidOptions(), False), (DeidOptions(retain_longitudinal_modified_dates=True), False),
     (DeidOptions(retain_longitudinal_full_dates=True), True)],
    ids=["basic", "modified-dates", "full-dates"],
)
def test_binary_values_the_clean_action_cannot_clean_are_removed(tmp_path, options, kept):
    ds = image()
    stamp = b"\x11\x22TIMESTAMP\x33\x44"
    ds.add_new(0x00340007, "OB", stamp)  # Frame Origin Timestamp: D, F=K, M=C
    ds.add_new(0x00340001, "SQ", pydicom.Sequence([Dataset()]))  # Flow Identifier Sequence (D)
    ds[0x00340001].value[0].add_new(0x00340007, "OB", stamp)  # ... with a timestamp inside
    report, out = run(tmp_path, {"a.dcm": ds}, options)
    [f] = list(out.rglob("*.dcm"))
    assert (stamp in f.read_bytes()) == kept
    back = pydicom.dcmread(f)
    if not kept and options.retain_longitudinal_modified_dates:
        assert 0x00340007 not in back
    assert verify_dicom_folder(out, progress=False).ok


def test_retain_safe_private_keeps_only_known_safe_numbers(tmp_path):
    ds = image()
    ge = ds.private_block(0x0019, "GEMS_ACQU_01", create=True)
    ge.add_new(0x23, "DS", "39.375")  # table speed: on the safe list
    ge.add_new(0x24, "LO", "Okafor")  # safe slot, but not a number
    ge.add_new(0x30, "LO", "Okafor Chidi")  # not on the list
    ds.private_block(0x0029, "SIEMENS CSA HEADER", create=True).add_new(0x10, "OB", b"Okafor")
    report, out = run(tmp_path, {"a.dcm": ds}, DeidOptions(retain_safe_private=True))
    [f] = list(out.rglob("*.dcm"))
    assert b"Okafor" not in f.read_bytes()
    back = pydicom.dcmread(f)
    assert back.private_block(0x0019, "GEMS_ACQU_01")[0x23].value == "39.375"
    assert [int(t) for t in back.keys() if int(t) >> 16 == 0x0029] == []
    assert verify_dicom_folder(out, progress=False).ok
    _, plain = run(tmp_path, {"a.dcm": ds})
    assert not [t for t in pydicom.dcmread(next(plain.rglob("*.dcm"))).keys() if (int(t) >> 16) % 2]
