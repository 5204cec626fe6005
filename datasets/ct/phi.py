"""Made-up but realistic identities: the protected health information planted in the exports.

Every value is invented (names drawn from common-name lists, numbers at random); none
belongs to a real person or institution. Some names carry accents so that character-set
handling (ISO_IR 100 Latin-1, ISO_IR 192 UTF-8) is part of what de-identification must
get right. Dates of all studies fall inside one year (:data:`STUDY_WINDOW`), which keeps
them apart from any date a de-identifier shifts back by a year or more.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import asdict, dataclass

import numpy as np

FAMILY = (
    "Kowalczyk", "Hartmann", "Okafor", "Lindqvist", "Moreau", "Castellano", "Brennan", "Nakamura",
    "Van der Berg", "Oyelaran", "Fitzgerald", "Petrović", "Haddad", "Sørensen", "Müller", "Gómez",
    "Abernathy", "Delacroix", "Whitfield", "Zielinski", "Achterberg", "Quintero", "Rasmussen",
    "Thornbury", "Björklund", "Marchetti", "Olawale", "Pemberton", "Vasquez", "Eriksdóttir",
    "Lefebvre", "Kirkpatrick", "Dvořák", "Mbeki", "Halvorsen", "Castaño", "Winterbottom", "Ishikawa",
)
GIVEN = (
    "Marta", "Jürgen", "Chinedu", "Astrid", "Élodie", "Rafael", "Siobhan", "Haruto", "Pieter", "Adaeze",
    "Declan", "Milena", "Karim", "Søren", "Greta", "Inés", "Theodore", "Amélie", "Harriet", "Bartosz",
    "Wilhelmina", "Joaquín", "Mette", "Cuthbert", "Linnea", "Giulia", "Babajide", "Eleanor", "Mateo",
    "Sigrún", "Honoré", "Fergus", "Zdeněk", "Thandiwe", "Ingvild", "Aurelio", "Mildred", "Sakura",
)
INSTITUTIONS = (
    ("St. Aldric General Hospital", "41 Cathedral Row, Marlow Heath MH3 9QT", "ALDRIC PACS"),
    ("Northgate University Medical Centre", "1200 Northgate Parkway, Port Elwin 60714", "NUMC-RIS"),
    ("Riverbend Community Clinic", "7 Tanner's Lane, Riverbend 4471", "RBCC IMAGING"),
    ("Hospital Santa Lucía del Valle", "Calle Mayor 88, 28013 Valdeluz", "HSLV-PACS"),
)
STREETS = ("Maple Street", "Harbour Road", "Linden Allee", "Rue des Acacias", "Birch Close", "Old Mill Lane", "Kestrel Way")
TOWNS = ("Springfield", "Kingsport", "Ashdown", "Valdeluz", "Marlow Heath", "Port Elwin", "Nordby")
OCCUPATIONS = ("Shipyard welder", "Teacher", "Retired miner", "Baker", "Bus driver", "Nurse")  # SH: 16 chars at most

STUDY_WINDOW = (dt.date(2021, 2, 1), dt.date(2022, 1, 31))


@dataclass(frozen=True)
class Person:
    """A person's name in DICOM PN form (Family^Given^Middle^Prefix)."""

    family: str
    given: str
    middle: str = ""
    prefix: str = ""

    @property
    def pn(self) -> str:
        parts = [self.family, self.given, self.middle, self.prefix]
        while parts and not parts[-1]:
            parts.pop()
        return "^".join(parts)

    @property
    def plain(self) -> str:
        return " ".join(p for p in (self.prefix, self.given, self.middle, self.family) if p)

    @property
    def ascii_folder(self) -> str:
        return _ascii(f"{self.family}_{self.given}").upper().replace(" ", "")


@dataclass(frozen=True)
class Patient:
    """One patient's identity as a hospital system would hold it."""

    key: str
    name: Person
    mrn: str
    issuer: str
    national_id: str
    other_name: Person
    mother_birth_name: Person
    birth_date: dt.date
    birth_time: str
    sex: str
    size_m: float
    weight_kg: float
    address: str
    phone: str
    occupation: str
    relative: Person
    charset: str

    def to_json(self) -> dict:
        d = asdict(self)
        d["birth_date"] = self.birth_date.isoformat()
        return d


@dataclass(frozen=True)
class Staff:
    """The people and places around one study."""

    institution: str
    institution_address: str
    pacs_name: str
    department: str
    referring: Person
    referring_id: str
    referring_phone: str
    performing: Person
    reading: Person
    operator: Person
    requesting: Person
    station: str
    device_serial: str


