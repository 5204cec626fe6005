import os
import stat

import pytest

from practicum.datasets.splits import (
    SplitFractions,
    assign_splits,
    split_of,
    write_hidden_file,
)

KEY = b"k" * 32


def test_split_depends_only_on_the_patient_and_the_key():
    assert split_of("p1", key=KEY) == split_of("p1", key=KEY)
    few = assign_splits([f"p{i}" for i in range(50)], key=KEY)
    many = assign_splits([f"p{i}" for i in range(500)], key=KEY)
    assert all(many[pid] == split for pid, split in few.items())


def test_fractions_are_respected_roughly():
    assignment = assign_splits([f"patient-{i}" for i in range(5000)], key=KEY)
    counts = {s: sum(1 for v in assignment.values() if v == s) for s in ("train", "val", "test")}
    assert 2800 < counts["train"] < 3200
    assert 850 < counts["val"] < 1150
    assert 850 < counts["test"] < 1150


def test_every_split_gets_a_patient_when_possible():
    assignment = assign_splits(["a", "b", "c"], key=KEY, fractions=SplitFractions(0.98, 0.01, 0.01))
    assert sorted(assignment.values()) == ["test", "train", "val"]


def test_bad_fractions_are_refused():
    with pytest.raises(ValueError):
        SplitFractions(0.5, 0.5, 0.5)


def test_hidden_files_are_owner_only(tmp_path):
    target = tmp_path / "hidden" / "ct" / "test_labels.csv"
    write_hidden_file(target, b"seriesuid,label\n")
    assert target.read_bytes() == b"seriesuid,label\n"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(target.parent).st_mode) == 0o700
