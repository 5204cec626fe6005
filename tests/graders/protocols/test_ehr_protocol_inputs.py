"""The complication-risk protocol gives the model every test patient, scores the defined labels only."""

from __future__ import annotations

import random
import zlib

import numpy as np
import pandas as pd
import pytest

from practicum.graders.protocols import complication_risk as protocol
from practicum.graders.tables import TableError

OPTIONS = {"label": "retinopathy_5y"}  # the project's (projects/ehr_complication_risk)


def graded_inputs(small_build, seed: int) -> dict[str, pd.DataFrame]:
    return protocol.model_inputs(small_build / "public", small_build / "hidden", OPTIONS, rng=random.Random(seed))


def some_model(model_input: pd.DataFrame) -> pd.DataFrame:
    """A fixed, label-blind probability per patient."""
    p = [zlib.crc32(pid.encode()) % 1000 / 1000 for pid in model_input["patient_id"]]
    return pd.DataFrame({"patient_id": model_input["patient_id"], "probability": p})


def score(output, inputs, small_build):
    return protocol.score_predictions({"test": output}, inputs=inputs, hidden_dir=small_build / "hidden", options=OPTIONS)


def test_the_model_gets_every_public_test_patient_and_only_defined_labels_are_scored(small_build):
    inputs = graded_inputs(small_build, 0)
    given = inputs["test"]["patient_id"].tolist()
    public = pd.read_csv(small_build / "public" / "ehr_risk" / "test" / "patients.csv", dtype=str)["patient_id"]
    hidden = pd.read_csv(small_build / "hidden" / "ehr_risk" / "test_outcomes.csv", dtype={"patient_id": str})
    defined = hidden.dropna(subset=[OPTIONS["label"]])["patient_id"]
    assert sorted(given) == sorted(public) and len(set(given)) == len(given)
    assert set(defined) < set(given), "the input does not tell which patients are scored"
    assert list(inputs["test"].columns) == ["patient_id", "ehr_dir"]
    assert set(inputs["test"]["ehr_dir"]) == {str(small_build / "public" / "ehr_risk" / "test")}
    evaluation = score(some_model(inputs["test"]), inputs, small_build)
    assert evaluation.n_patients == len(defined) < len(given)
    assert evaluation.n_positive == int(hidden[OPTIONS["label"]].sum())


def test_the_order_is_drawn_per_grading_and_does_not_change_the_score(small_build):
    first, second = graded_inputs(small_build, 0), graded_inputs(small_build, 1)
    files_order = pd.read_csv(small_build / "public" / "ehr_risk" / "test" / "outcomes.csv", dtype=str)["patient_id"].tolist()
    assert first["test"]["patient_id"].tolist() != second["test"]["patient_id"].tolist()
    assert first["test"]["patient_id"].tolist() != files_order
    one, two = score(some_model(first["test"]), first, small_build), score(some_model(second["test"]), second, small_build)
    assert one.to_json() == two.to_json()


def test_a_missing_probability_is_refused_alike_for_scored_and_unscored_patients(small_build):
    """The refusal must not tell which patients are scored."""
    inputs = graded_inputs(small_build, 0)
    hidden = pd.read_csv(small_build / "hidden" / "ehr_risk" / "test_outcomes.csv", dtype={"patient_id": str})
    unscored = hidden.loc[hidden[OPTIONS["label"]].isna(), "patient_id"].iloc[0]
    scored = hidden.loc[hidden[OPTIONS["label"]].notna(), "patient_id"].iloc[0]
    messages = []
    for pid in (unscored, scored):
        output = some_model(inputs["test"])
        with pytest.raises(TableError) as caught:
            score(output[output["patient_id"] != pid], inputs, small_build)
        messages.append(str(caught.value).replace(pid, "<id>"))
    assert messages[0] == messages[1]
    assert f"(1 of {len(inputs['test'])} patients missing)" in messages[0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda o: o.assign(patient_id=o["patient_id"].where(o.index != 3, "P-stranger")), "row 4: patient 'P-stranger' is not in the evaluated cohort"),
        (lambda o: pd.concat([o.iloc[:-1], o.iloc[[5]].assign(patient_id=f" {o['patient_id'].iloc[5]}  ")], ignore_index=True), "duplicate entry (patient_id="),
        (lambda o: o.astype({"patient_id": object}).assign(patient_id=lambda f: f["patient_id"].where(f.index != 2, 7)), "row 3: column patient_id: 7 is int, not text"),
        (lambda o: o.assign(probability=np.where(o.index == 1, 1.5, o["probability"])), "row 2: column probability: probability 1.5 is outside [0, 1]"),
        (lambda o: o.assign(probability=np.where(o.index == 1, np.nan, o["probability"])), "row 2: column probability: missing value (NaN)"),
    ],
    ids=["stranger", "padded-duplicate", "int-id", "outside", "nan"],
)
def test_malformed_predictions_are_refused_with_the_row(small_build, change, message):
    inputs = graded_inputs(small_build, 0)
    with pytest.raises(TableError, match=None) as caught:
        score(change(some_model(inputs["test"])), inputs, small_build)
    assert message in str(caught.value)


def test_more_rows_than_patients_are_refused(small_build):
    inputs = graded_inputs(small_build, 0)
    limit = protocol.max_output_rows("test", inputs["test"], OPTIONS)
    assert limit == len(inputs["test"])
    with pytest.raises(TableError, match=rf"the model's predictions: 15,000,000 rows, more than the {limit:,} this input allows"):
        score(pd.DataFrame({"x": np.zeros(15_000_000, dtype=np.int8)}), inputs, small_build)
