"""Build the synthetic hospital exports: EHR tables, notes, CGM traces, and the PHI manifest.

Output (``out_dir``)::

    raw/ehr/patients.csv insurance.csv encounters.csv diagnoses.csv labs.csv vitals.csv
            medications.csv devices.csv notes.csv outcomes.csv cgm.csv cgm_events.csv
    raw/ehr_phi_manifest.json      every planted PHI value (kept apart; for verification)

Deterministic from ``seed``: independent random streams feed the cohort, identities, CGM,
outcomes and records, so changing one part does not reshuffle the others. The export is
written to a temporary folder and renamed into place; an earlier export is replaced only
once the new one is complete.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..atomic_folders import publish_folder
from ..cgm.export import CGM_COLUMNS, EVENT_COLUMNS, SENSOR_MODEL, cgm_tables
from ..cgm.forecast import persistence_rmse
from ..cgm.simulate import simulate_cohort
from .cohort import FOLLOW_UP_YEARS, Cohort, glucose_management_indicator, sample_cohort
from .identities import PROVIDERS, Identity, make_identities
from .manifest import AgeRef, CellRef, PatientPHI, PHIManifest, PlantedValue
from .notes import NoteFacts
from .outcomes import Outcomes, draw_outcomes
from .population import population_figures
from .records import TABLE_COLUMNS, Counters, DeviceInfo, patient_records, to_date


@dataclass(frozen=True)
class BuildSize:
    n_patients: int
    n_cgm_patients: int
    cgm_days: int


SIZES: dict[str, BuildSize] = {
    "small": BuildSize(n_patients=1500, n_cgm_patients=48, cgm_days=14),
    "full": BuildSize(n_patients=5000, n_cgm_patients=240, cgm_days=28),
}

RAW_SUBDIR = Path("raw") / "ehr"
MANIFEST_NAME = Path("raw") / "ehr_phi_manifest.json"

DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "patients.csv": ("date_of_birth", "diabetes_diagnosis_date", "index_date"),
    "insurance.csv": ("coverage_start",),
    "encounters.csv": ("admit_date", "discharge_date"),
    "diagnoses.csv": ("diagnosis_date",),
    "labs.csv": ("collected_at",),
    "vitals.csv": ("measured_at",),
    "medications.csv": ("start_date",),
    "devices.csv": ("start_date",),
    "notes.csv": ("note_date",),
    "outcomes.csv": ("index_date", "retinopathy_date", "nephropathy_date"),
    "cgm.csv": ("timestamp",),
    "cgm_events.csv": ("timestamp",),
}
IDENTITY_KINDS = {
    "patient_id": "patient_id", "mrn": "mrn", "first_name": "first_name", "last_name": "last_name",
    "street_address": "street_address", "city": "city", "zip5": "zip5", "phone": "phone", "fax": "fax",
    "email": "email", "ssn": "ssn", "health_plan_id": "health_plan_id", "account_number": "account_number",
    "drivers_license": "drivers_license", "vehicle_plate": "vehicle_plate", "portal_url": "url",
    "last_login_ip": "ip_address", "biometric_id": "biometric_id", "photo_file": "photo_file",
    "employer": "employer", "emergency_contact_name": "relative_name",
    "emergency_contact_phone": "emergency_contact_phone",
}
DATE_REFS_PER_TABLE = 4


@dataclass(frozen=True)
class EHRBuildReport:
    out_dir: str
    raw_dir: str
    manifest: str
    size: str
    seed: int
    n_patients: int
    n_cgm_patients: int
    cgm_days: int
    rows: dict[str, int]
    bytes_written: int
    seconds: float
    persistence_rmse_30min: float
    cgm_missing_fraction: float
    retinopathy_5y_prevalence: float
    nephropathy_5y_prevalence: float
    # The cohort's complication figures beside the published ones (rows of population.PopulationFigure).
    population: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def _resolve_size(size: str | BuildSize) -> tuple[str, BuildSize]:
    if isinstance(size, BuildSize):
        return "custom", size
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; choose one of {sorted(SIZES)}")
    return size, SIZES[size]


def _row_blocks(df: pd.DataFrame) -> dict[str, list[int]]:
    ids = df["patient_id"].to_numpy()
    if ids.size == 0:
        return {}
    change = np.flatnonzero(ids[1:] != ids[:-1]) + 1
    starts = np.r_[0, change]
    stops = np.r_[change, ids.size]
    return {str(ids[s]): [int(s), int(e)] for s, e in zip(starts, stops, strict=True)}


def _date_refs(rng: np.random.Generator, tables: dict[str, pd.DataFrame], blocks: dict[str, dict[str, list[int]]],
               pid: str) -> list[CellRef]:
    refs: list[CellRef] = []
    for table, columns in DATE_COLUMNS.items():
        block = blocks[table].get(pid)
        if block is None:
            continue
        df = tables[table]
        start, stop = block
        picks = sorted({start, stop - 1, *rng.integers(start, stop, DATE_REFS_PER_TABLE - 2).tolist()})
        for column in columns:
            col = df[column]
            for r in picks:
                value = col.iat[r]
                if isinstance(value, str) and value:
                    refs.append(CellRef(table, int(r), column, value))
    return refs


def _write_tables(tables: dict[str, pd.DataFrame], folder: Path, progress: bool) -> int:
    total = 0
    for name, df in tqdm(tables.items(), desc="write tables", disable=not progress, leave=False):
        path = folder / name
        df.to_csv(path, index=False, lineterminator="\n")
        total += path.stat().st_size
    return total


@dataclass(frozen=True)
class _CGMPart:
    cohort: Cohort  # with HbA1c of the CGM patients set from their simulated mean glucose
    n_patients: int
    readings: pd.DataFrame
    events: pd.DataFrame
    devices: dict[int, tuple[DeviceInfo, ...]]  # cohort index -> sensors
    basal_rates: dict[int, float]  # cohort index -> U/h
    persistence_rmse_30min: float
    missing_fraction: float


def _cgm_part(
    rng: np.random.Generator,
    rng_export: np.random.Generator,
    cohort: Cohort,
    identities: list[Identity],
    index_dates: list[dt.date],
    spec: BuildSize,
    progress: bool,
) -> _CGMPart:
    """CGM for a subset of adult type-1 patients, over a stretch in the year before their index date."""
    candidates = np.flatnonzero((cohort.diabetes_type == 1) & (cohort.age_at_index < 80))
    n = min(spec.n_cgm_patients, candidates.size)
    if n == 0:
        empty = _CGMPart(cohort, 0, pd.DataFrame(columns=list(CGM_COLUMNS)), pd.DataFrame(columns=list(EVENT_COLUMNS)),
                         {}, {}, float("nan"), float("nan"))
        return empty
    chosen = np.sort(rng.choice(candidates, n, replace=False))
    control = (cohort.hba1c[chosen] - 8.0) / 1.2
    sim = simulate_cohort(rng, cohort.weight_kg[chosen], spec.cgm_days, control=control, progress=progress)
    hba1c = cohort.hba1c.copy()
    hba1c[chosen] = glucose_management_indicator(sim.mean_glucose()) + rng.normal(0.0, 0.25, n)
    starts = [index_dates[i] - dt.timedelta(days=int(rng.integers(30, 330))) for i in chosen]
    exported = cgm_tables(sim, [identities[i].patient_id for i in chosen], starts, rng_export)
    sensors: dict[str, list[DeviceInfo]] = {}
    for s in exported.sensors:
        sensors.setdefault(s.patient_id, []).append(DeviceInfo("CGM sensor", SENSOR_MODEL, s.serial, s.start))
    rates = sim.basal_units_per_hour()
    return _CGMPart(
        cohort=cohort.with_values(hba1c=hba1c),
        n_patients=n,
        readings=exported.readings,
        events=exported.events,
        devices={int(i): tuple(sensors[identities[i].patient_id]) for i in chosen},
        basal_rates={int(i): float(rates[k]) for k, i in enumerate(chosen)},
        persistence_rmse_30min=persistence_rmse(sim.readings, 30),
        missing_fraction=float(np.isnan(sim.readings).mean()),
    )


def _outcome_row(patient_id: str, index_date: dt.date, outcomes: Outcomes, i: int) -> dict[str, object]:
    def label(v: int) -> str:
        return "" if v < 0 else str(int(v))

    def when(d: np.datetime64) -> str:
        return "" if np.isnat(d) else str(d)

    return {
        "patient_id": patient_id, "index_date": index_date.isoformat(), "horizon_years": FOLLOW_UP_YEARS,
        "retinopathy_5y": label(outcomes.retinopathy[i]), "retinopathy_date": when(outcomes.retinopathy_date[i]),
        "nephropathy_5y": label(outcomes.nephropathy[i]), "nephropathy_date": when(outcomes.nephropathy_date[i]),
    }


def build_ehr_exports(
    out_dir: Path, size: str | BuildSize = "small", seed: int = 0, progress: bool = True
) -> EHRBuildReport:
    """Generate the raw exports under ``out_dir/raw/ehr`` and the manifest beside them."""
    started = time.monotonic()
    size_name, spec = _resolve_size(size)
    out_dir = Path(out_dir)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(7)]
    rng_cohort, rng_ident, rng_cgm, rng_outcome, rng_records, rng_export, rng_manifest = streams

    cohort = sample_cohort(rng_cohort, spec.n_patients)
    identities = make_identities(rng_ident, [str(s) for s in cohort.sex])
    index_dates = [to_date(d) for d in cohort.index_date]

    cgm = _cgm_part(rng_cgm, rng_export, cohort, identities, index_dates, spec, progress)
    cohort = cgm.cohort
    outcomes = draw_outcomes(rng_outcome, cohort)

    rows: dict[str, list[dict]] = {name: [] for name in TABLE_COLUMNS}
    facts: dict[str, NoteFacts] = {}
    counters = Counters()
    for i in tqdm(range(spec.n_patients), desc="EHR records", unit="patient", disable=not progress, leave=False):
        rec = patient_records(rng_records, cohort, i, identities[i], counters, cgm.devices.get(i, ()),
                              cgm.basal_rates.get(i))
        for table, table_rows in rec.tables.items():
            rows[table].extend(table_rows)
        facts[identities[i].patient_id] = rec.facts
        rows["outcomes.csv"].append(_outcome_row(identities[i].patient_id, index_dates[i], outcomes, i))

    tables: dict[str, pd.DataFrame] = {
        name: pd.DataFrame(table_rows, columns=list(TABLE_COLUMNS[name])) for name, table_rows in rows.items()
    }
    tables["cgm.csv"] = cgm.readings
    tables["cgm_events.csv"] = cgm.events

    out_dir.mkdir(parents=True, exist_ok=True)
    raw_parent = out_dir / RAW_SUBDIR.parent
    raw_parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".ehr.tmp-", dir=raw_parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)
    try:
        written = _write_tables(tables, tmp, progress)
        manifest = _manifest(rng_manifest, tables, identities, facts, seed, size_name)
        publish_folder(tmp, out_dir / RAW_SUBDIR)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    manifest.write(out_dir / MANIFEST_NAME)

    at_risk_r = outcomes.retinopathy >= 0
    at_risk_n = outcomes.nephropathy >= 0
    return EHRBuildReport(
        out_dir=str(out_dir),
        raw_dir=str(out_dir / RAW_SUBDIR),
        manifest=str(out_dir / MANIFEST_NAME),
        size=size_name,
        seed=seed,
        n_patients=spec.n_patients,
        n_cgm_patients=cgm.n_patients,
        cgm_days=spec.cgm_days,
        rows={name: len(df) for name, df in tables.items()},
        bytes_written=written,
        seconds=round(time.monotonic() - started, 2),
        persistence_rmse_30min=round(cgm.persistence_rmse_30min, 2),
        cgm_missing_fraction=round(cgm.missing_fraction, 4),
        retinopathy_5y_prevalence=round(float(outcomes.retinopathy[at_risk_r].mean()), 4),
        nephropathy_5y_prevalence=round(float(outcomes.nephropathy[at_risk_n].mean()), 4),
        population=[figure.to_json() for figure in population_figures(cohort, outcomes)],
    )


def _manifest(
    rng: np.random.Generator,
    tables: dict[str, pd.DataFrame],
    identities: list[Identity],
    facts: dict[str, NoteFacts],
    seed: int,
    size_name: str,
) -> PHIManifest:
    """Every planted value, with the rows and cells that hold each patient's dates, age and ZIP."""
    blocks = {name: _row_blocks(df) for name, df in tables.items()}
    enc = tables["encounters.csv"]
    notes = tables["notes.csv"]
    devices = tables["devices.csv"]
    patients: list[PatientPHI] = []
    for ident in identities:
        pid = ident.patient_id
        values = [PlantedValue(kind, str(getattr(ident, attr))) for attr, kind in IDENTITY_KINDS.items()]
        values.append(PlantedValue("full_name", ident.full_name))
        values = [v for v in values if v.value]
        for table, column, kind in (
            ("encounters.csv", "encounter_id", "encounter_id"),
            ("notes.csv", "note_id", "note_id"),
            ("devices.csv", "serial_number", "device_serial"),
        ):
            block = blocks[table].get(pid)
            if block:
                frame = {"encounters.csv": enc, "notes.csv": notes, "devices.csv": devices}[table]
                values += [PlantedValue(kind, str(v)) for v in frame[column].iloc[block[0]:block[1]]]
        patient_row = blocks["patients.csv"][pid][0]
        patients.append(PatientPHI(
            patient_id=pid,
            rows=blocks_for(blocks, pid),
            identifiers=values,
            dates=_date_refs(rng, tables, blocks, pid),
            age=AgeRef("patients.csv", patient_row, "age_at_index",
                       int(tables["patients.csv"]["age_at_index"].iat[patient_row]), "date_of_birth"),
            zip=CellRef("patients.csv", patient_row, "zip", ident.zip5),
            note_dates=sorted(d.isoformat() for d in facts[pid].dates),
            note_ages=sorted(facts[pid].ages),
        ))
    providers = []
    for first, last in PROVIDERS:
        providers += [PlantedValue("provider_name", f"{first} {last}"), PlantedValue("provider_name", last)]
    return PHIManifest(
        seed=seed,
        size=size_name,
        patient_id_column="patient_id",
        tables={name: len(df) for name, df in tables.items()},
        global_identifiers=providers,
        patients=patients,
    )


def blocks_for(blocks: dict[str, dict[str, list[int]]], pid: str) -> dict[str, list[int]]:
    return {table: b[pid] for table, b in blocks.items() if pid in b}
