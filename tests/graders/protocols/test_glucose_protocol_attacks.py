"""The glucose protocol against hostile models: secret per-patient cuts, exact keys, bounded outputs.

Predictions are made here, in this process, the way a stateless model would make them in the
grader's fresh process per input: it may cheat on an input it takes for the whole block, but it
cannot know where the other inputs were cut.
"""

from __future__ import annotations

import functools
import json
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from practicum.graders.protocols import glucose_forecasting as protocol
from practicum.graders.protocols.glucose_forecasting import FutureLeakage
from practicum.graders.tables import TableError

OPTIONS = {"horizons_min": [30, 60], "warmup_min": 60}  # the project's (projects/glucose_cgm_forecasting)
HORIZONS = (30, 60)


@functools.cache
def _inputs(build: Path, seed: int) -> dict[str, pd.DataFrame]:
    return protocol.model_inputs(build / "public", build / "hidden", OPTIONS, rng=random.Random(seed))


def graded_inputs(small_build, seed: int) -> dict[str, pd.DataFrame]:
    """One grading's inputs (drawn once per seed; the tests do not modify them)."""
    return _inputs(small_build, seed)


def forecast_table(frame: pd.DataFrame, values: dict[int, np.ndarray]) -> pd.DataFrame:
    return pd.concat(
        [
            pd.DataFrame({"patient_id": frame["patient_id"], "timestamp": frame["timestamp"], "horizon_min": h, "predicted_mg_dl": values[h]})
            for h in HORIZONS
        ],
        ignore_index=True,
    )


def persistence(frame: pd.DataFrame) -> pd.DataFrame:
    """Honest: the last reading up to the origin."""
    last = frame.groupby("patient_id")["glucose_mg_dl"].ffill().fillna(120.0).to_numpy()
    return forecast_table(frame, {h: last for h in HORIZONS})


