"""Attacks through the submitted model folder itself, which the grader (as root) copies before grading.

A learner's own server keeps running while their submission is staged, so the folder may change
under the copy: links swapped in for folders, files that grow. The copy must take regular files and
folders only, never follow a link, and stay within its size limits whatever happens meanwhile.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from practicum.graders.grading_sandbox import SandboxFailure, stage_model
from practicum.sandbox.limits import MIB
from practicum.sandbox.readback import TreeLimits, UnsafeFile, copy_tree

pytestmark = pytest.mark.usefixtures("nothing_lost_nothing_left")  # conftest: after each attack, all as it was

RENAME_EXCHANGE = 2
AT_FDCWD = -100


def model_folder(folder: Path) -> Path:
    (folder / "sub").mkdir(parents=True)
    (folder / "MLmodel").write_text("flavors: {}\n")
    for name in ("test_outcomes.csv", "canary_labels.csv", *(f"weights_{i}.bin" for i in range(20))):
        (folder / "sub" / name).write_text("decoy\n")
    return folder


def test_links_to_the_labels(attack_build, tmp_path):
    model = model_folder(tmp_path / "model")
    (model / "labels.csv").symlink_to(attack_build.hidden / "ehr_risk" / "test_outcomes.csv")
    with pytest.raises(SandboxFailure, match=r"cannot be graded: labels.csv in .* is a symbolic link"):
        stage_model(model, tmp_path / "staged")


def test_hides_a_fifo_in_the_model(attack_build, tmp_path):
    model = model_folder(tmp_path / "model")
    os.mkfifo(model / "sub" / "blocks-the-reader")
    with pytest.raises(SandboxFailure, match=r"cannot be graded: sub/blocks-the-reader in .* is a FIFO"):
        stage_model(model, tmp_path / "staged")


def test_swaps_a_folder_for_a_link_while_staged(attack_build, tmp_path):
    """A learner's process exchanges sub/ with a link to the hidden labels, over and over (3 s), while the
    grader stages the folder again and again: no copy may ever hold a hidden byte."""
    model = model_folder(tmp_path / "model")
    link = tmp_path / "swap"
    link.symlink_to(attack_build.hidden / "ehr_risk")
    libc = ctypes.CDLL(None, use_errno=True)
    stop = threading.Event()

    def swap() -> None:
        a, b = str(model / "sub").encode(), str(link).encode()
        while not stop.is_set():
            libc.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE)

    swapper = threading.Thread(target=swap, daemon=True)
    swapper.start()
    leaked, copied, refused, deadline = [], 0, 0, time.monotonic() + 3
    try:
        while time.monotonic() < deadline:
            staged = tmp_path / f"staged-{copied + refused}"
            try:
                stage_model(model, staged)
                copied += 1
                leaked += [p for p in staged.rglob("*") if p.is_file() and attack_build.token.encode() in p.read_bytes()]
            except SandboxFailure:
                refused += 1
            shutil.rmtree(staged, ignore_errors=True)
    finally:
        stop.set()
        swapper.join()
    assert leaked == [], f"{len(leaked)} of {copied} copies took hidden files through the swapped link"
    assert copied + refused > 100


def test_grows_while_staged(tmp_path):
    """A file that grows while it is copied (up to 1 GiB in 10 s) is copied no further than the limit."""
    model = model_folder(tmp_path / "model")
    growing = model / "sub" / "weights_0.bin"
    stop = threading.Event()

    def grow() -> None:
        chunk, written, deadline = b"\0" * MIB, 0, time.monotonic() + 10
        with growing.open("ab") as handle:
            while not stop.is_set() and written < 1024 * MIB and time.monotonic() < deadline:
                handle.write(chunk)
                handle.flush()
                written += len(chunk)

    grower = threading.Thread(target=grow, daemon=True)
    grower.start()
    time.sleep(0.05)
    try:
        copy_tree(model, tmp_path / "staged", TreeLimits(max_bytes=64 * MIB))
    except UnsafeFile:
        pass  # refused: as good as bounded
    finally:
        stop.set()
        grower.join()
    staged = sum(p.stat().st_size for p in (tmp_path / "staged").rglob("*") if p.is_file())
    assert staged <= 64 * MIB
