"""Hostile inputs are reported and skipped; nothing crashes, nothing partial is written,
inputs are never touched, and the one good file still comes out."""

import hashlib
import os
import struct

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset, write_file_meta_info
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, JPEGLSLossless, generate_uid

from practicum.datasets.dicom_deid import ReadLimits, deidentify_dicom_folder

SECRET = b"hostile-inputs-secret-000000"


def ct(uid: str | None = None) -> Dataset:
    uid = uid or generate_uid()
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = uid
    ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, uid
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientName, ds.PatientID, ds.StudyDescription = "Doe^Jane", "12345678", "hello world"
    ds.Rows = ds.Columns = 32
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.PixelData = np.arange(32 * 32, dtype=np.int16).tobytes()
    return ds


def write(path, ds, **kw):
    pydicom.dcmwrite(path, ds, enforce_file_format=True, **kw)
    return path.read_bytes()


def snapshot(folder):
    return {
        p.relative_to(folder).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


@pytest.fixture
def hostile(tmp_path):
    src = tmp_path / "in"
    (src / "nested" / "deeper").mkdir(parents=True)
    good = write(src / "nested" / "good.dcm", ct())
    (src / "empty.dcm").write_bytes(b"")
    (src / "notes.txt").write_text("Patient Jane Doe, MRN 12345678\n")
    (src / "random.bin").write_bytes(os.urandom(4096))
    (src / "fake.dcm").write_bytes(b"\x00" * 128 + b"DICM" + os.urandom(500))
    (src / "truncated_header.dcm").write_bytes(good[:200])
    (src / "truncated_pixels.dcm").write_bytes(good[:-700])
    huge = bytearray(good)
    i = huge.find(b"hello world")
    huge[i - 2 : i] = struct.pack("<H", 0xFFF0)  # StudyDescription claims 65,520 bytes
    (src / "huge_length.dcm").write_bytes(bytes(huge))
    big = ct()
    big.ImageComments = "x" * 5000
    write(src / "nested" / "big_element.dcm", big)
    # Meta header says explicit VR little endian; the data set is written implicit VR.
    wrong = ct()
    head = DicomBytesIO()
    head.write(b"\x00" * 128 + b"DICM")
    write_file_meta_info(head, wrong.file_meta, enforce_standard=True)
    body = DicomBytesIO()
    body.is_little_endian, body.is_implicit_VR = True, True
    del wrong.file_meta
    write_dataset(body, wrong)
    (src / "wrong_ts.dcm").write_bytes(head.getvalue() + body.getvalue())
    # Compressed pixel data (JPEG-LS) with no decoder installed: passed through, never decoded.
    jls = ct()
    jls.file_meta.TransferSyntaxUID = JPEGLSLossless
    jls.PixelData = pydicom.encaps.encapsulate([b"\xff\xd8" + os.urandom(64) + b"\xff\xd9"])
    write(src / "deeper_jls.dcm", jls)
    unknown = ct()
    unknown.file_meta.TransferSyntaxUID = "1.2.3.4.5.6.7"
    write(src / "nested" / "deeper" / "private_ts.dcm", unknown, implicit_vr=False, little_endian=True)
    # A DICOMDIR-like file, a file without SOP Instance UID, and a symbolic link.
    dicomdir = ct()
    dicomdir.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.1.3.10"
    dicomdir.DirectoryRecordSequence = pydicom.Sequence([Dataset()])
    write(src / "DICOMDIR", dicomdir)
    nouid = ct()
    del nouid.SOPInstanceUID
    write(src / "no_uid.dcm", nouid)
    (src / "link.dcm").symlink_to(src / "nested" / "good.dcm")
    return src


EXPECTED_REASONS = {
    "empty.dcm": "empty file",
    "notes.txt": "no 'DICM' prefix",
    "random.bin": "no 'DICM' prefix",
    "fake.dcm": "",
    "truncated_header.dcm": "",
    "truncated_pixels.dcm": "truncated: element (7FE0,0010)",
    "huge_length.dcm": "element (0008,1030)",
    "nested/big_element.dcm": "too large",
    "nested/deeper/private_ts.dcm": "transfer syntax",
    "DICOMDIR": "DICOMDIR",
    "no_uid.dcm": "missing SOP",
    "link.dcm": "symbolic link",
    "wrong_ts.dcm": "does not match its transfer syntax",
}


def test_hostile_files_are_reported_and_skipped(hostile, tmp_path):
    before = snapshot(hostile)
    out = tmp_path / "out"
    report = deidentify_dicom_folder(
        hostile, out, secret=SECRET, progress=False, limits=ReadLimits(max_element_bytes=4096)
    )
    assert report.processed == 2  # the good file and the JPEG-LS one
    reasons = {s.path: s.reason for s in report.skipped}
    assert set(reasons) == set(EXPECTED_REASONS), reasons
    for path, fragment in EXPECTED_REASONS.items():
        assert fragment in reasons[path], (path, reasons[path])
    assert report.n_inputs == len(EXPECTED_REASONS) + 2
    # Inputs untouched; exactly the two complete outputs; no temporary files left.
    assert snapshot(hostile) == before
    outputs = sorted(p for p in out.rglob("*") if p.is_file())
    assert len(outputs) == 2 and {p.suffix for p in outputs} == {".dcm"}
    assert not [p for p in out.rglob(".*")]
    by_ts = {str(pydicom.dcmread(p).file_meta.TransferSyntaxUID): pydicom.dcmread(p) for p in outputs}
    assert np.array_equal(by_ts[ExplicitVRLittleEndian].pixel_array, np.arange(32 * 32, dtype=np.int16).reshape(32, 32))
    jls_in = pydicom.dcmread(hostile / "deeper_jls.dcm")
    assert by_ts[JPEGLSLossless].PixelData == jls_in.PixelData  # compressed bytes passed through unchanged
    # Re-running changes nothing and loses nothing.
    first = {p: p.read_bytes() for p in outputs}
    again = deidentify_dicom_folder(hostile, out, secret=SECRET, progress=False, limits=ReadLimits(max_element_bytes=4096))
    assert again.processed == 2 and {p: p.read_bytes() for p in outputs} == first
    assert report.to_json()["skipped"][0]["reason"]


def test_reasons_under_default_limits(hostile, tmp_path):
    report = deidentify_dicom_folder(hostile, tmp_path / "o", secret=SECRET, progress=False)
    reasons = {s.path: s.reason for s in report.skipped}
    assert "does not match its transfer syntax" in reasons["wrong_ts.dcm"]
    assert reasons["huge_length.dcm"].startswith("truncated: element (0008,1030) declares 65520 bytes")
    assert report.processed == 3  # the 5,000-byte comment is fine under the default 16 MiB limit


def test_duplicate_instances_are_written_once(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    uid = generate_uid()
    write(src / "a.dcm", ct(uid))
    write(src / "b.dcm", ct(uid))
    report = deidentify_dicom_folder(src, tmp_path / "out", secret=SECRET, progress=False)
    assert report.processed == 1
    assert [s.path for s in report.skipped] == ["b.dcm"] and "duplicate" in report.skipped[0].reason


def test_refuses_unsafe_folders_and_weak_secrets(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    write(src / "a.dcm", ct())
    with pytest.raises(ValueError):
        deidentify_dicom_folder(src, src / "out", secret=SECRET, progress=False)
    with pytest.raises(ValueError):
        deidentify_dicom_folder(src, tmp_path, secret=SECRET, progress=False)
    with pytest.raises(ValueError):
        deidentify_dicom_folder(src, tmp_path / "out", secret=b"short", progress=False)
    with pytest.raises(NotADirectoryError):
        deidentify_dicom_folder(tmp_path / "missing", tmp_path / "out", secret=SECRET, progress=False)
