"""Fictional identities: the PHI a hospital registration system holds about each patient.

Every one of the 18 HIPAA Safe Harbor identifier kinds (45 CFR 164.514(b)(2)(i)(A)-(R))
has a column here or in the tables built from it. Values are invented and chosen so they
cannot be real or mistaken for ordinary text: names and places from fixed pools that share
no word with the clinical vocabulary, 555 telephone exchanges, SSN-like numbers in the 900
range (never issued as SSNs), MRNs starting with 7, account numbers with 4, reserved
``example`` domains and documentation IP ranges (RFC 5737).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FIRST_NAMES_F = (
    "Adaeze", "Annika", "Beatrix", "Calliope", "Dagny", "Delphine", "Esperanza", "Fionnuala", "Genoveva",
    "Henrietta", "Ingeborg", "Jessamyn", "Kalinda", "Leocadia", "Marisol", "Nadezhda", "Ottilie", "Perpetua",
    "Quintessa", "Rosalind", "Saoirse", "Thomasina", "Ursula", "Valentina", "Wilhelmina", "Ximena", "Yevgenia",
    "Zenobia", "Araceli", "Bronwyn", "Cosima", "Dorothea", "Eulalia", "Filippa", "Gwendolyn", "Hortensia",
    "Isolde", "Jacinta", "Kirsikka", "Lucasta", "Mehitabel", "Niamh", "Oriana", "Philippa", "Radegund",
    "Seraphina", "Tamsin", "Ulrika", "Violetta", "Winifred",
)
FIRST_NAMES_M = (
    "Anselm", "Bartholomew", "Casimir", "Desmond", "Eberhard", "Florian", "Gideon", "Horatio", "Ignatius",
    "Jedediah", "Konstantin", "Leopold", "Mortimer", "Nikolai", "Octavius", "Peregrine", "Quillon", "Ruairi",
    "Sebastiano", "Thaddeus", "Ulysses", "Valentin", "Wendell", "Xavier", "Yannick", "Zebulon", "Alasdair",
    "Benedikt", "Cormac", "Dmitri", "Evander", "Fitzgerald", "Gustavo", "Hamish", "Isidore", "Jonah",
    "Kazimierz", "Lysander", "Malachy", "Nathaniel", "Osvaldo", "Pascual", "Raffaele", "Stanislaw", "Torsten",
    "Uriah", "Vasilis", "Wolfgang", "Yusuf", "Zoltan",
)
LAST_NAMES = (
    "Whitcombe", "Okonkwo", "Castellanos", "Nakashima", "Lindqvist", "Abernathy", "Bjornstad", "Chakraborty",
    "Delacroix", "Eriksdottir", "Fairweather", "Gallagher", "Hollingsworth", "Ivanova", "Jablonski", "Kowalczyk",
    "Lestrange", "Montgomery", "Nightingale", "Oyelaran", "Pemberton", "Quackenbush", "Rasmussen", "Szczepanski",
    "Thistlewood", "Umberger", "Vanterpool", "Wetherby", "Xiong", "Yamamoto", "Zielinski", "Ashcombe",
    "Blackwood", "Carmichael", "Dunleavy", "Ellsworth", "Fitzwilliam", "Grimaldi", "Hargreaves", "Iwasaki",
    "Jorgensen", "Kincaid", "Lockhart", "Marchetti", "Northcott", "Ogunleye", "Pendergast", "Quintanilla",
    "Rutherford", "Sandoval", "Templeton", "Underhill", "Villanueva", "Winterbourne", "Yardley", "Zamora",
    "Achterberg", "Brannigan", "Cavendish", "Drummond", "Etheridge", "Featherstone", "Gonsalves", "Haverford",
    "Ingersoll", "Jaramillo", "Kettleborough", "Lachapelle", "Mbeki", "Nussbaum", "Oakenshield", "Papadakis",
    "Radcliffe", "Strzelecki", "Tolliver", "Uchenna", "Vukovic", "Wojciechowski", "Yelverton", "Zdanowicz",
)
PROVIDERS = (
    ("Imogen", "Vasquez-Reilly"), ("Obadiah", "Frankopan"), ("Theodora", "Mwangi"), ("Lorcan", "Achebe-Lindgren"),
    ("Priyamvada", "Sundaresan"), ("Evangelos", "Karagiannis"), ("Clementine", "Hawthorne"), ("Rafferty", "Osei"),
    ("Solveig", "Brekke"), ("Anatoly", "Vashchenko"), ("Marguerite", "Delahunty"), ("Ikechukwu", "Nwachukwu"),
    ("Ottoline", "Pryce-Jones"), ("Florentino", "Arizmendi"), ("Hyacinth", "Boateng"), ("Leofric", "Ashdown"),
)
EMPLOYERS = (
    "Halvorsen Tool and Die", "Brightwater Logistics", "Quarrymoor Dairy Cooperative", "Tannhauser Optics",
    "Kestrel Valley Schools", "Fernhollow Paper Mill", "Ironbridge Freight Lines", "Marrowick County Transit",
    "Bellweather Insurance Group", "Copperleaf Bakery", "Stonyridge Veterinary Clinic", "Glimmerglass Marina",
)
STREET_NAMES = (
    "Larkspur", "Wexford", "Cobblestone", "Thornbury", "Juniper Hollow", "Ravenscroft", "Marigold", "Foxglove",
    "Kingfisher", "Bramblewood", "Harrowgate", "Quillfeather", "Ashgrove", "Silverbirch", "Windermere",
    "Hazelnut", "Tamarack", "Mistletoe", "Pinecrest", "Saddleback",
)
STREET_SUFFIXES = ("Street", "Avenue", "Lane", "Road", "Drive", "Court", "Terrace", "Way")

# (three-digit ZIP prefix, state, fictional cities in it, weight). The prefixes are real; the
# weights put most patients in a few populous areas, and a handful in prefixes that HHS lists
# as 20,000 people or fewer (which de-identification must turn into "000").
PLACES = (
    ("021", "MA", ("Brackenridge", "Marlow Falls", "East Tannery"), 30),
    ("024", "MA", ("Quillfield", "Ambersham"), 18),
    ("019", "MA", ("Hollowmere", "Westerhaven"), 14),
    ("030", "NH", ("Cragsmoor", "Ellingtonville"), 10),
    ("036", "NH", ("Pittsbrook Notch",), 3),
    ("059", "VT", ("Lowmeadow Gap",), 2),
    ("063", "CT", ("Saltmarsh Landing",), 2),
    ("102", "NY", ("Tallowgate Plaza",), 1),
    ("104", "NY", ("Ravenholt",), 6),
    ("821", "WY", ("Dustwillow",), 1),
    ("893", "NV", ("Sagebrush Wells",), 1),
)
PAYERS = ("Harborline Health Plan", "Northstar Mutual", "Medicare Part B", "State Medicaid Program", "Evergreen PPO")
AREA_CODES = ("617", "781", "508", "978", "603", "802", "860", "914", "307", "775")
RACES = ("White", "Black or African American", "Asian", "American Indian or Alaska Native", "Other")
RACE_WEIGHTS = (0.68, 0.14, 0.08, 0.02, 0.08)


@dataclass(frozen=True)
class Identity:
    """The direct identifiers of one patient (Safe Harbor kinds in the comments)."""

    patient_id: str  # (R) internal id
    mrn: str  # (H) medical record number
    first_name: str  # (A)
    last_name: str  # (A)
    sex: str
    race: str
    ethnicity: str
    street_address: str  # (B)
    city: str  # (B)
    state: str
    zip5: str  # (B)
    phone: str  # (D)
    fax: str  # (E) may be empty
    email: str  # (F)
    ssn: str  # (G) SSN-like, 9xx area
    health_plan_id: str  # (I)
    account_number: str  # (J)
    drivers_license: str  # (K)
    vehicle_plate: str  # (L)
    portal_url: str  # (N)
    last_login_ip: str  # (O)
    biometric_id: str  # (P) fingerprint template id
    photo_file: str  # (Q) reference to a full-face photograph
    employer: str  # (A) names of employers
    payer: str
    emergency_contact_name: str  # (A) relative
    emergency_contact_relation: str
    emergency_contact_phone: str  # (D)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def _digits(rng: np.random.Generator, n: int) -> str:
    return "".join(str(d) for d in rng.integers(0, 10, n))


def _letters(rng: np.random.Generator, n: int) -> str:
    return "".join(chr(ord("A") + int(c)) for c in rng.integers(0, 26, n))


def _phone(rng: np.random.Generator) -> str:
    return f"({rng.choice(AREA_CODES)}) 555-{_digits(rng, 4)}"


def _unique_numbers(rng: np.random.Generator, n: int, low: int, high: int) -> list[int]:
    seen: set[int] = set()
    values: list[int] = []
    while len(values) < n:
        for v in rng.integers(low, high, n):
            if int(v) not in seen:
                seen.add(int(v))
                values.append(int(v))
    return values[:n]


def make_identities(rng: np.random.Generator, sexes: list[str]) -> list[Identity]:
    """One identity per patient, ``sexes`` holding 'F' or 'M' (from the clinical cohort)."""
    n = len(sexes)
    mrns = _unique_numbers(rng, n, 70_000_000, 80_000_000)
    ssns = _unique_numbers(rng, n, 900_000_000, 1_000_000_000)
    accounts = _unique_numbers(rng, n, 4_000_000_000, 5_000_000_000)
    weights = np.array([p[3] for p in PLACES], dtype=float)
    people: list[Identity] = []
    for i, sex in enumerate(sexes):
        first = str(rng.choice(FIRST_NAMES_F if sex == "F" else FIRST_NAMES_M))
        last = str(rng.choice(LAST_NAMES))
        prefix, state, cities, _ = PLACES[int(rng.choice(len(PLACES), p=weights / weights.sum()))]
        city = str(rng.choice(cities))
        street = f"{int(rng.integers(2, 9900))} {rng.choice(STREET_NAMES)} {rng.choice(STREET_SUFFIXES)}"
        ssn = f"{ssns[i] // 1_000_000:03d}-{(ssns[i] // 10_000) % 100:02d}-{ssns[i] % 10_000:04d}"
        relation = str(rng.choice(["spouse", "daughter", "son", "sister", "brother", "partner"]))
        contact_sex = {"daughter": "F", "sister": "F", "son": "M", "brother": "M"}.get(
            relation, "M" if sex == "F" else "F"
        )
        contact_first = str(rng.choice(FIRST_NAMES_F if contact_sex == "F" else FIRST_NAMES_M))
        contact_last = last if relation != "partner" else str(rng.choice(LAST_NAMES))
        handle = f"{first.lower()}.{last.lower()}{int(rng.integers(1, 99))}"
        people.append(
            Identity(
                patient_id=f"PT{i + 1:06d}",
                mrn=f"{mrns[i]:08d}",
                first_name=first,
                last_name=last,
                sex=sex,
                race=str(rng.choice(RACES, p=RACE_WEIGHTS)),
                ethnicity="Hispanic or Latino" if rng.random() < 0.12 else "Not Hispanic or Latino",
                street_address=street,
                city=city,
                state=state,
                zip5=f"{prefix}{int(rng.integers(0, 100)):02d}",
                phone=_phone(rng),
                fax=_phone(rng) if rng.random() < 0.25 else "",
                email=f"{handle}@{rng.choice(['example.com', 'example.net', 'example.org'])}",
                ssn=ssn,
                health_plan_id=f"{_letters(rng, 3)}{_digits(rng, 9)}",
                account_number=f"{accounts[i]:010d}",
                drivers_license=f"S{_digits(rng, 8)}",
                vehicle_plate=f"{_digits(rng, 1)}{_letters(rng, 3)}{_digits(rng, 3)}",
                portal_url=f"https://mychart.example.org/patient/{_letters(rng, 4).lower()}{_digits(rng, 6)}",
                last_login_ip=f"{rng.choice(['192.0.2', '198.51.100', '203.0.113'])}.{int(rng.integers(1, 255))}",
                biometric_id=f"FPT-{_letters(rng, 2)}{_digits(rng, 8)}",
                photo_file=f"photos/{first.lower()}_{last.lower()}_{_digits(rng, 4)}.jpg",
                employer=str(rng.choice(EMPLOYERS)) if rng.random() < 0.7 else "",
                payer=str(rng.choice(PAYERS)),
                emergency_contact_name=f"{contact_first} {contact_last}",
                emergency_contact_relation=relation,
                emergency_contact_phone=_phone(rng),
            )
        )
    return people
