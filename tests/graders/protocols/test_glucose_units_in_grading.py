"""The grader scores glucose with the CLI's unit gate: forecasts in mmol/L are refused, never scored."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from practicum.graders.protocols import glucose_forecasting as protocol
from practicum.graders.tables import TableError

OPTIONS = {"horizons_min": [30], "warmup_min": 60, "leakage_copies": 1}


def toy_inputs() -> dict[str, pd.DataFrame]:
    times = pd.date_range("2024-03-01 06:00", periods=48, freq="5min")
    frames = [pd.DataFrame({"patient_id": pid, "timestamp": times,
                            "glucose_mg_dl": 140 + 50 * np.sin(np.arange(48) / (7 + k))}) for k, pid in enumerate(("p1", "p2"))]
    whole = pd.concat(frames, ignore_index=True)
    cut = protocol.cut_copies(whole, copies=1, warmup_min=60, rng=random.Random(3))[0]
    return {"block_1": whole, "block_2": cut}


def persistence(frame: pd.DataFrame, scale: float = 1.0) -> pd.DataFrame:
    last = frame.groupby("patient_id")["glucose_mg_dl"].ffill().to_numpy()
    return pd.DataFrame({"patient_id": frame["patient_id"], "timestamp": frame["timestamp"], "horizon_min": 30,
                         "predicted_mg_dl": last * scale})


def score(outputs, inputs):
    return protocol.score_predictions(outputs, inputs=inputs, hidden_dir=None, options=OPTIONS)


def test_mg_dl_forecasts_are_scored_and_the_unit_recorded():
    inputs = toy_inputs()
    evaluation = score({name: persistence(frame) for name, frame in inputs.items()}, inputs)
    assert evaluation.units == {"truth": "mg/dL", "forecasts": "mg/dL"}
    assert evaluation.horizons[0].rmse_vs_persistence == pytest.approx(1.0)


def test_mmol_per_litre_forecasts_are_refused_with_the_conversion_to_make():
    inputs = toy_inputs()
    with pytest.raises(TableError, match=r"meant to be mg/dL but look like mmol/L .*mmol/L x 18.016"):
        score({name: persistence(frame, 1 / 18.016) for name, frame in inputs.items()}, inputs)


def test_implausible_forecasts_are_refused():
    inputs = toy_inputs()
    with pytest.raises(TableError, match="over 1000 mg/dL"):
        score({name: persistence(frame, 10.0) for name, frame in inputs.items()}, inputs)
