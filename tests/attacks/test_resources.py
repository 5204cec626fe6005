"""Attacks on the sandbox's limits: memory (private, shared, tmpfs), processes, time, the log.

Each ends the run with a failing result whose error says which limit it hit; the grader's own peak
memory stays where it was (measured around the call), and the machine is never at risk: every bomb
is bounded by itself too (see hostile_models).
"""

from __future__ import annotations

import re
import time

import hostile_models as hostile
import pytest
from harness import attack, grader_peak_growth, limits, reported

from practicum.graders.grading_sandbox import SandboxFailure
from practicum.sandbox.limits import MIB

pytestmark = pytest.mark.usefixtures("nothing_lost_nothing_left")  # conftest: after each attack, all as it was

OUT_OF_MEMORY = r"the sandboxed prediction stopped \(it ran out of memory \(the sandbox may use 512 MiB in all, files in /tmp included\)\)"


def attacked(model, attack_build, tmp_path, **options) -> tuple[str, int]:
    """(the error the grader recorded, how far the grader's peak memory rose) for a model that must fail."""
    with grader_peak_growth() as peak, pytest.raises(SandboxFailure) as failure:
        attack(model, attack_build, tmp_path, **options)
    return str(failure.value), peak["growth"]


def test_floods_the_log(attack_build, tmp_path):
    started = time.monotonic()
    error, growth = attacked(hostile.FloodsTheLog(), attack_build, tmp_path, limits=limits(seconds=30))
    assert error.startswith("the model failed during prediction:") and int(re.search(r"flooded the log with (\d+) bytes", error)[1]) >= 256 * MIB
    assert "bytes of output left out" in error and len(error) < 80_000  # head and tail of the log, never all of it
    assert growth < 64 * MIB and time.monotonic() - started < 30


@pytest.mark.parametrize("bomb", [hostile.MemoryBombSharedMmap(), hostile.MemoryBombForkedChildren()], ids=lambda b: type(b).__name__)
def test_memory_bombs_end_out_of_memory(attack_build, tmp_path, bomb):
    error, growth = attacked(bomb, attack_build, tmp_path)
    assert error.startswith("the sandboxed prediction stopped (it ran out of memory"), error[:300]
    assert growth < 64 * MIB


@pytest.mark.parametrize("filler", [hostile.FillsTmp(), hostile.FillsDevShm()], ids=lambda f: type(f).__name__)
def test_filling_a_tmpfs_spends_the_sandbox_memory(attack_build, tmp_path, filler):
    """/tmp and /dev/shm are tmpfs of at most the sandbox's memory, charged to it: the host disk never fills."""
    error, growth = attacked(filler, attack_build, tmp_path)
    if "ran out of memory" not in error:  # the tmpfs filled before the memory limit was reached
        assert "before ENOSPC" in error, error[-500:]
        written = int(error.rsplit("wrote ", 1)[1].split()[0])
        assert written <= 512 * MIB
    assert growth < 64 * MIB


def test_fills_dev(attack_build, tmp_path):
    """bubblewrap's /dev is a tmpfs sized by nothing (half the host's memory): the sandbox may not write it."""
    error, _ = attacked(hostile.FillsDev(), attack_build, tmp_path)
    assert "wrote 0 bytes to /dev before EROFS" in error, error[-500:]


def test_fork_bomb(attack_build, tmp_path):
    error, growth = attacked(hostile.ForkBomb(), attack_build, tmp_path)
    assert error.startswith("the sandboxed prediction stopped (it started more than 512 processes or threads)"), error[:300]
    assert growth < 64 * MIB


def test_infinite_loop(attack_build, tmp_path):
    started = time.monotonic()
    error, _ = attacked(hostile.InfiniteLoop(), attack_build, tmp_path, limits=limits(seconds=6))
    assert error == "prediction took longer than the limit of 6 s"
    assert time.monotonic() - started < 20


def test_an_honest_model_is_still_predicted_after_these_attacks(attack_build, tmp_path):
    assert reported(attack(hostile.HonestReport(), attack_build, tmp_path)) == {"rows": 1}
