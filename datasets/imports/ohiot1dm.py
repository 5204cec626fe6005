"""OhioT1DM (Marling & Bunescu, 2018/2020) -> the lab's ``cgm`` dataset.

Source: the per-patient XML files as distributed (``559-ws-training.xml``, ``559-ws-testing.xml``,
...; any ``*.xml`` under the folder). Each is ``<patient id=... weight=... insulin_type=...>``
with one element per data stream, each holding ``<event .../>`` rows, times ``dd-mm-YYYY HH:MM:SS``.

What maps (to ``cgm.csv`` / ``cgm_events.csv`` of the lab's CGM export, then ``publish_cgm``):

============== ===================================================================
OhioT1DM       lab
============== ===================================================================
glucose_level  readings (``ts``, ``value`` mg/dL); gaps over 7.5 min filled with empty
               readings every 5 min, as the lab's sensor export has them
basal          ``basal_rate`` (U/h) from ``ts``; the rate in force restated at each midnight
temp_basal     ``basal_rate`` = value from ``ts_begin``, the scheduled rate again at ``ts_end``
bolus          ``bolus`` (``dose`` U at ``ts_begin``)
meal           ``meal`` (``carbs`` g)
exercise       ``exercise`` (``duration`` min)
============== ===================================================================

Not imported (no place in the lab's layout; listed in the report): finger_stick, hypo_event,
sleep, work, stressors, illness, basis_* (wristband) streams, and the ``weight`` and
``insulin_type`` attributes. Training and testing files of one patient are merged (their
readings de-duplicated by time); the lab then splits each trace by time (60 / 20 / 20 %).

De-identification: the dataset is distributed de-identified (dates already shifted by its
providers, no names); the import replaces each patient id with a keyed pseudonym and keeps
nothing but the lab's numeric columns (checked before publishing). Dates stay as distributed:
the forecasting project needs exact intervals.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import pandas as pd

from ..publish_ehr import publish_cgm
from .staging import DatasetImportError, ImportReport, Staging, pseudonym, restate_card, source_files, staged_import

TIME_FORMAT = "%d-%m-%Y %H:%M:%S"
READING_STEP = pd.Timedelta(minutes=5)
GAP = pd.Timedelta(minutes=7, seconds=30)
IGNORED = ("finger_stick", "hypo_event", "sleep", "work", "stressors", "illness")
READING_COLUMNS = ["patient_id", "timestamp", "glucose_mg_dl"]
EVENT_COLUMNS = ["patient_id", "timestamp", "event", "value", "unit"]


def import_ohiot1dm(source: Path, out_dir: Path) -> ImportReport:
    """Import the OhioT1DM XML files under ``source`` as ``out_dir/public/cgm`` (+ ``hidden/cgm``)."""
    source = Path(source)
    files = source_files(source, "*.xml", folder_hint="the folder holding the OhioT1DM *.xml files",
                         none_found="OhioT1DM XML files (*.xml)")
    parsed = [_read_patient_file(path) for path in files]  # everything is read before anything is written

    def build(staging: Staging) -> ImportReport:
        readings, events, skipped = [], [], defaultdict(int)
        by_patient: dict[str, list[_PatientFile]] = defaultdict(list)
        for item in parsed:
            by_patient[item.patient].append(item)
        for patient, items in sorted(by_patient.items()):
            pid = pseudonym(staging.key, "ohiot1dm", patient)
            readings.append(_readings(pid, items))
            events.append(_events(pid, items))
            for item in items:
                for name, count in item.skipped.items():
                    skipped[name] += count
        deid = staging.scratch / "deid"
        deid.mkdir()
        table = pd.concat(readings, ignore_index=True)
        logged = pd.concat(events, ignore_index=True)
        _check_columns(table, READING_COLUMNS, logged)
        table.to_csv(deid / "cgm.csv", index=False)
        logged.to_csv(deid / "cgm_events.csv", index=False)
        published = publish_cgm(deid, staging.public, staging.hidden, version="1.0.0")
        restate_card(
            staging.public / "cgm",
            summary="OhioT1DM continuous glucose monitoring of people with type-1 diabetes (5-minute sensor readings "
            "in mg/dL, empty in gaps) with basal rates, boluses, meals and exercise, in the lab's CGM layout.",
            provenance=f"Imported by `practicum datasets import ohiot1dm` from {len(files)} XML files of the OhioT1DM "
            "dataset (Marling C, Bunescu R. The OhioT1DM Dataset for Blood Glucose Level Prediction, KDH 2018 / 2020), "
            "used under its data use agreement.",
            deidentification="Distributed de-identified (dates shifted by the providers); patient ids replaced by keyed "
            "pseudonyms, weight and insulin type dropped, free-text-free numeric columns only.",
            notes=["Glucose in mg/dL as distributed; gaps over 7.5 minutes filled with empty 5-minute readings.",
                   "Events: basal and temporary basal as basal_rate (restated each midnight), bolus (U), meal (g of "
                   "carbohydrate), exercise (minutes).",
                   f"Streams not imported: {', '.join(sorted(skipped)) or 'none'}."],
        )
        return ImportReport(
            dataset="cgm", source_format="ohiot1dm", source=str(source), public_dir="", hidden_dir="",
            splits=published.splits,
            counts={"files": len(files), "patients": len(by_patient), "readings": int(table["glucose_mg_dl"].notna().sum()),
                    "events": len(logged)},
            notes=[f"not imported: {name} ({count} events)" for name, count in sorted(skipped.items())],
        )

    return staged_import(out_dir, "cgm", build)


class _PatientFile:
    def __init__(self, path: Path, patient: str) -> None:
        self.path, self.patient = path, patient
        self.glucose: list[tuple[dt.datetime, float]] = []
        self.events: list[tuple[dt.datetime, str, float, str]] = []
        self.basal: list[tuple[dt.datetime, float]] = []
        self.temp_basal: list[tuple[dt.datetime, dt.datetime, float]] = []
        self.skipped: dict[str, int] = {}


def _read_patient_file(path: Path) -> _PatientFile:
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as error:
        raise DatasetImportError(f"{path}: not well-formed XML ({error})") from None
    patient = root.get("id", "").strip()
    if root.tag != "patient" or not patient:
        raise DatasetImportError(f"{path}: not an OhioT1DM file (the root must be <patient id=...>, found <{root.tag}>)")
    item = _PatientFile(path, patient)
    for stream in root:
        rows = list(stream.iter("event"))
        try:
            if stream.tag == "glucose_level":
                item.glucose += [(_time(e, "ts"), _number(e, "value")) for e in rows]
            elif stream.tag == "basal":
                item.basal += [(_time(e, "ts"), _number(e, "value")) for e in rows]
            elif stream.tag == "temp_basal":
                item.temp_basal += [(_time(e, "ts_begin"), _time(e, "ts_end"), _number(e, "value")) for e in rows]
            elif stream.tag == "bolus":
                item.events += [(_time(e, "ts_begin"), "bolus", _number(e, "dose"), "U") for e in rows]
            elif stream.tag == "meal":
                item.events += [(_time(e, "ts"), "meal", _number(e, "carbs"), "g") for e in rows]
            elif stream.tag == "exercise":
                item.events += [(_time(e, "ts"), "exercise", _number(e, "duration"), "min") for e in rows]
            elif rows:
                item.skipped[stream.tag] = item.skipped.get(stream.tag, 0) + len(rows)
        except ValueError as error:
            raise DatasetImportError(f"{path}: <{stream.tag}>: {error}") from None
    if not item.glucose:
        raise DatasetImportError(f"{path}: no <glucose_level> readings")
    bad = [value for _, value in item.glucose if not 0 < value <= 1000]
    if bad:
        raise DatasetImportError(f"{path}: <glucose_level> value {bad[0]:g} is not a glucose value in mg/dL")
    return item


def _time(event: ET.Element, name: str) -> dt.datetime:
    text = event.get(name)
    if text is None:
        raise ValueError(f"an <event> lacks {name}= ({ET.tostring(event, encoding='unicode').strip()[:80]})")
    try:
        return dt.datetime.strptime(text.strip(), TIME_FORMAT)
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a time dd-mm-YYYY HH:MM:SS") from None


def _number(event: ET.Element, name: str) -> float:
    text = event.get(name)
    try:
        return float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"an <event> has {name}={text!r}, not a number") from None


def _readings(pid: str, items: list[_PatientFile]) -> pd.DataFrame:
    frame = pd.DataFrame([r for item in items for r in item.glucose], columns=["timestamp", "glucose_mg_dl"])
    frame = frame.drop_duplicates("timestamp").sort_values("timestamp", kind="stable").reset_index(drop=True)
    times = frame["timestamp"]
    fill = []
    for before, after in zip(times[:-1], times[1:], strict=True):
        if after - before > GAP:
            steps = int((after - before) / READING_STEP)
            fill += [before + READING_STEP * k for k in range(1, steps) if after - (before + READING_STEP * k) > READING_STEP / 2]
    if fill:
        frame = pd.concat([frame, pd.DataFrame({"timestamp": fill, "glucose_mg_dl": pd.NA})], ignore_index=True)
        frame = frame.sort_values("timestamp", kind="stable").reset_index(drop=True)
    values = pd.to_numeric(frame["glucose_mg_dl"]).round().astype("Int64")
    return pd.DataFrame({"patient_id": pid, "timestamp": frame["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S"),
                         "glucose_mg_dl": values})


def _events(pid: str, items: list[_PatientFile]) -> pd.DataFrame:
    rows = [r for item in items for r in item.events]
    basal = sorted({r for item in items for r in item.basal})
    rows += [(when, "basal_rate", rate, "U/h") for when, rate in basal]
    for begin, end, rate in sorted({r for item in items for r in item.temp_basal}):
        rows.append((begin, "basal_rate", rate, "U/h"))
        scheduled = [r for when, r in basal if when <= end]
        if scheduled:
            rows.append((end, "basal_rate", scheduled[-1], "U/h"))
    rows += _daily_basal(rows, items)
    frame = pd.DataFrame(sorted(set(rows)), columns=["timestamp", "event", "value", "unit"])
    frame.insert(0, "patient_id", pid)
    frame["timestamp"] = frame["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S") if len(frame) else frame["timestamp"]
    frame["value"] = [f"{v:g}" for v in frame["value"]]
    return frame[EVENT_COLUMNS]


def _daily_basal(rows: list[tuple[dt.datetime, str, float, str]], items: list[_PatientFile]) -> list[tuple[dt.datetime, str, float, str]]:
    """The rate in force restated at every midnight, as the lab's pump export does, so that each split
    (cut by time) knows the basal rate from its start."""
    changes = sorted((when, rate) for when, kind, rate, _ in rows if kind == "basal_rate")
    if not changes:
        return []
    times = [when for item in items for when, _ in item.glucose]
    day = dt.datetime.combine(min(times).date() + dt.timedelta(days=1), dt.time())
    restated = []
    while day <= max(times):
        in_force = [rate for when, rate in changes if when <= day]
        if in_force:
            restated.append((day, "basal_rate", in_force[-1], "U/h"))
        day += dt.timedelta(days=1)
    return restated


def _check_columns(readings: pd.DataFrame, expected: list[str], events: pd.DataFrame) -> None:
    """Only the lab's columns, and no text but the event kinds and units the lab defines (fail closed)."""
    if list(readings.columns) != expected or list(events.columns) != EVENT_COLUMNS:
        raise DatasetImportError("internal: the CGM tables' columns differ from the lab's layout")
    unexpected = set(events["event"]) - {"basal_rate", "bolus", "meal", "exercise"}
    if unexpected:
        raise DatasetImportError(f"internal: unexpected event kinds {sorted(unexpected)}")
