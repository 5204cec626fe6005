"""De-identify one DICOM data set in place: Table E.1-1 actions, UIDs, dates, flags.

Walks every element, items of sequences included (the same rules at every depth), and
applies the action that :mod:`.actions` resolves for it:

* **Fail closed.** A public attribute that Table E.1-1 does not list is removed unless
  :mod:`.keep` lists it. Private elements (odd groups) are removed, except those the
  Retain Safe Private option keeps (:mod:`.private`); curve groups (50xx) and whole
  overlay groups (60xx) are removed too. Public elements of unknown VR (UN) that the
  data dictionary does not know are removed: nothing can be said about what they hold.
* **X** removes. **Z** empties the value (a sequence loses its items). Patient's Name and
  Patient ID get a keyed pseudonym instead (a dummy value, which Z allows), so a learner
  can still tell patients apart.
* **D** writes a dummy: ``ANONYMIZED`` for text, 0 for numbers, 19000101 / 000000.00 for
  dates and times (or the shifted date under the modified-dates option), a new UID for
  UIDs, two zero bytes for binary values (OB, OW, UN, ...: an encapsulated document or a
  signer's certificate is replaced whole). A code sequence becomes one dummy code; any
  other sequence keeps its items, de-identified, with their remaining free text cleaned.
* **K** keeps (sequences are walked; code items of local coding schemes dropped).
  **U** and **U\\*** replace UIDs with keyed ones.
* **C** shifts dates (modified-dates option) and keeps times; cleans text to its
  vocabulary words (:mod:`.clean`); walks a sequence cleaning all its free text and
  dropping codes from local coding schemes. A value that cannot be cleaned - binary
  (Frame Origin Timestamp, Certified Timestamp), numeric, or a date that does not parse -
  is removed.

The file meta group is rebuilt from scratch (SOP class and new instance UID, transfer
syntax, this tool's implementation identity) and the preamble zeroed, so nothing of the
source's meta header or preamble survives. Finally Patient Identity Removed,
De-identification Method (and its Code Sequence, CID 7050) and Longitudinal Temporal
Information Modified are set.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydicom.datadict import dictionary_has_tag
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence

from .actions import WELL_KNOWN_UID_ROOT, resolve
from .clean import clean_text
from .dates import DUMMY, shift_date, shift_datetime
from .keep import KEEP, KEEP_CLEANED
from .keys import Keyring
from .options import BASIC_PROFILE, CODE_MEANINGS, DeidOptions
from .private import safe_private_tags
from .profile import EDITION, Rule, rule_for

IMPLEMENTATION_CLASS_UID = "2.25.185112297457347106354520146624862436081"
IMPLEMENTATION_VERSION = "PRACTICUM_DEID2"
METHOD_NAME = f"PRACTICUM DICOM DEID 2 - PS3.15 {EDITION.upper()} E.1 BASIC PROFILE"

KEPT_RULE = Rule(tag="(----,----)", name="On the keep list (not in Table E.1-1)", basic="K")
KEPT_CLEANED_RULE = Rule(tag="(----,----)", name="Free text on the keep list (cleaned)", basic="C")
NOT_LISTED_RULE = Rule(tag="(----,----)", name="Neither in Table E.1-1 nor on the keep list (fail closed)", basic="X")

TEXT_VRS = frozenset({"LO", "SH", "ST", "LT", "UT", "UC", "PN"})
MAX_LENGTH = {"AE": 16, "CS": 16, "SH": 16, "LO": 64, "ST": 1024, "LT": 10240, "PN": 64}
STANDARD_CODING_SCHEMES = frozenset(
    {"DCM", "SCT", "SRT", "LN", "RADLEX", "UCUM", "FMA", "NCIT", "ICD10", "I10", "I10P", "I9C", "UMLS", "MSH", "RXNORM", "ACR"}
)
PATIENT_NAME, PATIENT_ID = 0x00100010, 0x00100020
PIXEL_TAGS = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009})
BINARY_VRS = frozenset({"OB", "OW", "OD", "OF", "OL", "OV", "UN"})


@dataclass(frozen=True)
class Context:
    """Per-file settings: options, keys, the IOD, the patient's offset and pseudonym."""

    options: DeidOptions
    keys: Keyring
    sop_class_uid: str
    offset_days: int
    pseudonym: str


