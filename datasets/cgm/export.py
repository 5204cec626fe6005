"""Turn a simulated cohort into the device-export tables: readings, logbook events, sensors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .sensor import SAMPLE_MIN, SENSOR_DAYS
from .simulate import CGMSimulation

CGM_COLUMNS = ("patient_id", "timestamp", "glucose_mg_dl")
EVENT_COLUMNS = ("patient_id", "timestamp", "event", "value", "unit")
SENSOR_MODEL = "Continua G-Sensor"


@dataclass(frozen=True)
class SensorSession:
    patient_id: str
    serial: str
    start: dt.date


@dataclass(frozen=True)
class CGMTables:
    readings: pd.DataFrame
    events: pd.DataFrame
    sensors: tuple[SensorSession, ...]


def _stamps(start: np.datetime64, minutes: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(start + minutes.astype("timedelta64[m]"), unit="s")


def cgm_tables(
    sim: CGMSimulation, patient_ids: list[str], start_dates: list[dt.date], rng: np.random.Generator
) -> CGMTables:
    """One block of rows per patient, in the order given, with wall-clock timestamps."""
    n_samples = sim.readings.shape[0]
    sample_minutes = (np.arange(n_samples) + 1) * SAMPLE_MIN
    basal = sim.basal_units_per_hour()
    reading_blocks, event_blocks, sensors = [], [], []
    for j, (pid, start) in enumerate(zip(patient_ids, start_dates, strict=True)):
        phase_s = int(rng.integers(0, SAMPLE_MIN * 60))
        origin = np.datetime64(start.isoformat(), "s") + np.timedelta64(phase_s, "s")
        values = np.round(sim.readings[:, j])
        reading_blocks.append(pd.DataFrame({
            "patient_id": pid,
            "timestamp": np.datetime_as_string(origin + (sample_minutes * 60).astype("timedelta64[s]"), unit="s"),
            "glucose_mg_dl": pd.array(np.where(np.isnan(values), 0, values).astype(int), dtype="Int64"),
        }))
        reading_blocks[-1].loc[np.isnan(values), "glucose_mg_dl"] = pd.NA
        rows = [(0, "basal_rate", round(float(basal[j]), 2), "U/h")]
        rows += [(d * 1440, "basal_rate", round(float(basal[j]), 2), "U/h") for d in range(1, sim.days)]
        rows += [(e.minute, e.kind, e.value, e.unit) for e in sim.events if e.patient == j]
        rows.sort(key=lambda r: r[0])
        minutes = np.array([r[0] for r in rows], dtype=np.int64)
        event_blocks.append(pd.DataFrame({
            "patient_id": pid,
            "timestamp": np.char.replace(_stamps(np.datetime64(start.isoformat(), "s"), minutes), "T", " "),
            "event": [r[1] for r in rows],
            "value": [f"{r[2]:g}" for r in rows],
            "unit": [r[3] for r in rows],
        }))
        for s in range(int(np.ceil(sim.days / SENSOR_DAYS))):
            serial = "".join(str(rng.choice(list("ABCDEFGHJKLMNPQRSTUVWXYZ23456789"))) for _ in range(10))
            sensors.append(SensorSession(pid, f"SN{serial}", start + dt.timedelta(days=s * SENSOR_DAYS)))
    readings = pd.concat(reading_blocks, ignore_index=True)
    readings["timestamp"] = readings["timestamp"].str.replace("T", " ", regex=False)
    return CGMTables(readings=readings, events=pd.concat(event_blocks, ignore_index=True), sensors=tuple(sensors))
