"""HIPAA Safe Harbor de-identification of EHR CSV exports, and its verification."""

from .csvio import DeidInputError
from .deidentify import EHRDeidReport, TableReport, deidentify_ehr_folder
from .kanon import KAnonymityReport, k_anonymity
from .schema import DEFAULT_SCHEMA, DeidSchema, Role, TableSchema
from .verify import EHRVerifyReport, Leak, verify_ehr_folder

__all__ = [
    "DEFAULT_SCHEMA",
    "DeidInputError",
    "DeidSchema",
    "EHRDeidReport",
    "EHRVerifyReport",
    "KAnonymityReport",
    "Leak",
    "Role",
    "TableReport",
    "TableSchema",
    "deidentify_ehr_folder",
    "k_anonymity",
    "verify_ehr_folder",
]
