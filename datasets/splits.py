"""Train / validation / hidden-test splits by patient, and the hidden labels kept apart.

A patient's records all land in one split (no leakage between splits). The split
of a patient depends only on a keyed hash of their (de-identified) id, so adding
patients never moves existing ones.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class SplitFractions:
    train: float = 0.6
    val: float = 0.2
    test: float = 0.2

    def __post_init__(self) -> None:
        if min(self.train, self.val, self.test) < 0 or abs(self.train + self.val + self.test - 1) > 1e-9:
            raise ValueError("split fractions must be non-negative and add up to 1")


def split_of(patient_id: str, *, key: bytes, fractions: SplitFractions = SplitFractions()) -> str:
    digest = hmac.new(key, patient_id.encode(), hashlib.sha256).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    if position < fractions.train:
        return "train"
    if position < fractions.train + fractions.val:
        return "val"
    return "test"


def assign_splits(
    patient_ids: Iterable[str], *, key: bytes, fractions: SplitFractions = SplitFractions()
) -> dict[str, str]:
    """patient id -> split; every split gets at least one patient when there are three or more."""
    ids = sorted(set(patient_ids))
    assignment = {pid: split_of(pid, key=key, fractions=fractions) for pid in ids}
    if len(ids) >= 3:
        for split in SPLITS:
            if split not in assignment.values():
                # Take a patient from the largest split, the same one on every run.
                counts = {s: sum(1 for v in assignment.values() if v == s) for s in SPLITS}
                donor = max(counts, key=lambda s: counts[s])
                moved = sorted(pid for pid, s in assignment.items() if s == donor)[-1]
                assignment[moved] = split
    return assignment


def make_public_readable(folder: Path) -> int:
    """Folders 0755 and files 0644 under ``folder`` (what sandboxes read as an unprivileged uid; atomic
    writes through mkstemp leave files 0600). Returns how many entries were changed."""
    changed = 0
    for root, dirs, files in os.walk(folder):
        for name, mode in [*((d, 0o755) for d in dirs), *((f, 0o644) for f in files)]:
            path = os.path.join(root, name)
            if not os.path.islink(path) and stat.S_IMODE(os.lstat(path).st_mode) != mode:
                os.chmod(path, mode)
                changed += 1
    os.chmod(folder, 0o755)
    return changed


def unreadable_by_others(folder: Path, limit: int = 3) -> list[str]:
    """Up to ``limit`` entries under ``folder`` that a sandbox's unprivileged uid could not read."""
    found = []
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = os.path.join(root, name)
            mode = os.lstat(path).st_mode
            wanted = stat.S_IROTH | (stat.S_IXOTH if stat.S_ISDIR(mode) else 0)
            if not stat.S_ISLNK(mode) and mode & wanted != wanted:
                found.append(path)
                if len(found) >= limit:
                    return found
    return found


def make_hidden_dir(path: Path) -> Path:
    """A folder only its owner (the grader) can read; sandboxes never mount it."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def write_hidden_file(path: Path, content: bytes) -> None:
    make_hidden_dir(path.parent)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    os.replace(tmp, path)
