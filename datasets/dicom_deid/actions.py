"""From a Table E.1-1 row, the options in force and the instance's IOD to one concrete action.

**Options.** Each enabled option whose column names the attribute may change its action.
Where several do, the most retaining wins: K over C over X (for example Device UID is K
under either Retain UIDs or Retain Device Identity; Allergies is C under Retain Patient
Characteristics or Clean Descriptors). Otherwise the Basic Profile action applies.

**Composite codes.** The standard leaves the choice to the attribute's Type in the IOD
of the instance being de-identified (Type 1 required with a value, Type 2 required but
may be empty, Type 3 optional):

============  =====================================================================
``Z/D``       D if the attribute is Type 1, else Z (zero length)
``X/Z``       Z if Type 1 or 2, else X (removed)
``X/D``       D if Type 1 or 2, else X
``X/Z/D``     D if Type 1, Z if Type 2, else X
``X/Z/U*``    for a Type 1 sequence keep it and replace every UID in it (U); Z (empty
              sequence) if Type 2; else X
============  =====================================================================

The Types come from :func:`required_type`, a short table of where a composite-coded
attribute is Type 1 or 2 in the IODs this tool is used on: the enhanced multi-frame
image IODs (Enhanced General Equipment makes Device Serial Number Type 1; Acquisition
DateTime, Content Date and Content Time are Type 1; Source and Referenced Image
Sequences are required when present in derived or referencing frames) and the
structured-report and key-object IODs (Content Date and Time Type 1, Referenced
Performed Procedure Step Sequence Type 2). Everywhere else - including CT Image Storage,
where every composite-coded attribute is Type 2C or 3 - composites resolve to their
removing (X) or zero-length (Z) branch.

**Beyond the table.** Attributes Table E.1-1 does not list are removed unless
:mod:`.keep` lists them (fail closed; :func:`.dataset.rule_of`). Values under the DICOM
root 1.2.840.10008 are well-known UIDs and never replaced.
"""

from __future__ import annotations

from .options import DeidOptions
from .profile import Rule

ENHANCED_IMAGE_SOP_CLASSES = frozenset(
    {
        "1.2.840.10008.5.1.4.1.1.2.1",  # Enhanced CT
        "1.2.840.10008.5.1.4.1.1.2.2",  # Legacy Converted Enhanced CT
        "1.2.840.10008.5.1.4.1.1.4.1",  # Enhanced MR
        "1.2.840.10008.5.1.4.1.1.4.3",  # Enhanced MR Color
        "1.2.840.10008.5.1.4.1.1.4.4",  # Legacy Converted Enhanced MR
        "1.2.840.10008.5.1.4.1.1.12.1.1",  # Enhanced XA
        "1.2.840.10008.5.1.4.1.1.12.2.1",  # Enhanced XRF
        "1.2.840.10008.5.1.4.1.1.130",  # Enhanced PET
        "1.2.840.10008.5.1.4.1.1.128.1",  # Legacy Converted Enhanced PET
        "1.2.840.10008.5.1.4.1.1.6.2",  # Enhanced US Volume
        "1.2.840.10008.5.1.4.1.1.13.1.3",  # Breast Tomosynthesis
    }
)
SR_SOP_PREFIX = "1.2.840.10008.5.1.4.1.1.88."

_ENHANCED_TYPES = {
    0x00181000: "1",  # Device Serial Number (Enhanced General Equipment)
    0x0008002A: "1",  # Acquisition DateTime
    0x00080023: "1",  # Content Date
    0x00080033: "1",  # Content Time
    0x00082112: "1",  # Source Image Sequence (1C: derived frames)
    0x00081140: "1",  # Referenced Image Sequence (1C: referencing frames)
}
_SR_TYPES = {
    0x00080023: "1",  # Content Date
    0x00080033: "1",  # Content Time
    0x00081111: "2",  # Referenced Performed Procedure Step Sequence (SR Document General)
}

WELL_KNOWN_UID_ROOT = "1.2.840.10008."


def required_type(tag: int, sop_class_uid: str) -> str:
    """Type ("1", "2" or "3") of a composite-coded attribute in the instance's IOD."""
    if sop_class_uid in ENHANCED_IMAGE_SOP_CLASSES:
        return _ENHANCED_TYPES.get(tag, "3")
    if sop_class_uid.startswith(SR_SOP_PREFIX):
        return _SR_TYPES.get(tag, "3")
    return "3"


def option_action(rule: Rule, options: DeidOptions) -> str | None:
    """The action the enabled options give ``rule`` (K over C over X), or None."""
    enabled = options.enabled()
    given = {action for name, action in rule.options.items() if name in enabled}
    for action in ("K", "C", "X"):
        if action in given:
            return action
    return None


def resolve(rule: Rule, options: DeidOptions, sop_class_uid: str, tag: int) -> str:
    """One of D, Z, X, K, C, U, or ``U*`` (keep a sequence, replacing every UID inside)."""
    chosen = option_action(rule, options)
    if chosen is not None:
        return chosen
    action = rule.basic
    if "/" not in action:
        return action
    t = required_type(tag, sop_class_uid)
    if action == "Z/D":
        return "D" if t == "1" else "Z"
    if action == "X/Z":
        return "Z" if t in ("1", "2") else "X"
    if action == "X/D":
        return "D" if t in ("1", "2") else "X"
    if action == "X/Z/D":
        return {"1": "D", "2": "Z"}.get(t, "X")
    if action == "X/Z/U*":
        return {"1": "U*", "2": "Z"}.get(t, "X")
    raise ValueError(f"unknown composite action {action!r}")