def patient_key(ds: Dataset) -> str:
    """What identifies the patient for date offsets and pseudonyms (before de-identification)."""
    pid = str(ds.get("PatientID", "") or "").strip()
    issuer = str(ds.get("IssuerOfPatientID", "") or "").strip()
    if pid:
        return f"id:{issuer}|{pid}"
    name = str(ds.get("PatientName", "") or "").strip()
    birth = str(ds.get("PatientBirthDate", "") or "").strip()
    if name:
        return f"name:{name}|{birth}"
    return f"study:{ds.get('StudyInstanceUID', '')}"


def rule_of(tag: int) -> Rule:
    """The rule for a public element: its Table E.1-1 row, the keep list's, or removal."""
    rule = rule_for(tag)
    if rule is not None:
        return rule
    if tag in KEEP:
        return KEPT_RULE
    if tag in KEEP_CLEANED:
        return KEPT_CLEANED_RULE
    return NOT_LISTED_RULE


def deidentify_dataset(ds: Dataset, keys: Keyring, options: DeidOptions = BASIC_PROFILE) -> Dataset:
    """De-identify ``ds`` (and its ``file_meta``) in place and return it."""
    key = patient_key(ds)
    ctx = Context(
        options=options,
        keys=keys,
        sop_class_uid=str(ds.get("SOPClassUID", "") or ""),
        offset_days=keys.date_offset_days(key),
        pseudonym=keys.pseudonym(key),
    )
    _walk(ds, ctx, clean=False)
    ds.PatientName = ctx.pseudonym
    ds.PatientID = ctx.pseudonym
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = [METHOD_NAME] + [CODE_MEANINGS[c][:64].upper() for c in options.codes()[1:]]
    codes = []
    for code in options.codes():
        item = Dataset()
        item.CodeValue = code
        item.CodingSchemeDesignator = "DCM"
        item.CodeMeaning = CODE_MEANINGS[code]
        codes.append(item)
    ds.DeidentificationMethodCodeSequence = Sequence(codes)
    ds.LongitudinalTemporalInformationModified = options.longitudinal_status()
    old_meta = getattr(ds, "file_meta", None)
    transfer_syntax = old_meta.get("TransferSyntaxUID") if old_meta is not None else None
    if not transfer_syntax:
        raise ValueError("the data set has no file meta Transfer Syntax UID (read it with read_dicom)")
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = transfer_syntax
    meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION
    ds.file_meta = meta
    ds.preamble = b"\x00" * 128
    return ds


def _vr(ds: Dataset, tag: int) -> str:
    """The element's VR without parsing its value (dictionary VR for implicit-VR input)."""
    raw = ds.get_item(tag, keep_deferred=True)
    vr = raw.VR
    if vr is None or (vr == "UN" and dictionary_has_tag(tag)):
        vr = ds[tag].VR  # let pydicom work it out (implicit VR, or UN for a known tag)
    return vr


def _walk(ds: Dataset, ctx: Context, *, clean: bool) -> None:
    keep_private = safe_private_tags(ds) if ctx.options.retain_safe_private else frozenset()
    for tag in list(ds.keys()):
        t = int(tag)
        if t in PIXEL_TAGS:
            continue
        group = t >> 16
        if group % 2 == 1:
            if t not in keep_private:
                del ds[tag]
            continue
        if 0x5000 <= group <= 0x501E or 0x6000 <= group <= 0x601E:
            del ds[tag]
            continue
        vr = _vr(ds, t)
        if vr == "UN" and not dictionary_has_tag(t):
            del ds[tag]
            continue
        action = resolve(rule_of(t), ctx.options, ctx.sop_class_uid, t)
        if action == "X":
            del ds[tag]
        elif action != "K" or vr == "SQ" or (clean and vr in TEXT_VRS):
            _apply(ds, t, action, ctx, clean)


def _keep(ds: Dataset, tag: int, ctx: Context, clean: bool) -> None:
    elem = ds[tag]
    if elem.VR == "SQ":
        for item in elem.value:
            _walk(item, ctx, clean=clean)
        _drop_local_codes(elem.value)
    elif clean and elem.VR in TEXT_VRS and not _is_code_text(ds, tag):
        _clean_value(ds, tag)


def _apply(ds: Dataset, tag: int, action: str, ctx: Context, clean: bool) -> None:
    elem = ds[tag]
    vr = elem.VR
    if action == "X":
        del ds[tag]
    elif action == "K":
        _keep(ds, tag, ctx, clean)
    elif action in ("U", "U*"):
        if vr == "SQ":
            _keep(ds, tag, ctx, clean)
        elif vr == "UI":
            elem.value = _map_uids(elem.value, ctx)
        else:
            del ds[tag]
    elif action == "Z":
        if vr == "SQ":
            elem.value = Sequence([])
        elif tag in (PATIENT_NAME, PATIENT_ID):
            elem.value = ctx.pseudonym
        else:
            elem.value = None
    elif action == "D":
        _dummy(ds, tag, ctx)
    elif action == "C":
        _clean(ds, tag, ctx)
    else:
        raise ValueError(f"unexpected action {action!r}")


