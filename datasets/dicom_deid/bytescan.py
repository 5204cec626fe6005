"""Find any of many byte strings in a file's bytes, fast (case-insensitive for ASCII).

Every position of the file is keyed by the 8 (or 4) bytes that end there; a needle is
looked up by its last 8 (or 4) bytes, so one vectorised membership test finds every
candidate position for thousands of needles at once, and only those few positions are
compared in full. Needles shorter than 4 bytes are not supported.

Numbers are matched as whole tokens: a needle made only of digits does not count where
two or more digits run on right before or after it, and one made of digits and dots (a
UID) where two or more digits or dots do. Without this, a six-digit time of day would be
"found" inside every long numeric UID. A single neighbouring digit does not stop a match,
because binary bytes next to a value can look like one (the tag of a (0038,xxxx) element
starts with the byte of "8").
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np


def _windows(data: bytes, k: int) -> np.ndarray:
    """All k-byte windows of ``data`` as unsigned integers (a strided view, no copy)."""
    n = len(data) - k + 1
    if n <= 0:
        return np.zeros(0, dtype=f"<u{k}")
    return np.ndarray(shape=(n,), dtype=f"<u{k}", buffer=data, offset=0, strides=(1,))


def _key(needle: bytes, k: int) -> int:
    return int.from_bytes(needle[-k:], "little")


_DIGITS = frozenset(b"0123456789")
_UID_CHARS = frozenset(b"0123456789.")


def _run(data: bytes, i: int, step: int, chars: frozenset[int]) -> int:
    """How many bytes of ``chars`` run from index ``i`` in direction ``step`` (at most 2 counted)."""
    n = 0
    while 0 <= i < len(data) and data[i] in chars and n < 2:
        n += 1
        i += step
    return n


def _boundary(needle: bytes) -> frozenset[int] | None:
    """Bytes that may not touch a numeric needle (None: any neighbour is fine)."""
    chars = set(needle)
    if chars <= _DIGITS:
        return _DIGITS
    if chars <= _UID_CHARS:
        return _UID_CHARS
    return None


class NeedleIndex:
    """A set of needles (bytes, each with a label) to search for in many haystacks."""

    def __init__(self, needles: list[tuple[bytes, object]]) -> None:
        self._by_key: dict[int, dict[int, list[tuple[bytes, object, frozenset[int] | None]]]] = {
            8: defaultdict(list),
            4: defaultdict(list),
        }
        for needle, label in needles:
            nb = needle.lower()
            if len(nb) < 4:
                raise ValueError(f"needle shorter than 4 bytes: {needle!r}")
            k = 8 if len(nb) >= 8 else 4
            self._by_key[k][_key(nb, k)].append((nb, label, _boundary(nb)))
        self._keys = {k: np.array(sorted(v), dtype=f"<u{k}") for k, v in self._by_key.items()}

    def __len__(self) -> int:
        return sum(len(lst) for by in self._by_key.values() for lst in by.values())

    def find(self, data: bytes) -> list[tuple[object, int]]:
        """(label, offset) of every needle occurrence in ``data`` (ASCII case ignored)."""
        low = data.lower()
        found: list[tuple[object, int]] = []
        for k, keys in self._keys.items():
            if keys.size == 0:
                continue
            w = _windows(low, k)
            if w.size == 0:
                continue
            idx = np.searchsorted(keys, w)
            np.minimum(idx, keys.size - 1, out=idx)
            pos = np.flatnonzero(keys[idx] == w)
            for p in pos.tolist():
                end = p + k
                for nb, label, fence in self._by_key[k][int(w[p])]:
                    start = end - len(nb)
                    if start < 0 or low[start:end] != nb:
                        continue
                    if fence is not None and (_run(low, start - 1, -1, fence) >= 2 or _run(low, end, 1, fence) >= 2):
                        continue
                    found.append((label, start))
        return found
