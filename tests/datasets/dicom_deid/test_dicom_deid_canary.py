"""Canaries: a unique value in every text, date and UID attribute of Table E.1-1, in sequences
(nested too) and in private blocks; after de-identification not one survives in the bytes."""

import datetime as dt

import numpy as np
import pydicom
import pytest
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian

from practicum.datasets.dicom_deid import (
    RULES,
    DeidOptions,
    ManifestBuilder,
    deidentify_dicom_folder,
    verify_dicom_folder,
)
from practicum.datasets.dicom_deid.bytescan import NeedleIndex

SECRET = b"canary-test-secret-0123456789"
TEXT_VRS = {"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UR", "UT"}
SKIP_GROUPS = {0x0000, 0x0002, 0xFFFA, 0xFFFC}
SET_BELOW = {0x00080018}  # SOP Instance UID: set per file below


def _code(value, scheme, meaning):
    c = Dataset()
    c.CodeValue, c.CodingSchemeDesignator, c.CodeMeaning = value, scheme, meaning
    return c


class Canaries:
    def __init__(self):
        self.n = 0
        self.values: list[tuple[str, str]] = []  # (value, kind)

    def text(self):
        self.n += 1
        v = f"CANARY{self.n:04d}Q"
        self.values.append((v, "text"))
        return v

    def date(self):
        self.n += 1
        v = (dt.date(1920, 1, 1) + dt.timedelta(days=7 * self.n)).strftime("%Y%m%d")
        self.values.append((v, "date"))
        return v

    def uid(self):
        self.n += 1
        v = f"1.2.999.4242.{self.n}.77"
        self.values.append((v, "uid"))
        return v

    def value_for(self, vr):
        if vr in TEXT_VRS:
            return self.text() + ("^ZZ" if vr == "PN" else "")
        if vr == "DA":
            return self.date()
        if vr == "DT":
            self.n += 1
            v = (dt.date(1920, 1, 1) + dt.timedelta(days=7 * self.n)).strftime("%Y%m%d") + "101010"
            self.values.append((v, "datetime"))
            return v
        if vr == "UI":
            return self.uid()
        return None


def canary_dataset(k: Canaries, sop_instance: str) -> Dataset:
    ds = Dataset()
    for rule in RULES:
        tag = rule.tag_int
        if tag is None or (tag >> 16) in SKIP_GROUPS or tag in SET_BELOW:
            continue
        vr = dictionary_VR(tag)
        if vr == "SQ":
            item = Dataset()
            item.Manufacturer = k.text()  # not in the table: kept unless the sequence is cleaned or removed
            item.CodeValue = k.text()
            item.CodingSchemeDesignator = "99LOCAL"
            item.CodeMeaning = k.text()
            item.InstitutionName = k.text()
            ds.add_new(tag, "SQ", Sequence([item]))
            continue
        value = k.value_for(vr)
        if value is not None:
            ds.add_new(tag, vr, value)
    # A kept (not listed) sequence holding listed attributes two levels down.
    inner = Dataset()
    inner.PersonIdentificationCodeSequence = Sequence([_code("ID77", "L", k.text())])
    inner.InstitutionName = k.text()
    inner.RequestedProcedureDescription = k.text()
    inner.add_new(0x00090010, "LO", "CANARY PRIVATE")
    inner.add_new(0x00091001, "LO", k.text())
    outer = _code("CTCHEST", "L", "CT CHEST")
    outer.ContentSequence = Sequence([inner])
    ds.ProcedureCodeSequence = Sequence([outer])
    # Private blocks: creators, text, binary and unknown VRs, a private sequence.
    blk = ds.private_block(0x0009, k.text(), create=True)
    blk.add_new(0x01, "LO", k.text())
    blk.add_new(0x02, "LT", "note " + k.text())
    blk.add_new(0x03, "OB", k.text().encode())
    blk.add_new(0x04, "UN", k.text().encode())
    nested = Dataset()
    nested.PatientName = k.text()
    blk.add_new(0x05, "SQ", Sequence([nested]))
    blk2 = ds.private_block(0x0029, "ACME 1.0", create=True)
    blk2.add_new(0x10, "UI", k.uid())
    # A composite instance needs these.
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = sop_instance
    ds.Modality = "CT"
    ds.Rows, ds.Columns = 4, 4
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.PixelData = np.arange(16, dtype=np.int16).tobytes()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = sop_instance
    ds.file_meta.SourceApplicationEntityTitle = k.text()
    return ds


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    src = tmp_path_factory.mktemp("canary-in")
    k = Canaries()
    for i in range(3):
        ds = canary_dataset(k, k.uid())
        pydicom.dcmwrite(src / f"f{i}.dcm", ds, enforce_file_format=True)
    # Every canary really is in the input bytes (else the test would prove nothing).
    index = NeedleIndex([(v.encode(), v) for v, _ in k.values])
    found = {label for f in src.iterdir() for label, _ in index.find(f.read_bytes())}
    assert found == {v for v, _ in k.values}, sorted({v for v, _ in k.values} - found)[:5]
    return src, k


@pytest.mark.parametrize(
    "options",
    [DeidOptions(), DeidOptions(clean_descriptors=True, retain_longitudinal_modified_dates=True)],
    ids=["basic", "clean-descriptors+modified-dates"],
)
def test_no_canary_survives(planted, tmp_path, options):
    src, k = planted
    assert len(k.values) > 400, "canaries cover the table"
    report = deidentify_dicom_folder(src, tmp_path / "out", secret=SECRET, options=options, progress=False)
    assert report.processed == 3 and not report.skipped
    index = NeedleIndex([(v.encode(), v) for v, _ in k.values])
    outputs = sorted((tmp_path / "out").rglob("*.dcm"))
    assert len(outputs) == 3
    for f in outputs:
        data = f.read_bytes()
        assert b"canary" not in data.lower()
        assert index.find(data) == [], f
        assert np.array_equal(pydicom.dcmread(f).pixel_array, np.arange(16, dtype=np.int16).reshape(4, 4))
    mb = ManifestBuilder()
    for v, kind in k.values:
        if kind == "uid":
            mb.add_uid(v)
        else:
            mb.add(v, {"text": "text", "date": "birth_date", "datetime": "text"}[kind])
    verdict = verify_dicom_folder(tmp_path / "out", mb.build(), progress=False)
    assert verdict.ok, verdict.summary()
