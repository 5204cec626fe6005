"""Attacks through what a model hands back: its result channel is an attack on the grader.

The grader checks a table from its Parquet footer before it loads anything, and decodes it only in a
bounded child (call_bounded, as grade_model does): a lie, a bomb or a payload fails that grading with a
clear reason and leaves the grader's memory where it was.
"""

from __future__ import annotations

import base64
import io
import pickle

import hostile_models as hostile
import numpy as np
import pandas as pd
import parquet_footer
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from harness import attack, grader_peak_growth, reported

from practicum.graders.bounded_call import Refused, call_bounded
from practicum.graders.grading_sandbox import SandboxFailure
from practicum.graders.tables import TableError
from practicum.sandbox.limits import MIB

pytestmark = pytest.mark.usefixtures("nothing_lost_nothing_left")  # conftest: after each attack, all as it was


def test_returns_huge_table(attack_build, tmp_path):
    with grader_peak_growth() as peak, pytest.raises(SandboxFailure, match=r"15,000,000 rows, but at most 10 are expected for this input"):
        attack(hostile.ReturnsHugeTable(), attack_build, tmp_path)
    assert peak["growth"] < 64 * MIB


def test_returns_garbage_bytes(attack_build, tmp_path):
    with pytest.raises(TableError, match=r"the model's output for 'x': not a Parquet table"):
        attack(hostile.ReturnsGarbageBytes(), attack_build, tmp_path)


def test_returns_table_lying_in_footer(attack_build, tmp_path):
    """The footer claims one row; its pages decode to two million. Decoding happens in the bounded child."""
    buffer = io.BytesIO()
    pd.DataFrame({"probability": np.full(2_000_000, 0.5)}).to_parquet(buffer, index=False)
    lying = parquet_footer.lie_about_rows(buffer.getvalue(), num_rows=1, total_byte_size=100)
    predictions = attack(hostile.ReturnsTableLyingInFooter(payload=lying), attack_build, tmp_path)  # the footer passes
    with grader_peak_growth() as peak, pytest.raises(Refused, match=r"holds another number of rows than its footer says"):
        call_bounded(predictions.frame, "x", refusals=(TableError,), memory_bytes=512 * MIB, seconds=60)
    assert peak["growth"] < 64 * MIB


def test_bloats_the_footer(attack_build, tmp_path):
    """8 MiB of Thrift row groups would cost the grader about 2 GiB to parse (a few hundred times their size)."""
    with grader_peak_growth() as peak, pytest.raises(SandboxFailure, match=r"the model's output for 'x': its Parquet footer is 8 MiB, more than 1 MiB"):
        attack(hostile.BloatsTheFooter(), attack_build, tmp_path)
    assert peak["growth"] < 64 * MIB


class CreatesAFile:
    """Unpickled, it creates ``path`` (as the grader, on the host)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_pickle_payload_in_output(attack_build, tmp_path):
    marker = tmp_path / "created-by-the-payload"
    payload = pickle.dumps(CreatesAFile(str(marker)))
    extension = {b"ARROW:extension:name": b"arrow.py_extension_type", b"ARROW:extension:metadata": payload}
    schema = pa.schema([pa.field("patient_id", pa.string()), pa.field("probability", pa.float64(), metadata=extension)])
    buffer = io.BytesIO()
    pq.write_table(pa.table({"patient_id": ["P1"], "probability": [0.5]}, schema=schema), buffer)
    assert payload in base64.b64decode(pq.ParquetFile(io.BytesIO(buffer.getvalue())).metadata.metadata[b"ARROW:schema"])  # it travels
    predictions = attack(hostile.PicklePayloadInOutput(payload=buffer.getvalue()), attack_build, tmp_path)
    in_child = call_bounded(predictions.frame, "x", refusals=(TableError,), memory_bytes=512 * MIB, seconds=60)
    in_grader = predictions.frame("x")  # even loaded in the grader's own process
    assert not marker.exists(), "the pickled payload ran in the grader"
    assert list(in_grader["probability"]) == [0.5] and in_child["probability"].dtype == np.float64  # a plain column, nothing unpickled
    assert not hasattr(pa, "PyExtensionType")  # pyarrow >= 21: no type that unpickles its metadata exists


def test_floods_the_result_channel(attack_build, tmp_path):
    with grader_peak_growth() as peak, pytest.raises(SandboxFailure, match=r"stopped \(its output was larger than 256 MiB\)"):
        attack(hostile.FloodsTheResultChannel(), attack_build, tmp_path)
    assert (tmp_path / "work" / "x.output.parquet").stat().st_size <= 256 * MIB
    assert peak["growth"] < 64 * MIB


def test_an_honest_model_is_still_predicted_after_these_attacks(attack_build, tmp_path):
    assert reported(attack(hostile.HonestReport(), attack_build, tmp_path)) == {"rows": 1}