def _values(value) -> list:
    if value is None:
        return []
    if isinstance(value, MultiValue | list | tuple):
        return list(value)
    return [value]


def _map_uids(value, ctx: Context):
    out = []
    for v in _values(value):
        s = str(v).strip()
        out.append(s if not s or s.startswith(WELL_KNOWN_UID_ROOT) else ctx.keys.uid(s))
    return out if len(out) != 1 else out[0]


def _shift(value, vr: str, days: int):
    """Shifted DA/DT value(s), or None if any is not a date."""
    out = []
    for v in _values(value):
        s = str(v)
        shifted = shift_date(s, days) if vr == "DA" else shift_datetime(s, days)
        if shifted is None:
            return None
        out.append(shifted)
    return out if len(out) != 1 else (out[0] if out else None)


def _dummy(ds: Dataset, tag: int, ctx: Context) -> None:
    elem = ds[tag]
    vr = elem.VR
    if vr == "SQ":
        items = list(elem.value)
        if items and all("CodeValue" in item for item in items):
            code = Dataset()
            code.CodeValue = "DEID"
            code.CodingSchemeDesignator = "99PRACTICUM"
            code.CodeMeaning = "de-identified"
            elem.value = Sequence([code])
        else:
            for item in items:
                _walk(item, ctx, clean=True)
            if not items:
                elem.value = Sequence([Dataset()])
    elif vr in ("DA", "DT"):
        shifted = _shift(elem.value, vr, ctx.offset_days) if ctx.options.retain_longitudinal_modified_dates else None
        elem.value = shifted if shifted is not None else DUMMY[vr]
    elif vr == "TM":
        if not ctx.options.retain_longitudinal_modified_dates or not elem.value:
            elem.value = DUMMY["TM"]
    elif vr == "UI":
        elem.value = _map_uids(elem.value, ctx) or ctx.keys.uid(f"dummy:{tag}")
    elif vr in ("IS", "DS", "US", "SS", "UL", "SL", "FL", "FD", "UV", "SV"):
        elem.value = 0 if vr not in ("IS", "DS") else "0"
    elif vr in BINARY_VRS:
        elem.value = b"\x00\x00"
    elif vr == "AS":
        elem.value = "000Y"
    else:
        elem.value = "ANONYMIZED"[: MAX_LENGTH.get(vr, 64)]


def _clean(ds: Dataset, tag: int, ctx: Context) -> None:
    elem = ds[tag]
    vr = elem.VR
    if vr == "SQ":
        for item in elem.value:
            _walk(item, ctx, clean=True)
        _drop_local_codes(elem.value)
    elif vr in ("DA", "DT"):
        if ctx.options.retain_longitudinal_modified_dates:
            shifted = _shift(elem.value, vr, ctx.offset_days)
            if shifted is None:
                del ds[tag]
            else:
                elem.value = shifted
        else:
            del ds[tag]
    elif vr == "TM":
        if not ctx.options.retain_longitudinal_modified_dates:
            del ds[tag]
    elif vr in TEXT_VRS or vr in ("CS", "AE"):
        _clean_value(ds, tag)
    else:
        del ds[tag]  # binary, numeric or URI values cannot be cleaned word by word


def _clean_value(ds: Dataset, tag: int) -> None:
    elem = ds[tag]
    vr = elem.VR
    if vr == "PN":
        elem.value = None
        return
    cleaned = [clean_text(str(v), MAX_LENGTH.get(vr)) for v in _values(elem.value)]
    cleaned = [c for c in cleaned if c]
    elem.value = None if not cleaned else (cleaned if len(cleaned) > 1 else cleaned[0])


def _is_code_text(ds: Dataset, tag: int) -> bool:
    """Code Meaning / Coding Scheme fields of a standard code are not free text."""
    scheme = str(ds.get("CodingSchemeDesignator", "") or "").upper()
    return tag in (0x00080104, 0x00080102, 0x00080103) and scheme in STANDARD_CODING_SCHEMES


def _drop_local_codes(seq: Sequence) -> None:
    """Remove code items from local or private coding schemes (their meanings are free text)."""
    for i in range(len(seq) - 1, -1, -1):
        item = seq[i]
        if "CodeValue" in item and str(item.get("CodingSchemeDesignator", "")).upper() not in STANDARD_CODING_SCHEMES:
            del seq[i]

