"""The nodule-detection protocol: shuffled series, no repeated candidates, bounded outputs."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from practicum.graders.protocols import nodule_detection as protocol
from practicum.graders.tables import TableError

OPTIONS = {"n_bootstrap": 50, "max_candidates_per_scan": 100}


def graded_inputs(small_build, seed: int) -> dict[str, pd.DataFrame]:
    return protocol.model_inputs(small_build / "public", small_build / "hidden", OPTIONS, rng=random.Random(seed))


@pytest.fixture(scope="module")
def inputs(small_build):
    return graded_inputs(small_build, 0)


@pytest.fixture(scope="module")
def perfect(small_build) -> pd.DataFrame:
    annotations = pd.read_csv(small_build / "hidden" / "ct" / "test_annotations.csv", dtype={"seriesuid": str})
    return annotations.drop(columns="diameter_mm").assign(probability=0.9)


def score(output, inputs, small_build, options=OPTIONS):
    return protocol.score_predictions({"test": output}, inputs=inputs, hidden_dir=small_build / "hidden", options=options)


def test_every_public_test_series_in_an_order_drawn_per_grading(small_build, inputs):
    listed = (small_build / "public" / "ct" / "test" / "seriesuids.csv").read_text().split()
    other = graded_inputs(small_build, 1)["test"]["seriesuid"].tolist()
    assert sorted(inputs["test"]["seriesuid"]) == sorted(listed)
    assert inputs["test"]["seriesuid"].tolist() != listed and other != inputs["test"]["seriesuid"].tolist()


def test_the_score_and_its_interval_do_not_depend_on_the_input_order(small_build, inputs, perfect):
    decoys = perfect.assign(coordX=perfect["coordX"] + 40.0, probability=np.linspace(0.1, 0.8, len(perfect)))
    output = pd.concat([perfect.iloc[::2], decoys], ignore_index=True)
    reordered = graded_inputs(small_build, 5)
    assert score(output, inputs, small_build).to_json() == score(output, reordered, small_build).to_json()


@pytest.mark.parametrize("offset_mm", [0.0, 1e-9, 5e-7])
def test_a_candidate_repeated_at_one_position_is_refused(small_build, inputs, perfect, offset_mm):
    repeated = pd.concat([perfect, perfect.iloc[[3]].assign(coordZ=perfect["coordZ"].iloc[3] + offset_mm, probability=0.2)], ignore_index=True)
    with pytest.raises(TableError) as caught:
        score(repeated, inputs, small_build)
    assert caught.value.line == len(repeated)
    if offset_mm:
        assert f"repeats the one at row 4 (within {protocol.DUPLICATE_DISTANCE_MM:g} mm): one candidate per position" in str(caught.value)
    else:
        assert "duplicate entry (seriesuid=" in str(caught.value)


def test_candidates_a_thousandth_of_a_millimetre_apart_are_two_candidates(small_build, inputs, perfect):
    near = pd.concat([perfect, perfect.iloc[[3]].assign(coordZ=perfect["coordZ"].iloc[3] + 1e-3, probability=0.2)], ignore_index=True)
    assert score(near, inputs, small_build).cpm == 1.0


def test_outputs_beyond_the_bound_are_refused(small_build, inputs, perfect):
    limit = protocol.max_output_rows("test", inputs["test"], OPTIONS)
    assert limit == 10 * 100 * len(inputs["test"])
    with pytest.raises(TableError, match=rf"the model's predictions: 15,000,000 rows, more than the {limit:,} this input allows"):
        score(pd.DataFrame({"x": np.zeros(15_000_000, dtype=np.int8)}), inputs, small_build)
    uid = inputs["test"]["seriesuid"].iloc[0]
    box = protocol.volume_box(Path(inputs["test"]["series_dir"].iloc[0]))
    centre = (np.asarray(box.lower) + np.asarray(box.upper)) / 2
    crowd = pd.DataFrame({"seriesuid": uid, "coordX": centre[0], "coordY": centre[1],
                          "coordZ": centre[2] + 1e-9 * np.arange(limit), "probability": 0.5})
    with pytest.raises(TableError, match=r"row 2: candidate .* repeats the one at row 1"):
        score(crowd, inputs, small_build)  # at the bound: read, and refused in linear memory
