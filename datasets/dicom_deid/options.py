"""De-identification options (PS3.15 E.3) and the codes that record them (CID 7050).

The Basic Profile always applies. Each option switched on here changes the actions of
the attributes its column in Table E.1-1 names, and adds its code to the output's
De-identification Method Code Sequence (0012,0064).

Two options are attestations rather than transformations, because this tool never
decodes or edits pixel data: ``pixels_cleaned`` (Clean Pixel Data, 113101) says that
burned-in text was removed from the pixels before this run, and
``recognizable_features_cleaned`` (Clean Recognizable Visual Features, 113102) that faces
and other recognizable features were. Without them, files whose pixels may carry PHI are
quarantined (see :mod:`.pixel_risk`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from functools import cached_property

# CID 7050 "De-identification Method", coding scheme DCM.
CODE_MEANINGS: dict[str, str] = {
    "113100": "Basic Application Confidentiality Profile",
    "113101": "Clean Pixel Data Option",
    "113102": "Clean Recognizable Visual Features Option",
    "113103": "Clean Graphics Option",
    "113104": "Clean Structured Content Option",
    "113105": "Clean Descriptors Option",
    "113106": "Retain Longitudinal Temporal Information Full Dates Option",
    "113107": "Retain Longitudinal Temporal Information Modified Dates Option",
    "113108": "Retain Patient Characteristics Option",
    "113109": "Retain Device Identity Option",
    "113110": "Retain UIDs Option",
    "113111": "Retain Safe Private Option",
    "113112": "Retain Institution Identity Option",
}

OPTION_CODES: dict[str, str] = {
    "pixels_cleaned": "113101",
    "recognizable_features_cleaned": "113102",
    "clean_graphics": "113103",
    "clean_structured_content": "113104",
    "clean_descriptors": "113105",
    "retain_longitudinal_full_dates": "113106",
    "retain_longitudinal_modified_dates": "113107",
    "retain_patient_characteristics": "113108",
    "retain_device_identity": "113109",
    "retain_uids": "113110",
    "retain_safe_private": "113111",
    "retain_institution_identity": "113112",
}

# One line of help per option, shared by the CLI and the documentation.
OPTION_HELP: dict[str, str] = {
    "retain_safe_private": "keep private attributes that PS3.15 Table E.3.10-1 lists as safe (numeric acquisition "
    "parameters of known private creators, values checked against their VR); every other private attribute is "
    "still removed",
    "retain_uids": "keep the original UIDs instead of replacing them with keyed 2.25 UIDs",
    "retain_device_identity": "keep device serial numbers, station names, detector and gantry IDs; AE titles are "
    "cleaned to vocabulary words",
    "retain_institution_identity": "keep institution name, address and department",
    "retain_patient_characteristics": "keep sex, age, size, weight, ethnic group, smoking and pregnancy status",
    "retain_longitudinal_full_dates": "keep every date and time unchanged (excludes --retain-longitudinal-modified-dates)",
    "retain_longitudinal_modified_dates": "shift every date of a patient by one keyed offset (1 to 10 years back) "
    "so intervals survive; times are kept",
    "clean_descriptors": "keep study/series/protocol descriptions and comments, cleaned to imaging vocabulary words",
    "clean_structured_content": "keep structured-report content and acquisition context, text cleaned to "
    "vocabulary words and local codes dropped",
    "clean_graphics": "keep graphic annotations with their text cleaned; overlay and curve data are still removed",
    "pixels_cleaned": "attest that burned-in text was removed from the pixels beforehand: files flagged "
    "BurnedInAnnotation=YES or of a burned-in-text SOP class are written instead of quarantined",
    "recognizable_features_cleaned": "attest that recognizable visual features (faces) were removed beforehand: "
    "files flagged RecognizableVisualFeatures=YES are written instead of quarantined",
}


@dataclass(frozen=True)
class DeidOptions:
    """Which PS3.15 E.3 options to apply on top of the Basic Profile (see :data:`OPTION_HELP`).

    ``retain_longitudinal_modified_dates`` shifts every date of a patient by the same
    number of days (1 to 10 years back, from a keyed hash of the patient's identity), so
    intervals between a patient's studies survive; times are kept. It and
    ``retain_longitudinal_full_dates`` exclude each other.
    """

    retain_safe_private: bool = False
    retain_uids: bool = False
    retain_device_identity: bool = False
    retain_institution_identity: bool = False
    retain_patient_characteristics: bool = False
    retain_longitudinal_full_dates: bool = False
    retain_longitudinal_modified_dates: bool = False
    clean_descriptors: bool = False
    clean_structured_content: bool = False
    clean_graphics: bool = False
    pixels_cleaned: bool = False
    recognizable_features_cleaned: bool = False

    def __post_init__(self) -> None:
        if self.retain_longitudinal_full_dates and self.retain_longitudinal_modified_dates:
            raise ValueError("choose at most one of retain_longitudinal_full_dates and retain_longitudinal_modified_dates")

    def enabled(self) -> frozenset[str]:
        """Names of the options switched on (as used in Table E.1-1's option columns)."""
        return self._enabled

    @cached_property
    def _enabled(self) -> frozenset[str]:
        return frozenset(f.name for f in fields(self) if getattr(self, f.name))

    def codes(self) -> list[str]:
        """CID 7050 codes to record: 113100 first, then each option applied."""
        return ["113100"] + sorted(OPTION_CODES[name] for name in self.enabled())

    @classmethod
    def from_codes(cls, codes: set[str] | frozenset[str]) -> DeidOptions:
        """The options a file declares in its De-identification Method Code Sequence."""
        by_code = {v: k for k, v in OPTION_CODES.items()}
        return cls(**{by_code[c]: True for c in codes if c in by_code})

    def longitudinal_status(self) -> str:
        """Value of Longitudinal Temporal Information Modified (0028,0303)."""
        if self.retain_longitudinal_full_dates:
            return "UNMODIFIED"
        if self.retain_longitudinal_modified_dates:
            return "MODIFIED"
        return "REMOVED"

    def to_json(self) -> dict:
        return asdict(self)


BASIC_PROFILE = DeidOptions()
