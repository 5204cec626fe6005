"""Canaries: a unique value in every attribute of Table E.1-1 (generated from the table and the
data dictionary, with a VR-appropriate value), in sequences nested two deep, in private blocks,
in the file meta and in attributes no table lists; after de-identification not one survives
anywhere in the written bytes - except, under a retain option, exactly the attributes that
option keeps - and the kept geometry and pixels are unchanged."""

import datetime as dt
import struct

import numpy as np
import pydicom
import pytest
from pydicom.datadict import dictionary_has_tag, dictionary_VR, get_entry
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
from practicum.datasets.dicom_deid.actions import resolve
from practicum.datasets.dicom_deid.bytescan import NeedleIndex
from practicum.datasets.dicom_deid.keep import KEEP, KEEP_CLEANED
from practicum.datasets.dicom_deid.profile import RULES_BY_TAG

SECRET = b"canary-test-secret-0123456789"
SKIP_GROUPS = {0x0000, 0x0002, 0xFFFA, 0xFFFC}
SET_BELOW = {0x00080018, 0x00080016}  # SOP Instance / Class UID: set per file below
# 2026d rows pydicom 3.0's dictionary does not know yet (their VRs from PS3.6).
NEW_VRS = {
    0x0040B034: "DT", 0x0040E012: "UR", 0x3004007F: "LO", 0x0040A034: "DT", 0x0040A035: "DT", 0x00102162: "LO",
    0x00100044: "SQ", 0x00100045: "LT", 0x00100041: "SQ", 0x00081304: "SQ", 0x0040B03F: "LO", 0x0040B03B: "LO",
    0x00100012: "PN", 0x00100013: "LT", 0x00100011: "SQ", 0x00081302: "SQ", 0x00081301: "SQ", 0x00100015: "SQ",
    0x00100016: "LT", 0x00081303: "SQ", 0x0040B036: "DT", 0x00100046: "SQ", 0x00100042: "LT", 0x00100047: "UT",
    0x00100043: "SQ", 0x00100014: "SQ",
}  # fmt: skip
TEXT_VRS = {"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UR", "UT"}
BINARY = {"US": "<HH", "SS": "<hh", "UL": "<I", "SL": "<i", "FL": "<f", "FD": "<d", "UV": "<Q", "SV": "<q"}
GEOMETRY = {
    "ImagePositionPatient": [-170.5, -180.25, 42.0],
    "ImageOrientationPatient": [1, 0, 0, 0, 1, 0],
    "PixelSpacing": [0.703125, 0.703125],
    "SliceThickness": 1.25,
    "RescaleIntercept": -1024,
    "RescaleSlope": 1,
    "KVP": 120,
    "ConvolutionKernel": "B30f",
}
PIXELS = np.arange(16, dtype=np.int16).reshape(4, 4)


def vr_of(tag: int) -> str:
    vr = dictionary_VR(tag) if dictionary_has_tag(tag) else NEW_VRS[tag]
    return vr.split(" or ")[0]


class Canaries:
    """Unique values and what they were planted in: (needle bytes, top-level tag or None)."""

    def __init__(self) -> None:
        self.n = 0
        self.planted: list[tuple[bytes, int | None]] = []
        self.nested: set[bytes] = set()  # planted in sequence items (kept only where the sequence is)

    def _add(self, needle: bytes, tag: int | None) -> None:
        self.planted.append((needle, tag))

    def text(self, tag: int | None = None) -> str:
        self.n += 1
        v = f"CANARY{self.n:04d}Q"
        self._add(v.encode(), tag)
        return v

    def value_for(self, vr: str, tag: int | None):
        self.n += 1
        n = self.n
        if vr in TEXT_VRS:
            return self.text(tag) + ("^ZZ" if vr == "PN" else "")
        if vr in ("DA", "DT"):
            v = (dt.date(1920, 1, 1) + dt.timedelta(days=7 * n)).strftime("%Y%m%d") + ("101010" if vr == "DT" else "")
        elif vr == "TM":
            v = f"{n % 24:02d}{n % 60:02d}17.{n:06d}"
        elif vr == "UI":
            v = f"1.2.999.4242.{n}.77"
        elif vr in ("IS", "DS"):
            v = f"9{n:06d}7"
        elif vr == "AS":
            v = f"{n % 1000:03d}Y"
        elif vr in ("OB", "OW", "UN", "OD", "OF", "OL", "OV"):
            v = f"CANARYBYTES{n:05d}".encode()
            self._add(v, tag)
            return v
        elif vr in BINARY:
            fmt = BINARY[vr]
            values = [7000 + n % 500, 7001 + n % 500] if len(fmt) == 3 else [1_000_000 + n]
            self._add(struct.pack("<" + fmt[1:] * 1, *values) if len(fmt) == 3 else struct.pack(fmt, *values), tag)
            return values if len(values) > 1 else values[0]
        else:
            return None
        self._add(v.encode(), tag)
        return v


def item(k: Canaries) -> Dataset:
    """A sequence item: a table attribute, an unlisted one, a local code, a private block, a
    kept sequence holding a table attribute one level further down."""
    it = Dataset()
    it.PersonName = k.text() + "^ZZ"
    it.SecondaryCaptureDeviceManufacturer = k.text()
    it.CodeValue, it.CodingSchemeDesignator, it.CodeMeaning = k.text(), "99LOCAL", k.text()
    it.add_new(0x00090010, "LO", k.text())
    it.add_new(0x00091001, "LO", k.text())
    inner = Dataset()
    inner.PatientName = k.text() + "^ZZ"
    inner.InstitutionName = k.text()
    inner.ReferencedSOPInstanceUID = k.value_for("UI", 0x00081155)
    k.nested.add(k.planted[-1][0])
    it.ReferencedSeriesSequence = Sequence([inner])
    return it


