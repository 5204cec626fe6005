"""OhioT1DM XML -> the lab's cgm dataset, read back by the glucose grader and its persistence baseline."""

from __future__ import annotations

import random
import re

import pandas as pd
import pytest
from public_dataset_copies import OHIO_PATIENTS, write_ohiot1dm

from practicum.datasets.imports import DatasetImportError, import_dataset
from practicum.datasets.pipeline import load_or_create_key, synthetic_build_key
from practicum.graders.protocols import glucose_forecasting as protocol
from practicum.projects.glucose_cgm_forecasting.baseline import build_baseline

OPTIONS = {"horizons_min": [30, 60], "warmup_min": 60, "leakage_copies": 2}


def test_an_import_is_graded_like_the_lab_build(tmp_path):
    report = import_dataset("ohiot1dm", write_ohiot1dm(tmp_path / "ohio"), tmp_path / "build")
    public, hidden = tmp_path / "build" / "public", tmp_path / "build" / "hidden"
    assert report.counts["patients"] == 3 and report.notes == ["not imported: finger_stick (3 events)"]
    train = pd.read_csv(public / "cgm" / "train_cgm.csv", dtype={"patient_id": str})
    assert train["patient_id"].nunique() == 3 and not set(train["patient_id"]) & set(OHIO_PATIENTS)
    assert train["glucose_mg_dl"].isna().sum() == 3 * 8  # the 40-minute gap as empty 5-minute readings
    events = pd.read_csv(public / "cgm" / "train_events.csv")
    assert {"meal", "bolus", "basal_rate", "exercise"} <= set(events["event"])
    assert (events.loc[events["event"] == "basal_rate", "value"] == 0).any()  # the temporary basal
    inputs = protocol.model_inputs(public, hidden, OPTIONS, rng=random.Random(1))
    whole = inputs[protocol.whole_block_name(inputs)]
    assert whole["event_meal"].sum() > 0 and whole["event_basal_rate"].notna().any()
    baseline = build_baseline(public)  # the project's own persistence baseline, fitted on the imported train block
    outputs = {name: baseline.predict(None, frame) for name, frame in inputs.items()}
    evaluation = protocol.score_predictions(outputs, inputs=inputs, hidden_dir=hidden, options=OPTIONS)
    assert evaluation.metrics["rmse_vs_persistence_30"] == pytest.approx(1.0)
    assert evaluation.units == {"truth": "mg/dL", "forecasts": "mg/dL"}
    card = (public / "cgm" / "CARD.md").read_text()
    assert "OhioT1DM" in card and "Simulated" not in card
    assert (tmp_path / "build" / "reports" / "import_cgm.json").is_file()


def test_real_data_never_uses_a_synthetic_build_s_derived_key(tmp_path):
    build = tmp_path / "build"
    derived = load_or_create_key(build / "secrets" / "deid.key", derived=synthetic_build_key("small", 0))
    import_dataset("ohiot1dm", write_ohiot1dm(tmp_path / "ohio", days=1), build)
    own = (build / "secrets" / "import.key").read_text().strip()
    assert len(own) == 64 and bytes.fromhex(own) != derived


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: p.write_text(p.read_text()[:-40]), "not well-formed XML"),
        (lambda p: p.write_text(p.read_text().replace("<patient id", "<person id").replace("</patient>", "</person>")),
         "not an OhioT1DM file"),
        (lambda p: p.write_text(p.read_text().replace('value="1', 'value="x', 1)), "not a number"),
        (lambda p: p.write_text(re.sub(r'ts="[^"]+"', 'ts="2027-01-27 00:04"', p.read_text(), count=1)), "not a time dd-mm-YYYY"),
    ],
)
def test_a_malformed_file_is_named_and_the_stored_dataset_kept(tmp_path, damage, message):
    build = tmp_path / "build"
    import_dataset("ohiot1dm", write_ohiot1dm(tmp_path / "good"), build)
    before = (build / "public" / "cgm" / "train_cgm.csv").read_bytes()
    bad = write_ohiot1dm(tmp_path / "bad", seed=1)
    damage(bad / "563-ws-training.xml")
    with pytest.raises(DatasetImportError, match=message) as error:
        import_dataset("ohiot1dm", bad, build)
    assert "563-ws-training.xml" in str(error.value)
    assert (build / "public" / "cgm" / "train_cgm.csv").read_bytes() == before
    assert not [p for p in build.iterdir() if p.name.startswith(".import-")]


def test_a_folder_without_xml_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetImportError, match="no OhioT1DM XML files"):
        import_dataset("ohiot1dm", tmp_path / "empty", tmp_path / "build")
    assert not (tmp_path / "build" / "public").exists()

