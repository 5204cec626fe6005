"""Checked tables: every problem names the file and line (or the model output's row)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from practicum.graders.tables import Column, TableError, TableSpec, check_frame, read_table

SPEC = TableSpec(
    (Column("id", "text"), Column("x", "number"), Column("p", "probability"), Column("y", "binary")),
    key=("id",),
)


def write(tmp_path, text: str):
    path = tmp_path / "table.csv"
    path.write_text(text)
    return path


def test_a_good_file_is_converted_with_its_line_numbers(tmp_path):
    table = read_table(write(tmp_path, "id,x,p,y,extra\na,1.5,0.2,1,z\n\nb,-2,1,0,z\n"), SPEC)
    assert table["_line"].tolist() == [2, 4]  # the blank line 3 is skipped but counted
    assert table["x"].tolist() == [1.5, -2.0] and table["y"].tolist() == [1, 0]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("", 1, "empty file"),
        ("id,x,p\na,1,0.5\n", 1, "missing column(s) y"),
        ("id,x,p,y\na,1,0.5,1\nb,nan,0.5,1\n", 3, "column x: missing value (NaN)"),
        ("id,x,p,y\na,,0.5,1\n", 2, "column x: missing value (NaN)"),
        ("id,x,p,y\na,one,0.5,1\n", 2, "column x: not a number: 'one'"),
        ("id,x,p,y\na,inf,0.5,1\n", 2, "not a finite number"),
        ("id,x,p,y\na,1,1.5,1\n", 2, "probability 1.5 is outside [0, 1]"),
        ("id,x,p,y\na,1,0.5,2\n", 2, "label '2' is not 0 or 1"),
        ("id,x,p,y\na,1,0.5,1\na,2,0.5,0\n", 3, "duplicate entry (id=a)"),
        ("id,x,p,y\na,1,0.5\n", 2, "3 fields, but the header has 4"),
        ("id,x,p,y\n,1,0.5,1\n", 2, "column id: empty value"),
    ],
)
def test_bad_files_name_the_line(tmp_path, text, line, fragment):
    with pytest.raises(TableError) as caught:
        read_table(write(tmp_path, text), SPEC)
    assert caught.value.line == line
    assert fragment in str(caught.value)
    assert f"table.csv, line {line}" in str(caught.value)


def test_binary_garbage_and_missing_files_are_clear(tmp_path):
    path = tmp_path / "table.csv"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(TableError, match="not UTF-8"):
        read_table(path, SPEC)
    with pytest.raises(TableError, match="no such file"):
        read_table(tmp_path / "absent.csv", SPEC)


def test_model_outputs_name_the_row():
    frame = pd.DataFrame({"id": ["a", "b"], "x": [1.0, math.nan], "p": [0.1, 0.2], "y": [0, 1]})
    with pytest.raises(TableError, match=r"the model, row 2: column x: missing value"):
        check_frame(frame, SPEC, source="the model")
    with pytest.raises(TableError, match="expected a pandas DataFrame"):
        check_frame([1, 2], SPEC, source="the model")
