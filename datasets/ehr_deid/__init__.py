"""De-identification of EHR CSV exports (safe-harbor or date-shift mode), and its verification."""

from .csvio import DeidInputError
from .deidentify import EHRDeidReport, TableReport, deidentify_ehr_folder
from .kanon import KAnonymityReport, k_anonymity
from .modes import DeidMode
from .schema import DEFAULT_SCHEMA, DeidSchema, Role, TableSchema
from .verify import EHRVerifyReport, Leak, verify_ehr_folder

__all__ = [
    "DEFAULT_SCHEMA",
    "DeidInputError",
    "DeidMode",
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
