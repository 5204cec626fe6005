"""Strict CSV reading with errors that name the file and line, and atomic folder output.

Input files are opened read-only and never modified. A file is rejected - with the
file name and the line - when its bytes are not UTF-8, a record has more or fewer fields
than the header, a field is larger than the limit, it contains NUL bytes, or the header
is empty or repeats a column, or it holds NUL bytes.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_FIELD_CHARS = 1_000_000


class DeidInputError(ValueError):
    """Bad input: the message names the file (and line where there is one)."""

    def __init__(self, file: str | Path, message: str, line: int | None = None) -> None:
        self.file = str(file)
        self.line = line
        self.reason = message
        where = f"{self.file}:{line}" if line is not None else self.file
        super().__init__(f"{where}: {message}")


@contextlib.contextmanager
def _field_limit(limit: int) -> Iterator[None]:
    previous = csv.field_size_limit()
    csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def decode_utf8(path: Path) -> str:
    """The file's text; a BOM is dropped; invalid bytes raise with the line they are on."""
    raw = path.read_bytes()
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise DeidInputError(path, "contains NUL bytes (binary data, or UTF-16?)", raw.count(b"\n", 0, nul) + 1)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise DeidInputError(
            path, f"not valid UTF-8 (byte 0x{raw[err.start]:02x} at offset {err.start}); re-export as UTF-8", line
        ) from None


@dataclass(frozen=True)
class CSVChunk:
    """Rows of one chunk and the physical line where each record starts."""

    rows: list[list[str]]
    lines: list[int]


def read_header(path: Path, text: str) -> list[str]:
    first = next(csv.reader(io.StringIO(text)), None)
    if not first or all(not c.strip() for c in first):
        raise DeidInputError(path, "empty file or empty header line", 1)
    header = [c.strip() for c in first]
    seen: set[str] = set()
    for name in header:
        if not name:
            raise DeidInputError(path, "header has an empty column name", 1)
        if name in seen:
            raise DeidInputError(path, f"header repeats column {name!r}", 1)
        seen.add(name)
    return header


def iter_chunks(
    path: Path, text: str, n_columns: int, *, chunk_rows: int = 50_000, max_field_chars: int = DEFAULT_MAX_FIELD_CHARS
) -> Iterator[CSVChunk]:
    """Data records in chunks; every record must have ``n_columns`` fields."""
    with _field_limit(max_field_chars):
        reader = csv.reader(io.StringIO(text), strict=True)
        line_after = 0
        rows: list[list[str]] = []
        lines: list[int] = []
        first = True
        while True:
            start = line_after + 1
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as err:
                message = str(err)
                if "field larger than field limit" in message:
                    message = f"a field is larger than the limit of {max_field_chars} characters"
                raise DeidInputError(path, f"malformed CSV: {message}", reader.line_num or start) from None
            line_after = reader.line_num
            if first:
                first = False
                continue
            if not row:
                continue  # blank line
            if len(row) != n_columns:
                raise DeidInputError(path, f"record has {len(row)} fields, the header has {n_columns}", start)
            rows.append(row)
            lines.append(start)
            if len(rows) >= chunk_rows:
                yield CSVChunk(rows, lines)
                rows, lines = [], []
        if rows:
            yield CSVChunk(rows, lines)


def write_rows(path: Path, header: list[str], chunks: Iterator[Sequence[Sequence[str]]]) -> int:
    """Write a CSV (UTF-8, ``\\n`` line ends); returns the number of data rows."""
    n = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for rows in chunks:
            writer.writerows(rows)
            n += len(rows)
    return n


def staging_folder(final: Path) -> Path:
    """A fresh temporary folder beside ``final`` (same file system, so the rename is atomic)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)
    return tmp


