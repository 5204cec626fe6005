"""Glucose forecasting protocol: forecasts from the past only, scored on a chronological block.

The hidden test block is the last 20 % of each patient's trace. The model sees the block
(readings and logged events) and forecasts, at every reading time (the origin), the glucose
``h`` minutes later. Scored origins start ``warmup_min`` after the block's first reading and
need a reading at origin + h. Reported per horizon: RMSE and MAE (mg/dL), the same for the
persistence forecast (last observed value), their ratio, and Clarke error-grid zones
(Clarke et al., Diabetes Care 1987;10(5):622-628).

No future leakage: the grader runs the model again on copies of the block cut at earlier
times; a forecast at an origin before the cut must not change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..metrics.glucose import clarke_zone_percentages, mae, per_patient_errors, rmse
from ..tables import Column, TableError, TableSpec, check_frame, read_table

READINGS = TableSpec(
    (Column("patient_id", "text"), Column("timestamp", "timestamp"), Column("glucose_mg_dl", "optional_number")),
    key=("patient_id", "timestamp"),
)
EVENTS = TableSpec(
    (Column("patient_id", "text"), Column("timestamp", "timestamp"), Column("event", "text"), Column("value", "number"))
)
FORECASTS = TableSpec(
    (
        Column("patient_id", "text"),
        Column("timestamp", "timestamp"),
        Column("horizon_min", "number"),
        Column("predicted_mg_dl", "number"),
    ),
    key=("patient_id", "timestamp", "horizon_min"),
)
# Logged event kinds of the CGM dataset; each becomes a column event_<kind> of the model frame.
EVENT_KINDS = ("meal", "bolus", "correction_bolus", "rescue_carbs", "exercise", "basal_rate")
# basal_rate is a rate (U/h) that holds until the next one; the others are amounts per slot.
RATE_EVENTS = ("basal_rate",)
DEFAULT_HORIZONS = (30, 60)
DEFAULT_WARMUP_MIN = 60
# A target reading may sit this far from origin + horizon (readings come every 5 minutes).
TARGET_TOLERANCE = pd.Timedelta(minutes=2, seconds=30)
# Forecasts may move this much (mg/dL) when later data is removed; more is future leakage.
LEAKAGE_TOLERANCE_MG_DL = 0.01
LEAKAGE_CUTS = (0.45, 0.75)


class FutureLeakage(ValueError):
    """The model's forecast at some origin depends on data after that origin."""


