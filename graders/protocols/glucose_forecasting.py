"""Glucose forecasting protocol: forecasts from the past only, scored on a chronological block.

The hidden test block is the last 20 % of each patient's trace. The model sees the block
(readings and logged events) and forecasts, at every reading time (the origin), the glucose
``h`` minutes later. Scored origins start ``warmup_min`` after the block's first reading and
need a reading at origin + h. Reported per horizon: RMSE and MAE (mg/dL), the same for the
persistence forecast (last observed value), their ratio, and Clarke error-grid zones
(Clarke et al., Diabetes Care 1987;10(5):622-628).

Units: every score is in mg/dL. Readings and forecasts pass ``metrics.glucose_units.in_mg_dl``
before anything is scored: the grader declares both mg/dL (the columns say so), so forecasts
in mmol/L, values <= 0, over 1000 mg/dL or of mixed units are refused with a message that says
so; ``practicum eval glucose`` detects each file's unit (or takes ``--units``) and converts
mmol/L at 18.016 mg/dL per mmol/L, saying it did.

No future leakage. Besides the whole block the model predicts on ``leakage_copies`` (option,
default 3) copies of it, each patient cut at a time of its own, drawn per grading from the
``rng`` the grader passes (a ``random.SystemRandom``): uniform between the patient's first
reading + ``warmup_min`` and its last reading (which is always removed). No published
constant says where a cut is. A forecast at an origin the copy keeps must not move by more
than ``LEAKAGE_TOLERANCE_MG_DL``; otherwise ``FutureLeakage`` names the input, patient,
horizon and origin (never a cut time; nothing in the evaluation holds one).

What a model could learn from its inputs, and why it does not help (each input is predicted
in a fresh process, so nothing passes from one input to another):

* Names: ``block_1`` .. ``block_<copies + 1>``; which one is the whole block is drawn at random.
* Order: each patient's rows are in time order (forecasting needs it; it tells nothing); the
  order of the patients is shuffled per input, so no grader convention can be relied on.
* Ids: the patients' pseudonyms, as in the public splits.
* Count: a copy's rows show its cut times, but only to the process that predicts that copy;
  the process that predicts the whole block cannot know them, and they change every grading.
  A model may well tell the whole block from a copy (it is the longest, and ends where the
  trace ends) and use later readings there only: a forecast at origin t that used a reading
  after t differs from the honest copy's wherever a cut falls after t and before that
  reading. A model leaking over a share f of a patient's time after the warm-up escapes all
  k cuts of that patient with probability about (1 - f)^k, and the whole grading with
  (1 - f)^(k * patients); consistent peeking (using the future wherever the input has it)
  shows at every cut.

Keys are exact (``check_forecasts``): a horizon is one of the project's (equal, not close), an
origin is a reading time of that input to the nanosecond (time zones are refused), ids are
strings compared after stripping, and a key repeated after that normalisation is refused
with its row. An output may hold at most one row per input row and horizon
(``max_output_rows``), checked before anything else is read.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..metrics.glucose import clarke_zone_percentages, mae, per_patient_errors, rmse
from ..metrics.glucose_units import MG_DL, MG_DL_PER_MMOL_L, GlucoseUnitsError, Units, in_mg_dl
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
# Cut copies of the block per grading (each patient cut at its own secret time in each copy).
DEFAULT_LEAKAGE_COPIES = 3
INPUT_PREFIX = "block_"


class FutureLeakage(ValueError):
    """The model's forecast at some origin depends on data after that origin."""

    def __init__(
        self,
        message: str,
        *,
        input_name: str | None = None,
        patient_id: str | None = None,
        origin: pd.Timestamp | None = None,
        horizon_min: int | None = None,
    ) -> None:
        super().__init__(message)
        self.input_name, self.patient_id, self.origin, self.horizon_min = input_name, patient_id, origin, horizon_min


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
    # How many cut copies were compared (their cut times are secret and kept nowhere).
    leakage_copies: int = 0
    # The unit each input was given in ({"truth": ..., "forecasts": ...}); scores are always mg/dL.
    units: dict[str, str] = field(default_factory=dict)
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
            "leakage_copies": self.leakage_copies,
            "units": self.units,
            "mg_dl_per_mmol_l": MG_DL_PER_MMOL_L,
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
    truth_units: Units = MG_DL,
    forecast_units: Units = MG_DL,
    truth_source: str = "readings",
) -> GlucoseEvaluation:
    """Score checked forecasts (``FORECASTS``) against a checked block of readings (``READINGS``).

    Both pass ``in_mg_dl`` first with their unit (declared, or ``"auto"``): see the module docstring.
    """
    truth, truth_unit = _glucose_column(truth, "glucose_mg_dl", truth_units, source=truth_source, what="readings")
    forecasts, forecast_unit = _glucose_column(forecasts, "predicted_mg_dl", forecast_units, source=source, what="forecasts")
    truth = truth.sort_values(["patient_id", "timestamp"], kind="stable").reset_index(drop=True)
    scored = []
    points = {}
    for horizon in horizons:
        wanted = _scoring_points(truth, int(horizon), warmup_min)
        given = forecasts[forecasts["horizon_min"].to_numpy(np.float64) == float(horizon)]
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
    return GlucoseEvaluation(
        tuple(scored), warmup_min, leakage_checked=False, units={"truth": truth_unit, "forecasts": forecast_unit}, points=points
    )