def _ascii(s: str) -> str:
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode("ascii")


def _needs(s: str) -> str:
    """The Specific Character Set a text needs: none for ASCII, Latin-1 when it fits, else UTF-8."""
    try:
        s.encode("ascii")
        return ""
    except UnicodeEncodeError:
        pass
    try:
        s.encode("latin-1")
        return "ISO_IR 100"
    except UnicodeEncodeError:
        return "ISO_IR 192"


def _person(rng: np.random.Generator, prefix: str = "") -> Person:
    middle = str(rng.choice(GIVEN))[0] if rng.random() < 0.3 else ""
    return Person(family=str(rng.choice(FAMILY)), given=str(rng.choice(GIVEN)), middle=middle, prefix=prefix)


def _digits(rng: np.random.Generator, n: int) -> str:
    return "".join(str(int(d)) for d in rng.integers(0, 10, size=n))


def make_patient(rng: np.random.Generator, index: int) -> Patient:
    name = _person(rng)
    birth = dt.date(1938, 1, 1) + dt.timedelta(days=int(rng.integers(0, 365 * 47)))
    charset = _needs(name.pn + name.plain)
    mother = Person(str(rng.choice(FAMILY)), str(rng.choice(GIVEN)))
    relative = Person(name.family, str(rng.choice(GIVEN)))
    if charset != "ISO_IR 192":
        # Keep every text of a Latin-1 patient encodable in Latin-1.
        for p in (mother, relative):
            if _needs(p.pn) == "ISO_IR 192":
                mother = Person(_ascii(mother.family), _ascii(mother.given))
                relative = Person(name.family, _ascii(relative.given))
    sex = str(rng.choice(["M", "F"]))
    return Patient(
        key=f"P{index:03d}",
        name=name,
        mrn=_digits(rng, 8),
        issuer=str(rng.choice(INSTITUTIONS)[2]) + " MRN",
        national_id=f"NID-{_digits(rng, 4)}-{_digits(rng, 4)}-{_digits(rng, 2)}",
        other_name=Person(name.family, name.given[:1] + ".", ""),
        mother_birth_name=mother,
        birth_date=birth,
        birth_time=f"{int(rng.integers(0, 24)):02d}{int(rng.integers(0, 60)):02d}00",
        sex=sex,
        size_m=round(float(rng.uniform(1.52, 1.95)), 2),
        weight_kg=round(float(rng.uniform(48.0, 118.0)), 1),
        address=f"{int(rng.integers(1, 400))} {rng.choice(STREETS)}, {rng.choice(TOWNS)} {_digits(rng, 5)}",
        phone=f"+1 555 {_digits(rng, 3)} {_digits(rng, 4)}",
        occupation=str(rng.choice(OCCUPATIONS)),
        relative=relative,
        charset=charset,
    )


def make_staff(rng: np.random.Generator) -> Staff:
    inst, addr, pacs = INSTITUTIONS[int(rng.integers(len(INSTITUTIONS)))]
    def doc() -> Person:
        p = _person(rng, prefix="Dr.")
        return Person(_ascii(p.family), _ascii(p.given), p.middle, "Dr.")
    return Staff(
        institution=inst,
        institution_address=addr,
        pacs_name=pacs,
        department=str(rng.choice(["Radiology - Thoracic Imaging", "Diagnostic Imaging", "Pulmonology Outpatients"])),
        referring=doc(),
        referring_id=f"PHY{_digits(rng, 6)}",
        referring_phone=f"+1 555 {_digits(rng, 3)} {_digits(rng, 4)}",
        performing=doc(),
        reading=doc(),
        operator=Person(_ascii(str(rng.choice(FAMILY))), _ascii(str(rng.choice(GIVEN)))),
        requesting=doc(),
        station=f"CT{_digits(rng, 2)}{str(rng.choice(['AWP', 'SCAN', 'RAD']))}{_digits(rng, 3)}",
        device_serial=f"SN{_digits(rng, 7)}",
    )


def study_date(rng: np.random.Generator, after: dt.date | None = None) -> dt.date:
    """A study date in :data:`STUDY_WINDOW` (after ``after`` when given, for follow-ups)."""
    lo, hi = STUDY_WINDOW
    if after is not None:
        lo = min(after + dt.timedelta(days=60), hi)
    return lo + dt.timedelta(days=int(rng.integers(0, (hi - lo).days + 1)))


def age_string(birth: dt.date, on: dt.date) -> str:
    years = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    return f"{years:03d}Y"