def canary_dataset(k: Canaries, sop_instance: str) -> Dataset:
    ds = Dataset()
    for rule in RULES:
        tag = rule.tag_int
        if tag is None or (tag >> 16) in SKIP_GROUPS or tag in SET_BELOW:
            continue
        vr = vr_of(tag)
        if vr == "SQ":
            ds.add_new(tag, "SQ", Sequence([item(k)]))
            continue
        value = k.value_for(vr, tag)
        if value is not None:
            ds.add_new(tag, vr, value)
    # Fail closed: public attributes no table lists and the keep list does not name.
    unlisted = [t for t in sorted(pydicom.datadict.DicomDictionary)
                if (t >> 16) not in SKIP_GROUPS | {0x7FE0} and t not in RULES_BY_TAG and t not in KEEP | KEEP_CLEANED
                and get_entry(t)[0] in ("LO", "SH", "LT", "UT", "DA", "UI", "DS", "FD", "OB")]
    for tag in unlisted[::25]:
        ds.add_new(tag, get_entry(tag)[0], k.value_for(get_entry(tag)[0], tag))
    ds.ProcedureCodeSequence = Sequence([item(k)])  # unlisted sequence: removed whole
    ds.RelatedSeriesSequence = Sequence([item(k)])  # kept sequence: walked with the same rules
    blk = ds.private_block(0x0009, k.text(), create=True)
    blk.add_new(0x01, "LO", k.text())
    blk.add_new(0x02, "LT", "note " + k.text())
    blk.add_new(0x03, "OB", k.value_for("OB", None))
    blk.add_new(0x04, "UN", k.value_for("UN", None))
    blk.add_new(0x05, "SQ", Sequence([item(k)]))
    ds.private_block(0x0029, "ACME 1.0", create=True).add_new(0x10, "UI", k.value_for("UI", None))
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = CTImageStorage, sop_instance, "CT"
    for keyword, value in GEOMETRY.items():
        setattr(ds, keyword, value)
    ds.Rows, ds.Columns = 4, 4
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.PixelData = PIXELS.tobytes()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = sop_instance
    ds.file_meta.SourceApplicationEntityTitle = k.text()
    ds.preamble = k.text().encode().ljust(128, b"\x01")
    return ds


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    src = tmp_path_factory.mktemp("canary-in")
    k = Canaries()
    for i in range(2):
        pydicom.dcmwrite(src / f"f{i}.dcm", canary_dataset(k, k.value_for("UI", 0x00080018)), enforce_file_format=True)
    # Every canary really is in the input bytes (else the test would prove nothing).
    index = NeedleIndex([(needle, needle) for needle, _ in k.planted])
    found = {label for f in src.iterdir() for label, _ in index.find(f.read_bytes())}
    missing = [needle for needle, _ in k.planted if needle not in found]
    assert not missing, missing[:5]
    return src, k


def kept_by(options: DeidOptions, tag: int) -> bool:
    """Kept as planted: action K, or a time cleaned under modified dates (dates shift, times stay)."""
    action = resolve(RULES_BY_TAG[tag], options, CTImageStorage, tag)
    return action == "K" or (action == "C" and options.retain_longitudinal_modified_dates and vr_of(tag) == "TM")


ALL_RETAINED = DeidOptions(
    retain_uids=True, retain_device_identity=True, retain_institution_identity=True,
    retain_patient_characteristics=True, retain_longitudinal_full_dates=True,
)  # fmt: skip


@pytest.mark.parametrize(
    "options",
    [
        DeidOptions(),
        DeidOptions(clean_descriptors=True, clean_structured_content=True, clean_graphics=True,
                    retain_longitudinal_modified_dates=True, retain_safe_private=True),
        ALL_RETAINED,
    ],
    ids=["basic", "all-cleaning-options", "all-retain-options"],
)
def test_no_canary_survives_but_what_an_option_keeps(planted, tmp_path, options):
    src, k = planted
    assert len(RULES) == 657 and len(k.planted) > 1000, "canaries cover the table"
    report = deidentify_dicom_folder(src, tmp_path / "out", secret=SECRET, options=options, progress=False)
    assert report.processed == 2 and not report.skipped and not report.quarantined
    kept = {needle for needle, tag in k.planted if tag is not None and tag in RULES_BY_TAG and kept_by(options, tag)}
    index = NeedleIndex([(needle, needle) for needle, _ in k.planted])
    outputs = sorted((tmp_path / "out").rglob("*.dcm"))
    assert len(outputs) == 2
    for f in outputs:
        data = f.read_bytes()
        survivors = {label for label, _ in index.find(data)}
        assert survivors <= kept, sorted(survivors - kept)[:10]
        assert data[:128] == b"\x00" * 128
        ds = pydicom.dcmread(f)
        assert np.array_equal(ds.pixel_array, PIXELS)
        for keyword, value in GEOMETRY.items():
            got = ds.data_element(keyword).value
            assert (list(got) if isinstance(got, pydicom.multival.MultiValue) else got) == value, keyword
    if options == ALL_RETAINED:
        # What the options keep really is kept - in one file at least: each planted once per file.
        survivors = {label for f in outputs for label, _ in index.find(f.read_bytes())}
        assert survivors >= kept - k.nested and len(kept - k.nested) > 100
    else:
        mb = ManifestBuilder()
        for needle, _ in k.planted:
            text = needle.decode("latin-1")
            if text.isprintable() and len(needle) >= 8 and not text.replace(".", "").isdigit():
                mb.add(text, "text")
        verdict = verify_dicom_folder(tmp_path / "out", mb.build(), progress=False)
        assert verdict.ok, verdict.summary()
