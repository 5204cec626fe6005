"""Reading input files defensively: every way a file can be unusable becomes a clear reason.

pydicom reads many broken files without complaint (a truncated file simply ends early),
so a file is accepted only when all of this holds:

* it is not empty, not larger than ``max_file_bytes``, and either has the Part 10 ``DICM``
  prefix or starts like a bare data set (the first tag in group 0002 or 0008, as files
  written without the preamble do); a bare data set is read with ``force=True`` and given
  the transfer syntax it was found in, so the output is a proper Part 10 file;
* it parses (every sequence, recursively; other values are parsed when the output is
  written, and a failure there skips the file too), and no element declares more bytes
  than the file holds (truncation) or more than ``max_element_bytes`` outside the pixel
  data (a "huge tag");
* the data set is encoded the way its transfer syntax says (no explicit/implicit VR mix-up);
* the transfer syntax is one pydicom knows, and compressed (encapsulated) pixel data
  consists of well-formed fragments - it is passed through as it is, never decoded, so no
  decoder is needed;
* native pixel data holds at least Rows x Columns x Frames x Samples x BitsAllocated bits;
* it is a composite instance (SOP Class and SOP Instance UID), not a DICOMDIR.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"
UNDEFINED_LENGTH = 0xFFFFFFFF
PIXEL_TAGS = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009})


@dataclass(frozen=True)
class ReadLimits:
    """Size limits for input files and for single non-pixel elements."""

    max_file_bytes: int = 4 * 1024**3
    max_element_bytes: int = 16 * 1024**2


DEFAULT_LIMITS = ReadLimits()


class Rejected(Exception):
    """The file cannot be de-identified; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_dicom(path: Path, limits: ReadLimits = DEFAULT_LIMITS) -> Dataset:
    """The fully parsed data set of ``path``, or :class:`Rejected` with the reason."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise Rejected("empty file (0 bytes)")
    if size > limits.max_file_bytes:
        raise Rejected(f"file too large ({size} bytes; limit {limits.max_file_bytes})")
    with path.open("rb") as f:
        head = f.read(132)
    part10 = len(head) >= 132 and head[128:132] == b"DICM"
    if not part10 and not starts_like_dataset(head):
        raise Rejected("not DICOM (no 'DICM' prefix at byte 128, and it does not start like a bare DICOM data set)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ds = pydicom.dcmread(path, defer_size=limits.max_element_bytes, force=not part10)
            _check_elements(ds, limits, size)
            if not part10:
                _give_transfer_syntax(ds)
        except Rejected:
            raise
        except Exception as exc:  # noqa: BLE001 - any parser failure is a reason to skip
            raise Rejected(f"unreadable DICOM ({type(exc).__name__}: {str(exc)[:200]})") from None
    for w in caught:
        msg = str(w.message)
        if "Expected explicit VR, but found implicit VR" in msg or "Expected implicit VR, but found explicit VR" in msg:
            raise Rejected(f"data set encoding does not match its transfer syntax ({msg[:120]})")
    _check_transfer_syntax(ds)
    _check_identity(ds)
    _check_pixels(ds)
    return ds


def starts_like_dataset(head: bytes) -> bool:
    """Whether ``head`` begins with an element of group 0002 or 0008 (a data set without preamble)."""
    if len(head) < 8:
        return False
    for order in ("little", "big"):
        group = int.from_bytes(head[0:2], order)
        element = int.from_bytes(head[2:4], order)
        if group in (0x0002, 0x0008) and element <= 0x0100:
            return True
    return False


def looks_like_dicom(path: Path) -> bool:
    """A Part 10 file, or a bare data set (cheap check of the first bytes only)."""
    with Path(path).open("rb") as f:
        head = f.read(132)
    return (len(head) >= 132 and head[128:132] == b"DICM") or starts_like_dataset(head)


def _give_transfer_syntax(ds: Dataset) -> None:
    """A bare data set has no file meta: record the encoding pydicom found it in."""
    meta = getattr(ds, "file_meta", None)
    if meta is None:
        meta = ds.file_meta = FileMetaDataset()
    if meta.get("TransferSyntaxUID"):
        return
    implicit, little = ds.original_encoding
    if implicit is None:
        raise Rejected("bare data set whose encoding cannot be determined")
    meta.TransferSyntaxUID = ImplicitVRLittleEndian if implicit else (ExplicitVRLittleEndian if little else ExplicitVRBigEndian)


def dictionary_vr(tag: int) -> str | None:
    try:
        return dictionary_VR(tag)
    except KeyError:
        return None


def _check_elements(ds: Dataset, limits: ReadLimits, file_size: int) -> None:
    """Check declared lengths against the file and the limits, then parse every value, recursively."""
    for tag in list(ds.keys()):
        raw = ds.get_item(tag, keep_deferred=True)  # values over the defer size stay unread
        t = int(tag)
        if isinstance(raw, RawDataElement) and raw.length != UNDEFINED_LENGTH:
            if t not in PIXEL_TAGS and raw.length > limits.max_element_bytes:
                raise Rejected(f"element {tag} too large ({raw.length} bytes; limit {limits.max_element_bytes})")
            held = len(raw.value) if raw.value is not None else max(0, file_size - (raw.value_tell or 0))
            if held < raw.length:
                raise Rejected(f"truncated: element {tag} declares {raw.length} bytes, the file holds {held}")
        vr = raw.VR if isinstance(raw, RawDataElement) else raw.VR
        if vr == "SQ" or (vr is None and dictionary_vr(t) == "SQ") or (vr == "UN" and raw.length == UNDEFINED_LENGTH):
            elem = ds[tag]  # parse sequences to check their items; other values parse when written
            if elem.VR == "SQ":
                for item in elem.value:
                    _check_elements(item, limits, file_size)


def _check_transfer_syntax(ds: Dataset) -> None:
    meta = getattr(ds, "file_meta", None)
    ts = UID(str(meta.get("TransferSyntaxUID", "") if meta is not None else ""))
    if not ts or not ts.is_transfer_syntax:
        raise Rejected(f"unknown or missing transfer syntax {str(ts)!r}")
    if "PixelData" not in ds or not ts.is_encapsulated:
        return
    from pydicom.encaps import generate_fragments

    try:
        n = sum(1 for _ in generate_fragments(ds.PixelData))
    except Exception as exc:  # noqa: BLE001
        raise Rejected(f"malformed encapsulated pixel data ({exc})") from None
    if n == 0:
        raise Rejected("encapsulated pixel data without fragments")


def _check_identity(ds: Dataset) -> None:
    meta = getattr(ds, "file_meta", None)
    classes = {str(ds.get("SOPClassUID", "")), str(meta.get("MediaStorageSOPClassUID", "")) if meta is not None else ""}
    if DICOMDIR_SOP_CLASS in classes or "DirectoryRecordSequence" in ds:
        raise Rejected("DICOMDIR (a directory of other files, not an image); not copied")
    if not str(ds.get("SOPClassUID", "") or "").strip() or not str(ds.get("SOPInstanceUID", "") or "").strip():
        raise Rejected("missing SOP Class UID or SOP Instance UID")


def _check_pixels(ds: Dataset) -> None:
    if "PixelData" not in ds or ds.file_meta.TransferSyntaxUID.is_encapsulated:
        return
    try:
        rows, cols = int(ds.Rows), int(ds.Columns)
        bits = int(ds.BitsAllocated)
        samples = int(ds.get("SamplesPerPixel", 1) or 1)
        frames = int(ds.get("NumberOfFrames", 1) or 1)
    except (AttributeError, TypeError, ValueError):
        raise Rejected("pixel data without a usable Rows/Columns/BitsAllocated description") from None
    expected = (rows * cols * frames * samples * bits + 7) // 8
    got = len(ds.PixelData)
    if got < expected:
        raise Rejected(f"pixel data truncated ({got} of {expected} bytes)")