def _glucose_column(table: pd.DataFrame, column: str, units: Units, *, source: str, what: str) -> tuple[pd.DataFrame, str]:
    """``table`` with ``column`` in mg/dL (its empty cells kept), and the unit it was given in."""
    values = table[column].to_numpy(np.float64)
    present = ~np.isnan(values)
    if not present.any():
        return table, MG_DL if units == "auto" else units
    try:
        checked = in_mg_dl(values[present], units=units, what=f"{what} ({column})")
    except GlucoseUnitsError as error:
        raise TableError(source, str(error)) from None
    converted = values.copy()
    converted[present] = checked.mg_dl
    return table.assign(**{column: converted}), checked.units


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
    *, truth: Path, predictions: Path, horizon: int, warmup_min: int = DEFAULT_WARMUP_MIN, units: Units = "auto"
) -> GlucoseEvaluation:
    """The CLI's verb: a readings CSV (the block) and a forecasts CSV for one horizon.

    ``units``: both files' unit, or ``"auto"`` (each file's own, detected; mmol/L is converted).
    """
    block = read_table(truth, READINGS)
    forecasts = read_table(predictions, FORECASTS)
    check_horizons(forecasts, None, source=str(predictions), place="line")
    _refuse_unknown_origins(forecasts, block, source=str(predictions), place="line")
    return evaluate_forecasts(
        block, forecasts, horizons=(horizon,), warmup_min=warmup_min, source=str(predictions),
        truth_units=units, forecast_units=units, truth_source=str(truth),
    )


def check_horizons(forecasts: pd.DataFrame, horizons: Sequence[int] | None, *, source: str, place: str) -> None:
    """Each forecast's horizon is exactly one of ``horizons`` (or, with None, a whole number of minutes)."""
    values = forecasts["horizon_min"].to_numpy(np.float64)
    if horizons is None:
        allowed = (values == np.round(values)) & (values > 0)
        expected = "a whole, positive number of minutes"
    else:
        allowed = np.isin(values, np.asarray([float(h) for h in horizons]))
        expected = f"one of the project's horizons ({', '.join(str(int(h)) for h in horizons)} minutes, exactly)"
    bad = np.flatnonzero(~allowed)
    if bad.size:
        index = int(bad[0])
        raise TableError(
            source, f"column horizon_min: {float(values[index])!r} is not {expected}", line=_location(forecasts, index), place=place
        )


def _location(table: pd.DataFrame, index: int) -> int:
    return int(table["_line"].iloc[index]) if "_line" in table.columns else index + 1


def _refuse_unknown_origins(forecasts: pd.DataFrame, block: pd.DataFrame, *, source: str, place: str) -> None:
    """Every origin is exactly a reading time of that patient in ``block`` (the input predicted on)."""
    known = pd.MultiIndex.from_arrays([block["patient_id"].astype(str), _nanoseconds(block["timestamp"])])
    index = pd.MultiIndex.from_arrays([forecasts["patient_id"].astype(str), _nanoseconds(forecasts["timestamp"])])
    unknown = np.flatnonzero(~index.isin(known))
    if unknown.size:
        row = forecasts.iloc[int(unknown[0])]
        raise TableError(
            source,
            f"patient {row['patient_id']} has no reading at {row['timestamp']}: forecasts are made at reading times",
            line=_location(forecasts, int(unknown[0])),
            place=place,
        )


