"""The cohort of a build: patients, their studies and each study's series, fixed by a seed.

Some patients come back for a follow-up study (a second study months later, the kind of
longitudinal pair whose date intervals de-identification must keep consistent); some
studies are reconstructed twice (a lung and a soft-tissue kernel of one acquisition:
same anatomy, same findings, same frame of reference, linked by Related Series).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from pydicom.uid import PYDICOM_ROOT_UID, generate_uid

from .phantom import DEFAULT_DIFFICULTY, RECONS, CaseSpec, Difficulty
from .phi import Patient, Staff, make_patient, make_staff, study_date
from .sizes import BuildSize, sample_geometry


@dataclass(frozen=True)
class SeriesPlan:
    case: CaseSpec
    series_number: int
    series_uid: str
    irradiation_event_uid: str

    @property
    def kernel(self) -> str:
        return self.case.recon.kernel


@dataclass(frozen=True)
class StudyPlan:
    patient: Patient
    staff: Staff
    date: dt.date
    time: str
    study_uid: str
    frame_of_reference_uid: str
    pps_uid: str
    study_component_uid: str
    accession: str
    study_id: str
    admission_id: str
    requested_procedure_id: str
    series: tuple[SeriesPlan, ...]
    practice: bool = False  # a patient of the annotation practice split (drawn after the cohort)


def make_uid(seed: int, *parts: object) -> str:
    """A deterministic UID under pydicom's root, derived from the build seed and ``parts``."""
    return generate_uid(prefix=PYDICOM_ROOT_UID, entropy_srcs=["practicum-ct", str(seed), *map(str, parts)])


def plan_build(size: BuildSize, seed: int, difficulty: Difficulty = DEFAULT_DIFFICULTY) -> list[StudyPlan]:
    """All studies of a build, in a stable order (deterministic in ``seed``); the practice patients come last,
    so the cohort's own patients are the same with or without them."""
    rng = np.random.default_rng([seed, 20240611])
    studies: list[StudyPlan] = []
    for p in range(size.n_patients + size.practice_patients):
        patient = make_patient(rng, p)
        n_studies = 2 if rng.random() < size.second_study_share else 1
        previous: dt.date | None = None
        for s in range(n_studies):
            sid = f"{patient.key}-S{s + 1}"
            date = study_date(rng, after=previous)
            previous = date
            geom = sample_geometry(rng, size)
            intercept = float(rng.choice([-1024.0, 0.0]))
            case_seed = int(rng.integers(0, 2**31 - 1))
            recons = ["STANDARD"]
            if rng.random() < size.second_recon_share:
                recons = ["LUNG", "SOFT"]
            elif rng.random() < 0.35:
                recons = ["LUNG"]
            series = tuple(
                SeriesPlan(
                    case=CaseSpec(
                        case_id=f"{sid}-{k + 1}",
                        seed=case_seed,
                        geometry=geom,
                        recon=RECONS[kernel],
                        rescale_intercept=intercept,
                        difficulty=difficulty,
                    ),
                    series_number=k + 2,
                    series_uid=make_uid(seed, sid, "series", k),
                    irradiation_event_uid=make_uid(seed, sid, "irradiation", 0),
                )
                for k, kernel in enumerate(recons)
            )
            studies.append(
                StudyPlan(
                    patient=patient,
                    staff=make_staff(rng),
                    date=date,
                    time=f"{int(rng.integers(7, 19)):02d}{int(rng.integers(0, 60)):02d}{int(rng.integers(0, 60)):02d}",
                    study_uid=make_uid(seed, sid, "study"),
                    frame_of_reference_uid=make_uid(seed, sid, "for"),
                    pps_uid=make_uid(seed, sid, "pps"),
                    study_component_uid=make_uid(seed, sid, "component"),
                    accession=f"A{date:%y}{int(rng.integers(100000, 999999))}",
                    study_id=f"{int(rng.integers(10000, 99999))}",
                    admission_id=f"ADM-{int(rng.integers(1000000, 9999999))}",
                    requested_procedure_id=f"RP{int(rng.integers(100000, 999999))}",
                    series=series,
                    practice=p >= size.n_patients,
                )
            )
    return studies
