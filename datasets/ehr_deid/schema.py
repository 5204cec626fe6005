"""Which column of which CSV plays which part in de-identification.

Every column of every table must have a role; an undeclared column or file is an error
(fail closed), so a new column in an export cannot slip through unreviewed. Roles:

============== =================================================================================
role           what happens to the column
============== =================================================================================
patient_id     keyed pseudonym ``P...``; links the patient's rows and selects the date shift
pseudonym      keyed pseudonym in the column's namespace (links such as encounter ids)
name           dropped; values scrubbed from free text (own names in any case, others by word)
address        dropped; values scrubbed from free text
city           dropped; every city of the data set scrubbed from all free text
phone          dropped (telephone and fax numbers); digits scrubbed whatever the punctuation
email, url, ip dropped; scrubbed from free text
identifier     dropped (SSN, MRN, plan, account, licence, plate, serial, biometric, photo, ...)
organization   dropped (employers); every value scrubbed from all free text
date           date-shift mode: shifted by the patient's offset (ISO or MM/DD/YYYY, time of day kept);
               safe-harbor mode: the year alone
birth_date     as date; emptied where the patient is 90 or older
age            whole years; 90 and over become "90+"
zip            three digits, "000" for restricted prefixes
text           free text (notes, visit reasons, diagnosis descriptions), scrubbed
quasi          kept (and counted for k-anonymity when listed in ``quasi_identifiers``)
keep           kept as is (clinical values, codes)
============== =================================================================================
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path


class Role(StrEnum):
    PATIENT_ID = "patient_id"
    PSEUDONYM = "pseudonym"
    NAME = "name"
    ADDRESS = "address"
    CITY = "city"
    PHONE = "phone"
    EMAIL = "email"
    URL = "url"
    IP = "ip"
    IDENTIFIER = "identifier"
    ORGANIZATION = "organization"
    DATE = "date"
    BIRTH_DATE = "birth_date"
    AGE = "age"
    ZIP = "zip"
    TEXT = "text"
    QUASI = "quasi"
    KEEP = "keep"


DROPPED = frozenset({
    Role.NAME, Role.ADDRESS, Role.CITY, Role.PHONE, Role.EMAIL, Role.URL, Role.IP, Role.IDENTIFIER,
    Role.ORGANIZATION,
})
GLOBAL_SCRUB = frozenset({Role.CITY, Role.ORGANIZATION, Role.NAME})


@dataclass(frozen=True)
class TableSchema:
    columns: dict[str, Role]
    required: bool = False
    quasi_identifiers: tuple[str, ...] = ()

    @property
    def patient_id_column(self) -> str | None:
        return next((c for c, r in self.columns.items() if r == Role.PATIENT_ID), None)

    def check(self, table: str) -> None:
        ids = [c for c, r in self.columns.items() if r == Role.PATIENT_ID]
        if len(ids) > 1:
            raise ValueError(f"schema of {table}: more than one patient_id column: {ids}")
        needs_patient = [c for c, r in self.columns.items() if r in (Role.DATE, Role.BIRTH_DATE, Role.TEXT)]
        if needs_patient and not ids:
            raise ValueError(f"schema of {table}: columns {needs_patient} need a patient_id column")
        for q in self.quasi_identifiers:
            if q not in self.columns or self.columns[q] in DROPPED:
                raise ValueError(f"schema of {table}: quasi-identifier {q!r} is not a kept column")


@dataclass(frozen=True)
class DeidSchema:
    """Column roles per file name, plus options."""

    tables: dict[str, TableSchema]
    max_shift_days: int = 365
    k_threshold: int = 5
    max_field_chars: int = 1_000_000
    description: str = ""

    def __post_init__(self) -> None:
        for name, table in self.tables.items():
            table.check(name)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @staticmethod
    def from_dict(data: dict) -> DeidSchema:
        """From the JSON form ``{"tables": {"file.csv": {"columns": {col: role}, "required": bool,
        "quasi_identifiers": [...]}}, "max_shift_days": 365, "k_threshold": 5}``."""
        try:
            tables = {
                name: TableSchema(
                    columns={col: Role(role) for col, role in spec["columns"].items()},
                    required=bool(spec.get("required", False)),
                    quasi_identifiers=tuple(spec.get("quasi_identifiers", ())),
                )
                for name, spec in data["tables"].items()
            }
        except (KeyError, TypeError) as err:
            raise ValueError(f"schema is missing {err}") from None
        except ValueError as err:
            raise ValueError(f"schema has an unknown role: {err}; known roles: {[r.value for r in Role]}") from None
        return DeidSchema(
            tables=tables,
            max_shift_days=int(data.get("max_shift_days", 365)),
            k_threshold=int(data.get("k_threshold", 5)),
            max_field_chars=int(data.get("max_field_chars", 1_000_000)),
            description=str(data.get("description", "")),
        )

    @staticmethod
    def read(path: Path) -> DeidSchema:
        return DeidSchema.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


R = Role
_PATIENTS = {
    "patient_id": R.PATIENT_ID, "mrn": R.IDENTIFIER, "first_name": R.NAME, "last_name": R.NAME, "sex": R.QUASI,
    "date_of_birth": R.BIRTH_DATE, "age_at_index": R.AGE, "race": R.QUASI, "ethnicity": R.QUASI,
    "street_address": R.ADDRESS, "city": R.CITY, "state": R.QUASI, "zip": R.ZIP, "phone": R.PHONE, "fax": R.PHONE,
    "email": R.EMAIL, "ssn": R.IDENTIFIER, "drivers_license": R.IDENTIFIER, "vehicle_plate": R.IDENTIFIER,
    "portal_url": R.URL, "last_login_ip": R.IP, "biometric_id": R.IDENTIFIER, "photo_file": R.IDENTIFIER,
    "employer": R.ORGANIZATION, "emergency_contact_name": R.NAME, "emergency_contact_relation": R.KEEP,
    "emergency_contact_phone": R.PHONE, "smoking_status": R.KEEP, "diabetes_type": R.KEEP,
    "diabetes_diagnosis_date": R.DATE, "index_date": R.DATE,
}

DEFAULT_SCHEMA = DeidSchema(
    description="Practicum synthetic EHR exports (datasets/ehr)",
    tables={
        "patients.csv": TableSchema(_PATIENTS, required=True, quasi_identifiers=("sex", "age_at_index", "zip")),
        "insurance.csv": TableSchema({
            "patient_id": R.PATIENT_ID, "payer": R.KEEP, "health_plan_id": R.IDENTIFIER,
            "account_number": R.IDENTIFIER, "coverage_start": R.DATE,
        }),
        "encounters.csv": TableSchema({
            "encounter_id": R.PSEUDONYM, "patient_id": R.PATIENT_ID, "encounter_type": R.KEEP, "admit_date": R.DATE,
            "discharge_date": R.DATE, "department": R.KEEP, "attending": R.NAME, "reason": R.TEXT,
        }),
        "diagnoses.csv": TableSchema({
            "patient_id": R.PATIENT_ID, "encounter_id": R.PSEUDONYM, "diagnosis_date": R.DATE, "icd10_code": R.KEEP,
            "description": R.TEXT,
        }),
        "labs.csv": TableSchema({
            "patient_id": R.PATIENT_ID, "encounter_id": R.PSEUDONYM, "collected_at": R.DATE, "test": R.KEEP,
            "loinc": R.KEEP, "value": R.KEEP, "unit": R.KEEP,
        }),
        "vitals.csv": TableSchema({
            "patient_id": R.PATIENT_ID, "encounter_id": R.PSEUDONYM, "measured_at": R.DATE, "systolic_bp": R.KEEP,
            "diastolic_bp": R.KEEP, "heart_rate": R.KEEP, "weight_kg": R.KEEP, "height_cm": R.KEEP, "bmi": R.KEEP,
        }),
        "medications.csv": TableSchema({
            "patient_id": R.PATIENT_ID, "drug": R.KEEP, "dose": R.KEEP, "route": R.KEEP, "frequency": R.KEEP,
            "start_date": R.DATE, "prescriber": R.NAME,
        }),
        "devices.csv": TableSchema({
            "patient_id": R.PATIENT_ID, "device_type": R.KEEP, "model": R.KEEP, "serial_number": R.IDENTIFIER,
            "start_date": R.DATE,
        }),
        "notes.csv": TableSchema({
            "note_id": R.PSEUDONYM, "patient_id": R.PATIENT_ID, "encounter_id": R.PSEUDONYM, "note_date": R.DATE,
            "note_type": R.KEEP, "author": R.NAME, "text": R.TEXT,
        }),
        "outcomes.csv": TableSchema({
            "patient_id": R.PATIENT_ID, "index_date": R.DATE, "horizon_years": R.KEEP, "retinopathy_5y": R.KEEP,
            "retinopathy_date": R.DATE, "nephropathy_5y": R.KEEP, "nephropathy_date": R.DATE,
        }),
        "cgm.csv": TableSchema({"patient_id": R.PATIENT_ID, "timestamp": R.DATE, "glucose_mg_dl": R.KEEP}),
        "cgm_events.csv": TableSchema({
            "patient_id": R.PATIENT_ID, "timestamp": R.DATE, "event": R.KEEP, "value": R.KEEP, "unit": R.KEEP,
        }),
    },
)

__all__ = ["DEFAULT_SCHEMA", "DROPPED", "GLOBAL_SCRUB", "DeidSchema", "Role", "TableSchema"]