def _nanoseconds(times: pd.Series) -> pd.Series:
    return pd.to_datetime(times).astype("datetime64[ns]")


# --- grading a model on the hidden test block ---------------------------------------------


def _options(options: Mapping[str, Any]) -> tuple[tuple[int, ...], int, int]:
    horizons = tuple(int(h) for h in options.get("horizons_min", DEFAULT_HORIZONS))
    copies = int(options.get("leakage_copies", DEFAULT_LEAKAGE_COPIES))
    if copies < 1:
        raise ValueError(f"leakage_copies must be at least 1, got {copies}")
    return horizons, int(options.get("warmup_min", DEFAULT_WARMUP_MIN)), copies


def model_inputs(
    public_dir: Path, hidden_dir: Path, options: Mapping[str, Any], *, rng: random.Random
) -> dict[str, pd.DataFrame]:
    """The whole hidden block and its cut copies, under neutral names in random order (module docstring)."""
    _, warmup, copies = _options(options)
    readings = read_table(hidden_dir / "cgm" / "test_cgm.csv", READINGS).drop(columns="_line")
    events = pd.read_csv(hidden_dir / "cgm" / "test_events.csv", dtype={"patient_id": str})
    frame = model_frame(readings, events)
    blocks = [frame, *cut_copies(frame, copies=copies, warmup_min=warmup, rng=rng)]
    rng.shuffle(blocks)
    return {f"{INPUT_PREFIX}{number}": _shuffle_patients(block, rng) for number, block in enumerate(blocks, start=1)}


def cut_copies(frame: pd.DataFrame, *, copies: int, warmup_min: int, rng: random.Random) -> list[pd.DataFrame]:
    """``copies`` copies of a model frame, each patient cut at a time drawn for that patient and copy.

    A cut lies uniformly between the patient's first reading + ``warmup_min`` (the first reading if
    the block is shorter) and its last reading, which every copy drops; a patient with one reading
    is left out of the copies.
    """
    times = frame["timestamp"].to_numpy("datetime64[ns]")
    kept: list[list[np.ndarray]] = [[] for _ in range(copies)]
    for _, rows in sorted(frame.groupby("patient_id").indices.items()):
        mine = times[rows]
        first, last = mine.min(), mine.max()
        low = first + np.timedelta64(int(warmup_min) * 60_000_000_000, "ns")
        if low >= last:
            low = first
        span = int((last - low) / np.timedelta64(1, "ns"))
        if span <= 0:
            continue
        for copy in range(copies):
            cut = low + np.timedelta64(int(rng.random() * span), "ns")
            kept[copy].append(rows[mine <= cut])
    return [frame.iloc[np.sort(np.concatenate(parts))].reset_index(drop=True) for parts in kept if parts]


def _shuffle_patients(block: pd.DataFrame, rng: random.Random) -> pd.DataFrame:
    """The block with its patients in random order, each patient's rows still in time order."""
    patients = sorted(block["patient_id"].unique())
    rng.shuffle(patients)
    rank = block["patient_id"].map({pid: number for number, pid in enumerate(patients)})
    order = np.lexsort((block["timestamp"].to_numpy("datetime64[ns]"), rank.to_numpy()))
    return block.iloc[order].reset_index(drop=True)


def whole_block_name(inputs: Mapping[str, pd.DataFrame]) -> str:
    """The input holding the whole block (the others are its cut copies, all shorter)."""
    sizes = sorted(((len(frame), name) for name, frame in inputs.items()), reverse=True)
    if not sizes:
        raise ValueError("no model inputs")
    if len(sizes) > 1 and sizes[0][0] == sizes[1][0]:
        raise ValueError(f"inputs {sizes[0][1]} and {sizes[1][1]} are the same size: which is the whole block?")
    return sizes[0][1]


