"""The record of every PHI value planted in the exports, kept apart from them for verification.

Layout (JSON, ``format`` = ``practicum-ehr-phi-manifest/1``)::

    {"format": ..., "seed": 0, "size": "small", "patient_id_column": "patient_id",
     "tables": {"patients.csv": 500, ...},                       # row counts
     "global_identifiers": [{"kind": "provider_name", "value": "..."}, ...],
     "patients": [{
         "patient_id": "PT000001",
         "rows": {"labs.csv": [start, stop], ...},               # the patient's row block
         "identifiers": [{"kind": "mrn", "value": "70012345"}, ...],
         "dates": [{"table": "labs.csv", "row": 17, "column": "collected_at", "value": "..."}],
         "age": {"table": "patients.csv", "row": 0, "column": "age_at_index", "value": 93,
                 "birth_date_column": "date_of_birth"},
         "zip": {"table": "patients.csv", "row": 0, "column": "zip", "value": "02139"},
         "note_dates": ["2017-03-04", ...], "note_ages": [93]}]}

``identifiers`` carry a kind so a verifier knows how to normalise them (digits-only for
numbers such as phones and SSNs, case-insensitive whole words for names and places).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

FORMAT = "practicum-ehr-phi-manifest/1"

# Kinds compared as digit sequences (any punctuation or spaces between the digits).
DIGIT_KINDS = frozenset({
    "mrn", "phone", "fax", "ssn", "account_number", "zip5", "ip_address", "emergency_contact_phone",
})


@dataclass(frozen=True)
class PlantedValue:
    kind: str
    value: str


@dataclass(frozen=True)
class CellRef:
    table: str
    row: int
    column: str
    value: str


@dataclass(frozen=True)
class AgeRef:
    table: str
    row: int
    column: str
    value: int
    birth_date_column: str


@dataclass(frozen=True)
class PatientPHI:
    patient_id: str
    rows: dict[str, list[int]]
    identifiers: list[PlantedValue]
    dates: list[CellRef]
    age: AgeRef
    zip: CellRef
    note_dates: list[str] = field(default_factory=list)
    note_ages: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class PHIManifest:
    seed: int
    size: str
    patient_id_column: str
    tables: dict[str, int]
    global_identifiers: list[PlantedValue]
    patients: list[PatientPHI]
    format: str = FORMAT

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    def write(self, path: Path) -> None:
        """Write atomically (temporary file, then rename)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        tmp.write_text(self.to_json(), encoding="utf-8")
        os.replace(tmp, path)

    def all_values(self) -> list[PlantedValue]:
        values = list(self.global_identifiers)
        for p in self.patients:
            values.extend(p.identifiers)
        return values

    @staticmethod
    def from_dict(data: dict) -> PHIManifest:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a PHI manifest of format {FORMAT!r}: {data.get('format')!r}")
        return PHIManifest(
            seed=data["seed"],
            size=data["size"],
            patient_id_column=data["patient_id_column"],
            tables=dict(data["tables"]),
            global_identifiers=[PlantedValue(**v) for v in data["global_identifiers"]],
            patients=[
                PatientPHI(
                    patient_id=p["patient_id"],
                    rows={k: list(v) for k, v in p["rows"].items()},
                    identifiers=[PlantedValue(**v) for v in p["identifiers"]],
                    dates=[CellRef(**d) for d in p["dates"]],
                    age=AgeRef(**p["age"]),
                    zip=CellRef(**p["zip"]),
                    note_dates=list(p.get("note_dates", [])),
                    note_ages=list(p.get("note_ages", [])),
                )
                for p in data["patients"]
            ],
        )

    @staticmethod
    def read(path: Path) -> PHIManifest:
        return PHIManifest.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
