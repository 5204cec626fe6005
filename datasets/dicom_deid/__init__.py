"""De-identification of DICOM folders (PS3.15 Annex E) and verification of the result.

Public API (one verb, one function):

* :func:`deidentify_dicom_folder` - de-identify a folder into a new folder (report: processed,
  skipped with reasons, UID map size).
* :func:`verify_dicom_folder` - check a de-identified folder against every rule and, given the
  PHI manifest of a synthetic build, byte-scan it for every planted value and original UID.
"""

from .dataset import deidentify_dataset
from .folder import DeidReport, SkippedFile, deidentify_dicom_folder, deidentify_file
from .keys import Keyring
from .manifest import ManifestBuilder, PhiManifest, PhiValue
from .options import DeidOptions
from .profile import RULES, Rule, rule_for
from .reader import ReadLimits, Rejected, read_dicom
from .verify import DicomVerifyReport, Issue, Leak, verify_dicom_folder

__all__ = [
    "RULES",
    "DeidOptions",
    "DeidReport",
    "DicomVerifyReport",
    "Issue",
    "Keyring",
    "Leak",
    "ManifestBuilder",
    "PhiManifest",
    "PhiValue",
    "ReadLimits",
    "Rejected",
    "Rule",
    "SkippedFile",
    "deidentify_dataset",
    "deidentify_dicom_folder",
    "deidentify_file",
    "read_dicom",
    "rule_for",
    "verify_dicom_folder",
]
