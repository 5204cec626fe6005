"""Grading the annotation practice: the LUNA16 hit rule at its boundary, malformed and hostile files."""

from __future__ import annotations

import math
import os

import pandas as pd
import pytest

from practicum.graders.protocols.annotation_agreement import (
    MAX_FILE_BYTES,
    grade_annotation_file,
    practice_series,
    read_marks,
    score_annotations,
)
from practicum.graders.tables import TableError

HEADER = "seriesuid,coordX,coordY,coordZ,diameter_mm\n"
UIDS = ["1.1", "1.2"]


def _table(rows):
    return pd.DataFrame(rows, columns=["seriesuid", "coordX", "coordY", "coordZ", "diameter_mm"])


REFERENCE = _table([("1.1", 0.0, 0.0, 0.0, 10.0), ("1.1", 50.0, 0.0, 0.0, 6.0), ("1.2", 0.0, 0.0, 0.0, 8.0)])


def test_a_mark_hits_strictly_inside_the_radius():
    inside = score_annotations(_table([("1.1", 4.999, 0.0, 0.0, 10.0)]), REFERENCE, seriesuids=UIDS)
    on_edge = score_annotations(_table([("1.1", 5.0, 0.0, 0.0, 10.0)]), REFERENCE, seriesuids=UIDS)
    assert (inside.n_matched, inside.n_false_marks) == (1, 0)
    assert (on_edge.n_matched, on_edge.n_false_marks) == (0, 1)  # distance == radius is not a hit (LUNA16: strictly less)


def test_the_hit_is_per_scan_and_uses_the_reference_diameter():
    other_scan = score_annotations(_table([("1.2", 50.0, 0.0, 0.0, 6.0)]), REFERENCE, seriesuids=UIDS)
    assert other_scan.n_matched == 0 and other_scan.n_false_marks == 1
    big_mark = score_annotations(_table([("1.1", 50.0, 3.5, 0.0, 30.0)]), REFERENCE, seriesuids=UIDS)
    assert big_mark.n_matched == 0  # the learner's diameter does not widen the hit


def test_counts_sensitivity_false_marks_f1_and_diameter_bias():
    marks = _table([
        ("1.1", 1.0, 0.0, 0.0, 12.0),  # hit nodule 1 (diameter +2)
        ("1.1", -1.0, 0.0, 0.0, 9.0),  # same nodule again: duplicate, not false
        ("1.2", 0.0, 1.0, 0.0, 6.0),  # hit (diameter -2)
        ("1.2", 80.0, 0.0, 0.0, 6.0),  # false mark
    ])
    result = score_annotations(marks, REFERENCE, seriesuids=UIDS)
    assert (result.n_matched, result.n_missed, result.n_false_marks, result.n_duplicate_marks) == (2, 1, 1, 1)
    assert result.sensitivity == pytest.approx(2 / 3)
    assert result.false_marks_per_scan == 0.5
    assert result.f1 == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))
    assert result.diameter_bias_mm == pytest.approx(0.0) and result.diameter_abs_error_mm == pytest.approx(2.0)
    assert not result.passed and result.to_json()["passed"] is False


def test_a_mark_on_an_excluded_finding_is_ignored():
    excluded = _table([("1.2", 80.0, 0.0, 0.0, -1.0)])  # a non-nodule: 10 mm diameter by LUNA16's rule
    result = score_annotations(_table([("1.2", 83.0, 0.0, 0.0, 6.0)]), REFERENCE, seriesuids=UIDS, excluded=excluded)
    assert result.n_false_marks == 0 and result.n_ignored_marks == 1


def test_no_marks_scores_zero_and_json_has_no_nan():
    result = score_annotations(_table([]), REFERENCE, seriesuids=UIDS)
    assert result.sensitivity == 0.0 and result.f1 == 0.0 and math.isnan(result.diameter_bias_mm)
    assert result.to_json()["diameter_bias_mm"] is None


