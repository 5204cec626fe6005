"""What both submitted models share: reading the model frame and writing the forecast table.

The grader gives ``model.predict`` one model frame
(``practicum.graders.protocols.glucose_forecasting.model_frame``: ``patient_id``,
``timestamp``, ``glucose_mg_dl`` with NaN in gaps, and ``event_<kind>`` columns) and expects
one row per input row and horizon: ``patient_id, timestamp, horizon_min, predicted_mg_dl``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from practicum.graders.protocols.glucose_forecasting import TARGET_TOLERANCE, model_frame

REQUIRED_COLUMNS = ("patient_id", "timestamp", "glucose_mg_dl")
# Commercial sensors report 40-400 mg/dL; forecasts are kept in that range.
SENSOR_RANGE_MG_DL = (40.0, 400.0)


def cgm_dir(data_dir: Path) -> Path:
    """The ``cgm`` dataset folder, given it or the public root that holds it."""
    data_dir = Path(data_dir)
    folder = data_dir if (data_dir / "train_cgm.csv").is_file() else data_dir / "cgm"
    if not (folder / "train_cgm.csv").is_file():
        raise FileNotFoundError(f"no cgm dataset (train_cgm.csv) in {data_dir} or {data_dir / 'cgm'}")
    return folder


def load_block(data_dir: Path, split: str) -> pd.DataFrame:
    """The model frame of one public block (``train`` or ``val``), built as the grader builds the test one."""
    folder = cgm_dir(data_dir)
    readings = pd.read_csv(folder / f"{split}_cgm.csv", dtype={"patient_id": str})
    events = pd.read_csv(folder / f"{split}_events.csv", dtype={"patient_id": str})
    return model_frame(readings, events)


def check_model_input(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with a default index and parsed timestamps; a clear error when columns are missing."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame (the model frame), got {type(frame).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"the model frame lacks the columns {missing}; it needs {list(REQUIRED_COLUMNS)}")
    out = frame.reset_index(drop=True).copy()
    out["patient_id"] = out["patient_id"].astype(str)
    out["timestamp"] = pd.to_datetime(out["timestamp"])
    out["glucose_mg_dl"] = pd.to_numeric(out["glucose_mg_dl"], errors="coerce").astype(np.float64)
    return out


def last_observed(frame: pd.DataFrame) -> np.ndarray:
    """Each row's most recent reading of the same patient at or before it (NaN before the first)."""
    ordered = frame.sort_values(["patient_id", "timestamp"], kind="stable")
    filled = ordered.groupby("patient_id", sort=False)["glucose_mg_dl"].ffill()
    return filled.reindex(frame.index).to_numpy(np.float64)


def forecast_table(frame: pd.DataFrame, predictions: Mapping[int, np.ndarray]) -> pd.DataFrame:
    """The output table: one row per frame row and horizon, never NaN, within the sensor range."""
    parts = []
    for horizon, values in predictions.items():
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (len(frame),) or not np.all(np.isfinite(values)):
            raise ValueError(f"{horizon}-minute forecasts must be {len(frame)} finite values")
        parts.append(
            pd.DataFrame(
                {
                    "patient_id": frame["patient_id"].to_numpy(),
                    "timestamp": frame["timestamp"].to_numpy(),
                    "horizon_min": int(horizon),
                    "predicted_mg_dl": np.clip(values, *SENSOR_RANGE_MG_DL),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def future_readings(frame: pd.DataFrame, horizon: int) -> np.ndarray:
    """The reading ``horizon`` minutes after each row (same patient, matched as the grader does), NaN if none."""
    wanted = pd.DataFrame(
        {"patient_id": frame["patient_id"], "when": frame["timestamp"] + pd.Timedelta(minutes=horizon), "row": np.arange(len(frame))}
    )
    seen = frame.dropna(subset=["glucose_mg_dl"])
    seen = pd.DataFrame({"patient_id": seen["patient_id"], "when": seen["timestamp"], "target": seen["glucose_mg_dl"]})
    joined = pd.merge_asof(
        wanted.sort_values("when"), seen.sort_values("when"), on="when", by="patient_id",
        direction="nearest", tolerance=TARGET_TOLERANCE,
    )
    out = np.full(len(frame), np.nan)
    out[joined["row"].to_numpy()] = joined["target"].to_numpy(np.float64)
    return out


def pip_requirements() -> list[str]:
    """Pinned requirements of the saved models (skips MLflow's slow inference of them)."""
    from importlib.metadata import version

    return [f"{name}=={version(name)}" for name in ("numpy", "pandas", "scikit-learn", "mlflow")]


def horizons_of(options: Sequence[int] | None) -> tuple[int, ...]:
    return tuple(int(h) for h in (options or (30, 60)))
