"""Retain Safe Private (PS3.15 E.3.10): the private attributes known to carry no identity.

Table E.3.10-1 lists private attributes, by private creator and element, that are safe
to keep. This tool keeps the subset below - numeric acquisition and quantitation
parameters relevant to CT and PET, plus GE's scan pitch ratio - and only when the value
is what the entry says it is: a number of the listed VR (decimal and integer strings are
checked character by character; binary numbers by their length), or for the pitch ratio
the form ``n.nnn:1``. Every other private attribute, every private creator without a
retained element, and every private sequence is removed.
"""

from __future__ import annotations

import re

from pydicom.dataset import Dataset

# (private creator, group, element offset) -> VR, from PS3.15 2026d Table E.3.10-1.
SAFE_PRIVATE: dict[tuple[str, int, int], str] = {
    ("Philips PET Private Group", 0x7053, 0x00): "DS",  # SUV factor
    ("Philips PET Private Group", 0x7053, 0x09): "DS",  # activity concentration factor
    ("ELSCINT1", 0x00E1, 0x21): "DS",  # DLP
    ("ELSCINT1", 0x00E1, 0x50): "DS",  # acquisition duration
    ("ELSCINT1", 0x01F1, 0x07): "DS",  # table velocity
    ("ELSCINT1", 0x01F1, 0x26): "DS",  # pitch
    ("ELSCINT1", 0x01F1, 0x27): "DS",  # rotation time
    ("GEMS_ACQU_01", 0x0019, 0x23): "DS",  # table speed [mm/rotation]
    ("GEMS_ACQU_01", 0x0019, 0x24): "DS",  # mid scan time [s]
    ("GEMS_ACQU_01", 0x0019, 0x27): "DS",  # rotation speed (gantry period)
    ("GEMS_PARM_01", 0x0043, 0x27): "SH",  # scan pitch ratio "n.nnn:1"
    ("GEMS_HELIOS_01", 0x0045, 0x01): "SS",  # number of macro rows in detector
    ("GEMS_HELIOS_01", 0x0045, 0x02): "FL",  # macro width at iso centre
}

_TEXT_NUMBER = {"DS": re.compile(r"^[ 0-9+\-.eE\\]*$"), "IS": re.compile(r"^[ 0-9+\-\\]*$")}
_PITCH_RATIO = re.compile(r"^ ?\d{1,2}\.\d{1,3}:1 ?$")
_BINARY_SIZE = {"SS": 2, "US": 2, "SL": 4, "UL": 4, "FL": 4, "FD": 8}


def _creators(ds: Dataset, group: int) -> dict[int, str]:
    """Block number -> private creator, for one odd group."""
    out = {}
    for block in range(0x10, 0x100):
        tag = (group << 16) | block
        if tag in ds:
            value = ds[tag].value
            out[block] = (value.decode("latin-1") if isinstance(value, bytes) else str(value)).strip().rstrip("\x00")
    return out


def _raw_bytes(ds: Dataset, tag: int) -> bytes:
    raw = ds.get_item(tag, keep_deferred=True)
    value = getattr(raw, "value", None)
    if isinstance(value, bytes):
        return value
    elem = ds[tag]
    if isinstance(elem.value, bytes):
        return elem.value
    return str(elem.value if not isinstance(elem.value, list) else "\\".join(map(str, elem.value))).encode("latin-1", "replace")


def value_is_safe(data: bytes, vr: str) -> bool:
    """Whether ``data`` (the element's value bytes) is a number of ``vr`` (or the pitch-ratio form)."""
    if vr in _TEXT_NUMBER:
        try:
            text = data.decode("ascii").rstrip("\x00 ")
        except UnicodeDecodeError:
            return False
        return len(text) <= 64 and bool(_TEXT_NUMBER[vr].match(text))
    if vr == "SH":
        try:
            return bool(_PITCH_RATIO.match(data.decode("ascii").rstrip("\x00")))
        except UnicodeDecodeError:
            return False
    size = _BINARY_SIZE.get(vr)
    return size is not None and 0 < len(data) <= 64 and len(data) % size == 0


def safe_private_tags(ds: Dataset) -> frozenset[int]:
    """Private tags of ``ds`` (this level only) to keep: safe elements and their creators."""
    keep: set[int] = set()
    groups = {int(t) >> 16 for t in ds.keys() if (int(t) >> 16) % 2 == 1}
    for group in groups:
        for block, creator in _creators(ds, group).items():
            for (name, g, offset), vr in SAFE_PRIVATE.items():
                tag = (group << 16) | (block << 8) | offset
                if name != creator or g != group or tag not in ds:
                    continue
                stored_vr = ds.get_item(tag, keep_deferred=True).VR
                if stored_vr not in (None, "UN", vr):
                    continue
                if value_is_safe(_raw_bytes(ds, tag), vr):
                    keep.update({tag, (group << 16) | block})
    return frozenset(keep)