def _write(tmp_path, text, name="marks.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "empty file"),
        ("seriesuid,x,y,z,d\n", "missing column"),
        (HEADER + "1.1,1,2\n", "3 fields"),
        (HEADER + "1.1,abc,0,0,5\n", "not a number"),
        (HEADER + "1.1,nan,0,0,5\n", "NaN"),
        (HEADER + "1.1,inf,0,0,5\n", "not a finite number"),
        (HEADER + "1.1,1e999,0,0,5\n", "not a finite number"),
        (HEADER + "1.1,0,0,0,-1\n", r"not in \(0, 100\]"),
        (HEADER + "1.1,0,0,0,1e300\n", r"not in \(0, 100\]"),
        (HEADER + "9.9,0,0,0,5\n", "not one of the 2 evaluated series"),
        (HEADER + "1.1,0,0,0,5\n1.1,0,0,0,6\n", "one candidate per position"),
    ],
)
def test_malformed_files_get_a_clear_error_naming_the_file(tmp_path, body, message):
    path = _write(tmp_path, body)
    with pytest.raises(TableError, match=message) as caught:
        read_marks(path, seriesuids=UIDS)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_hostile_files_are_refused(tmp_path):
    huge = _write(tmp_path, HEADER + "1.1,0,0,0,5\n" * (MAX_FILE_BYTES // 10), "huge.csv")
    with pytest.raises(TableError, match="larger than"):
        read_marks(huge, seriesuids=UIDS)
    secret = _write(tmp_path, "seriesuid,coordX,coordY,coordZ,diameter_mm\n1.1,0,0,0,5\n", "secret.csv")
    os.symlink(secret, tmp_path / "link.csv")
    with pytest.raises(TableError, match="symbolic link"):
        read_marks(tmp_path / "link.csv", seriesuids=UIDS)
    os.mkfifo(tmp_path / "fifo.csv")
    with pytest.raises(TableError, match="not a regular file"):
        read_marks(tmp_path / "fifo.csv", seriesuids=UIDS)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(TableError, match="not UTF-8"):
        read_marks(binary, seriesuids=UIDS)
    many = _write(tmp_path, HEADER + "".join(f"1.1,{i},0,0,5\n" for i in range(101)), "many.csv")
    with pytest.raises(TableError, match="at most 100"):
        read_marks(many, seriesuids=UIDS)
    with pytest.raises(TableError, match="no such file"):
        read_marks(tmp_path / "absent.csv", seriesuids=UIDS)


def test_huge_coordinates_are_outside_the_scan_not_a_crash(small_build, tmp_path):
    uid = practice_series(small_build / "public")[0]
    path = _write(tmp_path, HEADER + f"{uid},1e300,-1e300,1e300,5\n")
    with pytest.raises(TableError, match="lies outside series.*world coordinates"):
        grade_annotation_file(path, public_dir=small_build / "public", hidden_dir=small_build / "hidden")
    # scored without the volume check, a far mark is only a false mark
    result = score_annotations(_table([(uid, 1e300, -1e300, 1e300, 5.0)]), REFERENCE.assign(seriesuid=uid), seriesuids=[uid])
    assert result.n_false_marks == 1 and result.n_matched == 0


def test_a_submission_folder_is_graded_from_its_marks_file(small_build, tmp_path):
    from practicum.graders.protocols.annotation_agreement import grade_annotation_submission

    with pytest.raises(TableError, match="no such file"):
        grade_annotation_submission(tmp_path, public_dir=small_build / "public", hidden_dir=small_build / "hidden")
    uid = practice_series(small_build / "public")[0]
    reference = pd.read_csv(small_build / "hidden" / "ct" / "practice_annotations.csv", dtype={"seriesuid": str})
    row = reference[reference["seriesuid"] == uid].iloc[0]
    _write(tmp_path, HEADER + f"{uid},{row.coordX},{row.coordY},{row.coordZ},{row.diameter_mm}\n", "annotations.csv")
    result = grade_annotation_submission(tmp_path, public_dir=small_build / "public", hidden_dir=small_build / "hidden")
    assert result.n_matched == 1 and result.n_false_marks == 0 and result.n_reference_nodules == len(reference)
    assert result.to_json()["n_reference_nodules"] == len(reference)