def peeking(frame: pd.DataFrame, *, after_share: float = 0.0) -> pd.DataFrame:
    """Cheats: the reading h minutes later where the input has it (from ``after_share`` of each patient's span on)."""
    last = frame.groupby("patient_id")["glucose_mg_dl"].ffill().fillna(120.0)
    start = frame.groupby("patient_id")["timestamp"].transform("min")
    span = frame.groupby("patient_id")["timestamp"].transform("max") - start
    cheating = (frame["timestamp"] >= start + span * after_share).to_numpy()
    values = {}
    for h in HORIZONS:
        ahead = frame.groupby("patient_id")["glucose_mg_dl"].shift(-h // 5)
        values[h] = np.where(cheating & ahead.notna().to_numpy(), ahead.to_numpy(), last.to_numpy())
    return forecast_table(frame, values)


def score(outputs, inputs, small_build):
    return protocol.score_predictions(outputs, inputs=inputs, hidden_dir=small_build / "hidden", options=OPTIONS)


def cut_ends(inputs: dict[str, pd.DataFrame]) -> dict[str, pd.Series]:
    """Per cut copy: each patient's last kept reading (what the cut times show as)."""
    whole = protocol.whole_block_name(inputs)
    return {name: frame.groupby("patient_id")["timestamp"].max() for name, frame in inputs.items() if name != whole}


# --- no oracle: the leakage check with secret cuts -----------------------------------------


@pytest.mark.parametrize("seed", range(10))
def test_a_model_that_cheats_on_the_whole_block_only_is_caught(small_build, seed):
    """The issue's memoriser, made stateless: future readings on the whole block, honest on the copies."""
    inputs = graded_inputs(small_build, seed)
    whole = protocol.whole_block_name(inputs)
    outputs = {name: peeking(frame) if name == whole else persistence(frame) for name, frame in inputs.items()}
    with pytest.raises(FutureLeakage) as caught:
        score(outputs, inputs, small_build)
    error = caught.value
    assert str(error).startswith("future leakage: the ")
    assert error.input_name in inputs and error.input_name != whole
    assert f"(input {error.input_name})" in str(error), "the error says which copy caught it"
    assert "data after" not in str(error)
    others = {str(t) for ends in cut_ends(inputs).values() for t in ends} - {str(error.origin)}
    assert not any(t in str(error) for t in others), "the message names the origin, never a cut time"


def test_leaking_only_after_the_old_published_cut_points_is_caught(small_build):
    """LEAKAGE_CUTS = (0.45, 0.75) no longer exists: cheating after 75 % of each span is caught on every seed."""
    assert not hasattr(protocol, "LEAKAGE_CUTS")
    for seed in range(10):
        inputs = graded_inputs(small_build, seed)
        whole = protocol.whole_block_name(inputs)
        outputs = {n: peeking(f, after_share=0.75) if n == whole else persistence(f) for n, f in inputs.items()}
        with pytest.raises(FutureLeakage):
            score(outputs, inputs, small_build)


def test_a_model_that_peeks_wherever_it_can_is_caught(small_build):
    """Peeking consistently on every input agrees with the copies except just before each cut: still caught."""
    for seed in (0, 1, 2):
        inputs = graded_inputs(small_build, seed)
        with pytest.raises(FutureLeakage):
            score({name: peeking(frame) for name, frame in inputs.items()}, inputs, small_build)


def test_an_honest_model_passes_the_leakage_check(small_build):
    inputs = graded_inputs(small_build, 0)
    evaluation = score({name: persistence(frame) for name, frame in inputs.items()}, inputs, small_build)
    assert evaluation.leakage_checked and evaluation.leakage_copies == protocol.DEFAULT_LEAKAGE_COPIES
    assert evaluation.metrics["rmse_vs_persistence_30"] == pytest.approx(1.0)
    stored = json.dumps(evaluation.to_json(), default=str)
    for ends in cut_ends(inputs).values():
        for t in ends:
            assert str(t) not in stored and t.isoformat() not in stored, "the evaluation keeps no cut time"


def test_cuts_are_drawn_per_patient_and_per_grading(small_build):
    first, second = graded_inputs(small_build, 0), graded_inputs(small_build, 1)
    assert list(first) == [f"block_{n}" for n in range(1, protocol.DEFAULT_LEAKAGE_COPIES + 2)]
    whole = first[protocol.whole_block_name(first)]
    start = whole.groupby("patient_id")["timestamp"].min()
    last = whole.groupby("patient_id")["timestamp"].max()
    for ends in cut_ends(first).values():
        assert (ends >= start + pd.Timedelta(minutes=OPTIONS["warmup_min"])).all() and (ends < last).all()
        offsets = (ends - start[ends.index]).dt.total_seconds()
        assert offsets.nunique() > 0.9 * len(offsets), "each patient has cut times of its own"
    cuts_of = lambda inputs: sorted(tuple(ends.sort_index().astype("int64")) for ends in cut_ends(inputs).values())  # noqa: E731
    assert cuts_of(first) != cuts_of(second), "a new grading draws new cuts"
    again = protocol.model_inputs(small_build / "public", small_build / "hidden", OPTIONS, rng=random.Random(0))
    assert cuts_of(first) == cuts_of(again), "the rng alone decides them"
    positions = {protocol.whole_block_name(graded_inputs(small_build, seed)) for seed in range(8)}
    assert len(positions) > 1, "the whole block is not always the same name"


def test_patients_are_shuffled_and_rows_stay_in_time_order(small_build):
    inputs = graded_inputs(small_build, 3)
    orders = [tuple(frame["patient_id"].drop_duplicates()) for frame in inputs.values()]
    assert len(set(orders)) == len(orders) and all(list(o) != sorted(o) for o in orders)
    for frame in inputs.values():
        assert frame.index.equals(pd.RangeIndex(len(frame)))
        assert frame.groupby("patient_id")["timestamp"].apply(lambda t: t.is_monotonic_increasing).all()
        assert (frame["patient_id"] != frame["patient_id"].shift()).sum() == frame["patient_id"].nunique(), "one run per patient"


def test_every_input_needs_its_output(small_build):
    inputs = graded_inputs(small_build, 0)
    outputs = {name: persistence(frame) for name, frame in inputs.items()}
    dropped = next(name for name in inputs if name != protocol.whole_block_name(inputs))
    del outputs[dropped]
    with pytest.raises(TableError, match=rf"the model's forecasts \({dropped}\): no output for this input"):
        score(outputs, inputs, small_build)


def test_forecasts_outside_the_scored_origins_move_nothing(small_build):
    """Warm-up origins are not scored: any finite forecast there, given alike on every input, changes no figure."""
    inputs = graded_inputs(small_build, 0)
    honest = score({n: persistence(f) for n, f in inputs.items()}, inputs, small_build)

    def wild_warmup(frame):
        out = persistence(frame)
        start = out.groupby("patient_id")["timestamp"].transform("min")
        warm = out["timestamp"] < start + pd.Timedelta(minutes=OPTIONS["warmup_min"])
        return out.assign(predicted_mg_dl=np.where(warm, 399.0, out["predicted_mg_dl"]))

    wild = score({n: wild_warmup(f) for n, f in inputs.items()}, inputs, small_build)
    assert wild.metrics == honest.metrics


# --- exact keys ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def block(small_build):
    inputs = graded_inputs(small_build, 0)
    return inputs[protocol.whole_block_name(inputs)]


def checked(block, output):
    return protocol.check_forecasts(output, block, horizons=HORIZONS, source="the model's forecasts (block_1)")


ROW = 100  # 0-based: the row copied onto the last one


def with_extra_row(output: pd.DataFrame, **changes) -> pd.DataFrame:
    """Row ``ROW`` changed and put in place of the last row (the size stays within the bound)."""
    extra = output.iloc[[ROW]].assign(**changes)
    return pd.concat([output.iloc[:-1], extra], ignore_index=True)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda o: with_extra_row(o, horizon_min=30 + 1e-6), "column horizon_min: 30.000001 is not one of the project's horizons (30, 60 minutes, exactly)"),
        (lambda o: with_extra_row(o, horizon_min=30.5), "column horizon_min: 30.5 is not one of the project's horizons (30, 60 minutes, exactly)"),
        (lambda o: with_extra_row(o, timestamp=o["timestamp"].iloc[ROW] + pd.Timedelta(microseconds=1)), ".000001: forecasts are made at reading times"),
        (lambda o: with_extra_row(o, timestamp=o["timestamp"].iloc[ROW] + pd.Timedelta(nanoseconds=1)), ".000000001: forecasts are made at reading times"),
        (lambda o: with_extra_row(o), f"horizon_min=30.0), first given at row {ROW + 1}"),
        (lambda o: with_extra_row(o, patient_id=f"  {o['patient_id'].iloc[ROW]} "), f"horizon_min=30.0), first given at row {ROW + 1}"),
        (lambda o: with_extra_row(o, predicted_mg_dl=np.nan), "column predicted_mg_dl: missing value (NaN)"),
        (lambda o: with_extra_row(o, predicted_mg_dl=np.inf), "column predicted_mg_dl: not a finite number"),
        (lambda o: with_extra_row(o, patient_id=12), "column patient_id: 12 is int, not text"),
        (lambda o: with_extra_row(o.astype({"patient_id": object}), patient_id=[[1]]), "column patient_id: [1] is list, not text"),
        (lambda o: with_extra_row(o.astype({"predicted_mg_dl": object}), predicted_mg_dl=1 + 2j), "column predicted_mg_dl: not a real number"),
        (lambda o: with_extra_row(o.astype({"timestamp": object}), timestamp="2016-12-18 04:50:23+01:00"), "has a time zone"),
        (lambda o: with_extra_row(o.astype({"timestamp": object}), timestamp=pd.Timestamp("2300-01-01")), "is out of range"),
        (lambda o: with_extra_row(o.astype({"timestamp": object}), timestamp="yesterday"), "column timestamp: not a date/time: 'yesterday'"),
    ],
    ids=["horizon+1e-6", "horizon-30.5", "origin+1us", "origin+1ns", "duplicate-row", "padded-id-duplicate", "nan", "inf",
         "int-id", "list-id", "complex", "zoned-string", "year-2300", "not-a-time"],
)
def test_keys_must_be_exact_and_refusals_name_the_row(block, change, message):
    output = change(persistence(block))
    with pytest.raises(TableError) as caught:
        checked(block, output)
    assert message in str(caught.value)
    assert caught.value.line == len(output), "the extra (last) row is named"
    assert str(caught.value).startswith(f"the model's forecasts (block_1), row {len(output)}: ")