def model_frame(readings: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """The model input: readings sorted by patient and time, plus one column per event kind.

    ``event_<kind>`` holds the sum of that kind's values logged in the reading's slot (after
    the previous reading, up to this one); ``event_basal_rate`` the rate in force at the
    reading (NaN before the first basal_rate entry of the block).
    """
    frame = readings[["patient_id", "timestamp", "glucose_mg_dl"]].copy()
    frame["patient_id"] = frame["patient_id"].astype(str)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    frame["glucose_mg_dl"] = pd.to_numeric(frame["glucose_mg_dl"], errors="coerce").astype(np.float64)
    frame = frame.sort_values(["patient_id", "timestamp"], kind="stable").reset_index(drop=True)
    logged = events.copy()
    logged["patient_id"] = logged["patient_id"].astype(str)
    logged["timestamp"] = pd.to_datetime(logged["timestamp"])
    logged["value"] = pd.to_numeric(logged["value"], errors="coerce").astype(np.float64)
    for kind in EVENT_KINDS:
        frame[f"event_{kind}"] = np.nan if kind in RATE_EVENTS else 0.0
    by_patient = {pid: group for pid, group in logged.groupby("patient_id")}
    for pid, rows in frame.groupby("patient_id").indices.items():
        times = frame["timestamp"].to_numpy()[rows]
        mine = by_patient.get(pid)
        if mine is None:
            continue
        for kind in EVENT_KINDS:
            of_kind = mine[mine["event"] == kind].sort_values("timestamp", kind="stable")
            if of_kind.empty:
                continue
            at, values = of_kind["timestamp"].to_numpy(), of_kind["value"].to_numpy()
            column = frame.columns.get_loc(f"event_{kind}")
            if kind in RATE_EVENTS:
                last = np.searchsorted(at, times, side="right") - 1
                frame.iloc[rows, column] = np.where(last >= 0, values[np.clip(last, 0, None)], np.nan)
            else:
                slot = np.searchsorted(times, at, side="left")
                inside = slot < len(times)
                frame.iloc[rows, column] = np.bincount(slot[inside], weights=values[inside], minlength=len(times))
    return frame


@dataclass(frozen=True)
class HorizonScores:
    horizon_min: int
    n_points: int
    rmse: float
    mae: float
    persistence_rmse: float
    persistence_mae: float
    rmse_vs_persistence: float
    clarke: dict[str, float]
    persistence_clarke: dict[str, float]
    per_patient: list[dict[str, Any]]


@dataclass(frozen=True)
class GlucoseEvaluation:
    horizons: tuple[HorizonScores, ...]
    warmup_min: int
    leakage_checked: bool
    # (horizon, reference, predicted) triples for the Clarke plot; not part of the JSON.
    points: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def metrics(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for h in self.horizons:
            k = h.horizon_min
            out |= {
                f"rmse_{k}": h.rmse,
                f"mae_{k}": h.mae,
                f"persistence_rmse_{k}": h.persistence_rmse,
                f"rmse_vs_persistence_{k}": h.rmse_vs_persistence,
                f"clarke_a_{k}": h.clarke["A"],
                f"clarke_ab_{k}": h.clarke["A"] + h.clarke["B"],
                f"clarke_e_{k}": h.clarke["E"],
            }
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "horizons": [asdict(h) for h in self.horizons],
            "warmup_min": self.warmup_min,
            "leakage_checked": self.leakage_checked,
            "metrics": self.metrics,
        }


def evaluate_forecasts(
    truth: pd.DataFrame,
    forecasts: pd.DataFrame,
    *,
    horizons: Sequence[int] = DEFAULT_HORIZONS,
    warmup_min: int = DEFAULT_WARMUP_MIN,
    source: str = "forecasts",
    place: str = "row",
    require_all: bool = True,
) -> GlucoseEvaluation:
    """Score checked forecasts (``FORECASTS``) against a checked block of readings (``READINGS``)."""
    truth = truth.sort_values(["patient_id", "timestamp"], kind="stable").reset_index(drop=True)
    scored = []
    points = {}
    for horizon in horizons:
        wanted = _scoring_points(truth, int(horizon), warmup_min)
        given = forecasts[np.isclose(forecasts["horizon_min"].to_numpy(), horizon)]
        if given.empty and not require_all:
            continue
        joined = wanted.merge(given, on=["patient_id", "timestamp"], how="left")
        lacking = joined["predicted_mg_dl"].isna().to_numpy()
        if lacking.any():
            first = joined.iloc[int(np.flatnonzero(lacking)[0])]
            raise TableError(
                source,
                f"no {horizon}-minute forecast for patient {first['patient_id']} at {first['timestamp']} "
                f"({int(lacking.sum())} of {len(joined)} scored forecasts missing)",
            )
        y, pred, persistence = (joined[c].to_numpy(np.float64) for c in ("target_mg_dl", "predicted_mg_dl", "persistence_mg_dl"))
        patients = joined["patient_id"].to_numpy()
        persistence_rmse = rmse(y, persistence)
        scored.append(
            HorizonScores(
                horizon_min=int(horizon),
                n_points=len(y),
                rmse=rmse(y, pred),
                mae=mae(y, pred),
                persistence_rmse=persistence_rmse,
                persistence_mae=mae(y, persistence),
                rmse_vs_persistence=rmse(y, pred) / persistence_rmse if persistence_rmse > 0 else float("inf"),
                clarke=clarke_zone_percentages(y, pred),
                persistence_clarke=clarke_zone_percentages(y, persistence),
                per_patient=[
                    {"patient_id": p.patient_id, "n": p.n, "rmse": p.rmse, "mae": mae(y[patients == p.patient_id], pred[patients == p.patient_id])}
                    for p in per_patient_errors(y, pred, patients)
                ],
            )
        )
        points[int(horizon)] = (y, pred)
    if not scored:
        raise TableError(source, f"no forecasts for any of the horizons {', '.join(map(str, horizons))} minutes")
    return GlucoseEvaluation(tuple(scored), warmup_min, leakage_checked=False, points=points)


def _scoring_points(truth: pd.DataFrame, horizon: int, warmup_min: int) -> pd.DataFrame:
    """Origins after the warm-up with a reading at origin + horizon, and the persistence value."""
    observed = truth.copy()
    observed["persistence_mg_dl"] = observed.groupby("patient_id")["glucose_mg_dl"].ffill()
    start = observed.groupby("patient_id")["timestamp"].transform("min")
    origins = observed[observed["timestamp"] >= start + pd.Timedelta(minutes=warmup_min)].copy()
    origins["target_time"] = origins["timestamp"] + pd.Timedelta(minutes=horizon)
    targets = truth.dropna(subset=["glucose_mg_dl"])[["patient_id", "timestamp", "glucose_mg_dl"]].rename(
        columns={"timestamp": "target_time", "glucose_mg_dl": "target_mg_dl"}
    )
    joined = pd.merge_asof(
        origins.sort_values("target_time"),
        targets.sort_values("target_time"),
        on="target_time",
        by="patient_id",
        direction="nearest",
        tolerance=TARGET_TOLERANCE,
    )
    joined = joined.dropna(subset=["target_mg_dl", "persistence_mg_dl"])
    return joined[["patient_id", "timestamp", "target_mg_dl", "persistence_mg_dl"]].sort_values(
        ["patient_id", "timestamp"], kind="stable"
    ).reset_index(drop=True)


def evaluate_forecast_files(
    *, truth: Path, predictions: Path, horizon: int, warmup_min: int = DEFAULT_WARMUP_MIN
) -> GlucoseEvaluation:
    """The CLI's verb: a readings CSV (the block) and a forecasts CSV for one horizon."""
    block = read_table(truth, READINGS)
    forecasts = read_table(predictions, FORECASTS)
    _refuse_unknown_origins(forecasts, block, source=str(predictions), place="line")
    return evaluate_forecasts(block, forecasts, horizons=(horizon,), warmup_min=warmup_min, source=str(predictions))


def _refuse_unknown_origins(forecasts: pd.DataFrame, block: pd.DataFrame, *, source: str, place: str) -> None:
    known = pd.MultiIndex.from_frame(block[["patient_id", "timestamp"]])
    index = pd.MultiIndex.from_frame(forecasts[["patient_id", "timestamp"]])
    unknown = np.flatnonzero(~index.isin(known))
    if unknown.size:
        row = forecasts.iloc[int(unknown[0])]
        raise TableError(
            source,
            f"patient {row['patient_id']} has no reading at {row['timestamp']}: forecasts are made at reading times",
            line=int(row["_line"]),
            place=place,
        )


# --- grading a model on the hidden test block ---------------------------------------------


def _options(options: Mapping[str, Any]) -> tuple[tuple[int, ...], int]:
    return tuple(int(h) for h in options.get("horizons_min", DEFAULT_HORIZONS)), int(options.get("warmup_min", DEFAULT_WARMUP_MIN))


def model_inputs(public_dir: Path, hidden_dir: Path, options: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    """The whole hidden block, and copies cut at earlier times per patient (the leakage check)."""
    readings = read_table(hidden_dir / "cgm" / "test_cgm.csv", READINGS).drop(columns="_line")
    events = pd.read_csv(hidden_dir / "cgm" / "test_events.csv", dtype={"patient_id": str})
    frame = model_frame(readings, events)
    inputs = {"test": frame}
    start = frame.groupby("patient_id")["timestamp"].transform("min")
    span = frame.groupby("patient_id")["timestamp"].transform("max") - start
    for number, share in enumerate(LEAKAGE_CUTS, start=1):
        inputs[f"cut_{number}"] = frame[frame["timestamp"] <= start + span * share].reset_index(drop=True)
    return inputs


def score_predictions(
    outputs: Mapping[str, object], *, inputs: Mapping[str, pd.DataFrame], hidden_dir: Path, options: Mapping[str, Any]
) -> GlucoseEvaluation:
    horizons, warmup = _options(options)
    checked = {name: check_frame(out, FORECASTS, source=f"the model's forecasts ({name})") for name, out in outputs.items()}
    full = checked["test"]
    _refuse_unknown_origins(full, inputs["test"], source="the model's forecasts (test)", place="row")
    for name, cut in checked.items():
        if name != "test":
            check_no_leakage(full, cut, cut_input=inputs[name])
    truth = inputs["test"][["patient_id", "timestamp", "glucose_mg_dl"]]
    evaluation = evaluate_forecasts(truth, full, horizons=horizons, warmup_min=warmup, source="the model's forecasts")
    return GlucoseEvaluation(evaluation.horizons, warmup, leakage_checked=len(checked) > 1, points=evaluation.points)


def check_no_leakage(full: pd.DataFrame, cut: pd.DataFrame, *, cut_input: pd.DataFrame) -> None:
    """Forecasts made on a cut copy must equal those made on the whole block at the same origins."""
    keys = ["patient_id", "timestamp", "horizon_min"]
    kept = cut_input[["patient_id", "timestamp"]]
    expected = full.merge(kept, on=["patient_id", "timestamp"], how="inner")[[*keys, "predicted_mg_dl"]]
    joined = expected.merge(cut[[*keys, "predicted_mg_dl"]], on=keys, how="left", suffixes=("_full", "_cut"))
    if joined["predicted_mg_dl_cut"].isna().any():
        row = joined[joined["predicted_mg_dl_cut"].isna()].iloc[0]
        raise TableError("the model's forecasts", f"no forecast for patient {row['patient_id']} at {row['timestamp']} when later data is removed")
    change = (joined["predicted_mg_dl_full"] - joined["predicted_mg_dl_cut"]).abs()
    if (change > LEAKAGE_TOLERANCE_MG_DL).any():
        row = joined.iloc[int(change.to_numpy().argmax())]
        raise FutureLeakage(
            f"future leakage: the {row['horizon_min']:g}-minute forecast for patient {row['patient_id']} at "
            f"{row['timestamp']} is {row['predicted_mg_dl_full']:.2f} mg/dL with the whole block but "
            f"{row['predicted_mg_dl_cut']:.2f} when data after {kept['timestamp'].max()} is removed; "
            "forecasts may use only readings and events up to their origin"
        )