def max_output_rows(name: str, model_input: pd.DataFrame, options: Mapping[str, Any]) -> int:
    """At most one forecast per input row and horizon."""
    horizons, _, _ = _options(options)
    return len(model_input) * len(horizons)


def check_forecasts(
    output: object, model_input: pd.DataFrame, *, horizons: Sequence[int], source: str
) -> pd.DataFrame:
    """A model's forecasts for one input, checked: size, columns and values, exact keys, origins."""
    checked = check_frame(output, FORECASTS, source=source, max_rows=len(model_input) * len(horizons))
    check_horizons(checked, horizons, source=source, place="row")
    _refuse_unknown_origins(checked, model_input, source=source, place="row")
    return checked


def score_predictions(
    outputs: Mapping[str, object], *, inputs: Mapping[str, pd.DataFrame], hidden_dir: Path, options: Mapping[str, Any]
) -> GlucoseEvaluation:
    horizons, warmup, _ = _options(options)
    for name in inputs:
        if name not in outputs:
            raise TableError(f"the model's forecasts ({name})", "no output for this input")
    checked = {
        name: check_forecasts(outputs[name], frame, horizons=horizons, source=f"the model's forecasts ({name})")
        for name, frame in inputs.items()
    }
    whole = whole_block_name(inputs)
    for name in inputs:
        if name != whole:
            check_no_leakage(checked[whole], checked[name], cut_input=inputs[name], name=name)
    truth = inputs[whole][["patient_id", "timestamp", "glucose_mg_dl"]]
    evaluation = evaluate_forecasts(
        truth, checked[whole], horizons=horizons, warmup_min=warmup, source=f"the model's forecasts ({whole})",
        truth_source="the hidden test block",
    )
    return GlucoseEvaluation(
        evaluation.horizons, warmup, leakage_checked=len(inputs) > 1, leakage_copies=len(inputs) - 1,
        units=evaluation.units, points=evaluation.points,
    )


def check_no_leakage(full: pd.DataFrame, cut: pd.DataFrame, *, cut_input: pd.DataFrame, name: str | None = None) -> None:
    """Forecasts made on a cut copy (``cut_input``, named ``name``) must equal those made on the whole block.

    Compared at every origin the copy keeps; messages name the input, patient and origin, not the cut.
    """
    keys = ["patient_id", "timestamp", "horizon_min"]
    where = f" ({name})" if name else ""

    def normalised(table: pd.DataFrame) -> pd.DataFrame:
        return table.assign(
            patient_id=table["patient_id"].astype(str),
            timestamp=_nanoseconds(table["timestamp"]),
            **({"horizon_min": table["horizon_min"].astype(np.float64)} if "horizon_min" in table.columns else {}),
        )

    kept = normalised(cut_input[["patient_id", "timestamp"]])
    expected = normalised(full).merge(kept, on=["patient_id", "timestamp"], how="inner")[[*keys, "predicted_mg_dl"]]
    joined = expected.merge(normalised(cut)[[*keys, "predicted_mg_dl"]], on=keys, how="left", suffixes=("_full", "_cut"))
    lacking = joined["predicted_mg_dl_cut"].isna().to_numpy()
    if lacking.any():
        row = joined.iloc[int(np.flatnonzero(lacking)[0])]
        raise TableError(
            f"the model's forecasts{where}",
            f"no {row['horizon_min']:g}-minute forecast for patient {row['patient_id']} at {row['timestamp']} when later readings are removed",
        )
    change = (joined["predicted_mg_dl_full"] - joined["predicted_mg_dl_cut"]).abs().to_numpy()
    if (change > LEAKAGE_TOLERANCE_MG_DL).any():
        row = joined.iloc[int(change.argmax())]
        copy = f" (input {name})" if name else ""
        raise FutureLeakage(
            f"future leakage: the {row['horizon_min']:g}-minute forecast for patient {row['patient_id']} at "
            f"{row['timestamp']} is {row['predicted_mg_dl_full']:.2f} mg/dL with the whole block but "
            f"{row['predicted_mg_dl_cut']:.2f} when later readings are removed{copy}; "
            "forecasts may use only readings and events up to their origin",
            input_name=name,
            patient_id=str(row["patient_id"]),
            origin=row["timestamp"],
            horizon_min=int(row["horizon_min"]),
        )
