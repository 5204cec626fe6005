"""Publish de-identified EHR and CGM tables as the projects' datasets.

- `ehr_risk`: every EHR table except CGM, split by patient into train / val / test;
  the test split's outcome labels go to the hidden folder.
- `cgm`: each CGM patient's trace split by time: the first 60 % train, the next 20 %
  val (public), the last 20 % the hidden test block (the glucose project's grader
  replays it; learners never see it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .cards import ColumnDoc, DatasetCard, checksums, write_card
from .ehr_deid.modes import read_mode
from .splits import SplitFractions, assign_splits, make_hidden_dir, write_hidden_file

CGM_TABLES = ("cgm.csv", "cgm_events.csv")
OUTCOME_LABELS = ("retinopathy_5y", "retinopathy_date", "nephropathy_5y", "nephropathy_date")
CGM_FRACTIONS = (0.6, 0.2)  # train, val; the rest is the hidden test block


@dataclass(frozen=True)
class PublishedDataset:
    name: str
    public_dir: str
    hidden_dir: str
    splits: dict[str, int]


# A larger test share than the default: about half the patients are at risk (no retinopathy at the index
# date) and a fifth of those have an event, so the test split needs hundreds of patients for the
# project's targets to hold for the generator's own risk (see projects/ehr_complication_risk/project.yaml).
RISK_SPLIT_FRACTIONS = SplitFractions(train=0.5, val=0.2, test=0.3)


def publish_ehr_risk(
    deid_dir: Path, public_root: Path, hidden_root: Path, *, key: bytes, version: str, population: list[dict[str, str]] | None = None
) -> PublishedDataset:
    public, hidden = public_root / "ehr_risk", make_hidden_dir(hidden_root / "ehr_risk")
    tables = {p.name: pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted(deid_dir.glob("*.csv"))}
    tables = {name: df for name, df in tables.items() if name not in CGM_TABLES}
    assignment = assign_splits(tables["patients.csv"]["patient_id"], key=key, fractions=RISK_SPLIT_FRACTIONS)
    counts = {split: 0 for split in ("train", "val", "test")}
    for split in counts:
        folder = public / split
        folder.mkdir(parents=True, exist_ok=True)
        members = {pid for pid, s in assignment.items() if s == split}
        counts[split] = len(members)
        for name, df in tables.items():
            if "patient_id" not in df.columns:
                continue
            part = df[df["patient_id"].isin(members)]
            if name == "outcomes.csv" and split == "test":
                write_hidden_file(hidden / "test_outcomes.csv", part.to_csv(index=False).encode())
                part = part.drop(columns=[c for c in OUTCOME_LABELS if c in part.columns])
            part.to_csv(folder / name, index=False)
    card = DatasetCard(
        name="ehr_risk",
        version=version,
        summary="De-identified EHR of diabetes patients (demographics, encounters, ICD-10 diagnoses, labs, "
        "vitals, medications, devices, clinical notes) with 5-year retinopathy and nephropathy outcomes.",
        provenance="Synthetic hospital exports made by practicum.datasets.ehr (risk factors drive the outcomes "
        "through a documented logistic model), then de-identified and verified by this pipeline.",
        deidentification=read_mode(deid_dir).card_sentence,
        splits=counts,
        schema=[
            ColumnDoc("patient_id", "keyed pseudonym, the same in every table"),
            ColumnDoc("outcomes.csv", "index_date and horizon_years; the labels retinopathy_5y / nephropathy_5y "
                      "(1 = onset within the horizon, empty = already present at the index date) in train "
                      "and val only"),
        ],
        checksums=checksums(public),
        notes=["Patients are split by a keyed hash of their pseudonym: a patient is in one split only.",
               "The test split's labels are held by the grader, outside every sandbox."],
        population=list(population or []),
    )
    write_card(public, card)
    return PublishedDataset("ehr_risk", str(public), str(hidden), counts)


def publish_cgm(deid_dir: Path, public_root: Path, hidden_root: Path, *, version: str) -> PublishedDataset:
    public, hidden = public_root / "cgm", make_hidden_dir(hidden_root / "cgm")
    public.mkdir(parents=True, exist_ok=True)
    readings = pd.read_csv(deid_dir / "cgm.csv", dtype={"patient_id": str}, parse_dates=["timestamp"])
    events = pd.read_csv(deid_dir / "cgm_events.csv", dtype={"patient_id": str}, parse_dates=["timestamp"])
    cutoffs = _time_cutoffs(readings)
    parts = {split: _by_block(readings, cutoffs, split) for split in ("train", "val", "test")}
    event_parts = {split: _by_block(events, cutoffs, split) for split in ("train", "val", "test")}
    for split in ("train", "val"):
        parts[split].to_csv(public / f"{split}_cgm.csv", index=False)
        event_parts[split].to_csv(public / f"{split}_events.csv", index=False)
    write_hidden_file(hidden / "test_cgm.csv", parts["test"].to_csv(index=False).encode())
    write_hidden_file(hidden / "test_events.csv", event_parts["test"].to_csv(index=False).encode())
    counts = {split: int(len(parts[split])) for split in parts}
    card = DatasetCard(
        name="cgm",
        version=version,
        summary="De-identified continuous glucose monitoring of type-1 diabetes patients: 5-minute sensor "
        "readings (mg/dL, empty in gaps) with meals, insulin (basal, bolus) and exercise events.",
        provenance="Simulated by practicum.datasets.cgm with the Dalla Man et al. 2007 glucose-insulin model, "
        "per-patient parameters, sensor noise after Breton & Kovatchev 2008, drift and gaps.",
        deidentification="Keyed pseudonyms and per-patient date shifts shared with the EHR tables.",
        splits=counts,
        schema=[
            ColumnDoc("*_cgm.csv", "patient_id, timestamp, glucose_mg_dl (empty: no reading)"),
            ColumnDoc("*_events.csv", "patient_id, timestamp, event (meal, bolus, basal_rate, exercise...), value, unit"),
        ],
        checksums=checksums(public),
        notes=["Split by time within each patient: train is the first 60 % of each trace, val the next 20 %; "
               "the last 20 % is the hidden test block (counts are readings, not patients)."],
    )
    write_card(public, card)
    return PublishedDataset("cgm", str(public), str(hidden), counts)


def _time_cutoffs(readings: pd.DataFrame) -> pd.DataFrame:
    spans = readings.groupby("patient_id")["timestamp"].agg(["min", "max"])
    length = spans["max"] - spans["min"]
    return pd.DataFrame(
        {
            "train_end": spans["min"] + length * CGM_FRACTIONS[0],
            "val_end": spans["min"] + length * sum(CGM_FRACTIONS),
        }
    )


def _by_block(frame: pd.DataFrame, cutoffs: pd.DataFrame, split: str) -> pd.DataFrame:
    joined = frame.join(cutoffs, on="patient_id", how="inner")
    if split == "train":
        mask = joined["timestamp"] < joined["train_end"]
    elif split == "val":
        mask = (joined["timestamp"] >= joined["train_end"]) & (joined["timestamp"] < joined["val_end"])
    else:
        mask = joined["timestamp"] >= joined["val_end"]
    return frame[mask.to_numpy()]