def test_zoned_timestamps_are_refused_not_converted(block):
    output = persistence(block)
    zoned = output.assign(timestamp=output["timestamp"].dt.tz_localize("UTC"))
    with pytest.raises(TableError, match="row 1: column timestamp: time zone UTC given; times carry no time zone"):
        checked(block, zoned)
    mixed = output.astype({"timestamp": object})
    mixed.loc[0, "timestamp"], mixed.loc[1, "timestamp"] = "2016-12-18 04:50:23+01:00", "2016-12-18 04:55:23+02:00"
    with pytest.raises(TableError, match="row 1: column timestamp: .* has a time zone"):
        checked(block, mixed)


def test_equal_keys_in_other_forms_are_accepted(block):
    """Normalising is not refusing: the same times as strings or microseconds, a padded id on its own."""
    output = persistence(block)
    as_text = output.assign(timestamp=output["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S"), horizon_min=output["horizon_min"].astype(float))
    assert len(checked(block, as_text)) == len(output)
    assert len(checked(block, output.assign(timestamp=output["timestamp"].astype("datetime64[us]")))) == len(output)
    padded = output.astype({"patient_id": object})
    padded.loc[0, "patient_id"] = f" {padded.loc[0, 'patient_id']} "
    assert checked(block, padded)["patient_id"].iloc[0] == output["patient_id"].iloc[0]


def test_an_unknown_patient_or_a_time_between_readings_is_refused(block):
    output = persistence(block)
    stranger = output.astype({"patient_id": object})
    stranger.loc[4, "patient_id"] = "P-not-in-the-block"
    with pytest.raises(TableError, match="row 5: patient P-not-in-the-block has no reading at"):
        checked(block, stranger)


# --- bounded outputs -----------------------------------------------------------------------


def test_an_output_larger_than_its_input_allows_is_refused_before_it_is_read(small_build, block):
    limit = protocol.max_output_rows("block_1", block, OPTIONS)
    assert limit == len(block) * len(HORIZONS)
    huge = pd.DataFrame({"x": np.zeros(15_000_000, dtype=np.int8)})
    with pytest.raises(TableError, match=rf"15,000,000 rows, more than the {limit:,} this input allows"):
        checked(block, huge)
    inputs = graded_inputs(small_build, 0)
    outputs = {name: persistence(frame) for name, frame in inputs.items()}
    name = next(iter(inputs))
    outputs[name] = huge
    with pytest.raises(TableError, match=rf"the model's forecasts \({name}\): 15,000,000 rows, more than the"):
        score(outputs, inputs, small_build)
    honest = persistence(block)
    one_too_many = pd.concat([honest, honest.iloc[[0]]], ignore_index=True)
    with pytest.raises(TableError, match=f"{len(one_too_many):,} rows, more than the {limit:,}"):
        checked(block, one_too_many)
