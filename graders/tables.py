"""Checked tables: prediction and reference files (CSV) or model outputs (DataFrames).

Every problem is reported as a ``TableError`` that names the source and the line of
the CSV file (line 1 is the header) or the row of a model's output, so a learner can
find the bad value at once.

Values are normalised before keys are compared, so a key cannot be repeated in disguise:
text is stripped (a model's text columns must hold strings: an int id is refused rather
than guessed at), timestamps are exact nanoseconds without a time zone (a zoned time is
refused, never converted), numbers are finite reals. Whatever a value is, reading it
either succeeds or raises ``TableError``: no other exception escapes.
"""

from __future__ import annotations

import csv
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

NO_TIME_ZONE = "times carry no time zone here (clock times, as in the data)"
OUT_OF_RANGE = "is out of range (years 1678-2261)"
ColumnKind = Literal["text", "number", "optional_number", "probability", "binary", "timestamp"]


class TableError(ValueError):
    """A table that cannot be scored, with where the problem is."""

    def __init__(self, source: str, message: str, *, line: int | None = None, place: str = "line") -> None:
        self.source, self.line, self.message = source, line, message
        where = f"{source}, {place} {line}" if line is not None else source
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind


@dataclass(frozen=True)
class TableSpec:
    """Required columns, and the columns whose values identify a row (no duplicates allowed)."""

    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def read_table(path: Path, spec: TableSpec) -> pd.DataFrame:
    """Read a CSV file and check it against ``spec``; errors name the file's line."""
    source = str(path)
    if not path.is_file():
        raise TableError(source, "no such file")
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except UnicodeDecodeError as error:
        raise TableError(source, f"not UTF-8 text ({error.reason} at byte {error.start})") from None
    except csv.Error as error:
        raise TableError(source, f"not a CSV file ({error})") from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise TableError(source, "empty file: expected a header line with " + ", ".join(spec.names), line=1)
    header = [cell.strip() for cell in rows[0]]
    lines, records = [], []
    for number, row in enumerate(rows[1:], start=2):
        if not row or not any(cell.strip() for cell in row):
            continue  # blank lines are harmless
        if len(row) != len(header):
            raise TableError(source, f"{len(row)} fields, but the header has {len(header)}", line=number)
        lines.append(number)
        records.append([cell.strip() for cell in row])
    frame = pd.DataFrame(records, columns=header, dtype=object) if records else pd.DataFrame(columns=header, dtype=object)
    return check_table(frame, spec, source=source, locations=lines, place="line", header_line=1)


def check_frame(frame: object, spec: TableSpec, *, source: str, max_rows: int | None = None) -> pd.DataFrame:
    """Check a DataFrame a model returned; errors name the row (counted from 1).

    More than ``max_rows`` rows is refused before any value is read.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TableError(source, f"expected a pandas DataFrame with columns {', '.join(spec.names)}, got {type(frame).__name__}")
    if max_rows is not None:
        refuse_too_many_rows(len(frame), max_rows, source=source)
    frame = frame.reset_index(drop=True)
    for column in spec.columns:
        if column.kind == "text" and column.name in frame.columns:
            _refuse_non_strings(frame[column.name], column, source=source)
    return check_table(frame, spec, source=source, locations=range(1, len(frame) + 1), place="row")


def refuse_too_many_rows(n_rows: int, max_rows: int, *, source: str) -> None:
    """The grader's bound on an output table (see each protocol's ``max_output_rows``)."""
    if n_rows > max_rows:
        raise TableError(source, f"{n_rows:,} rows, more than the {max_rows:,} this input allows; nothing was scored")


def _refuse_non_strings(values: pd.Series, column: Column, *, source: str) -> None:
    """A model's text column holds strings (or is empty): ``12`` is not the id ``"0012"`` nor ``"12"``."""
    if _all_strings(values):
        return
    for index, value in enumerate(values):
        if not isinstance(value, str) and not _is_missing(value):
            raise TableError(
                source,
                f"column {column.name}: {value!r} is {type(value).__name__}, not text; return the ids as strings, as the input gives them",
                line=index + 1,
                place="row",
            )


def _all_strings(values: pd.Series) -> bool:
    """Only strings and missing values (checked at C speed)."""
    return pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def check_table(
    frame: pd.DataFrame,
    spec: TableSpec,
    *,
    source: str,
    locations: Sequence[int],
    place: str,
    header_line: int | None = None,
) -> pd.DataFrame:
    """The required columns converted to their kinds, with a ``_line`` column of locations."""
    frame = frame.reset_index(drop=True)
    missing = [name for name in spec.names if name not in frame.columns]
    if missing:
        raise TableError(
            source,
            f"missing column(s) {', '.join(missing)}; expected {', '.join(spec.names)}, found {', '.join(map(str, frame.columns))}",
            line=header_line,
            place=place if header_line is None else "line",
        )
    located = np.asarray(list(locations), dtype=np.int64)
    out = pd.DataFrame({"_line": located})
    for column in spec.columns:
        try:
            out[column.name] = _convert(frame[column.name], column, source=source, locations=located, place=place)
        except TableError:
            raise
        except (TypeError, ValueError, ArithmeticError) as error:
            raise TableError(source, f"column {column.name}: cannot be read as {column.kind} ({type(error).__name__}: {error})") from None
    if spec.key:
        duplicated = out.duplicated(list(spec.key), keep="first")
        if duplicated.any():
            first_dup = int(np.flatnonzero(duplicated.to_numpy())[0])
            keys = out[list(spec.key)]
            original = int(np.flatnonzero((keys == keys.iloc[first_dup]).all(axis=1).to_numpy())[0])
            values = ", ".join(f"{k}={out[k].iloc[first_dup]}" for k in spec.key)
            raise TableError(
                source,
                f"duplicate entry ({values}), first given at {place} {int(located[original])}",
                line=int(located[first_dup]),
                place=place,
            )
    return out


def _convert(values: pd.Series, column: Column, *, source: str, locations: np.ndarray, place: str) -> pd.Series:
    def fail(index: int, problem: str) -> TableError:
        return TableError(source, f"column {column.name}: {problem}", line=int(locations[index]), place=place)

    if column.kind == "text":
        if _all_strings(values):
            as_text = values.where(values.notna(), "").astype(str).str.strip()
        else:
            as_text = pd.Series([("" if _is_missing(v) else str(v).strip()) for v in values], index=values.index, dtype=str)
        empty = np.flatnonzero((as_text == "").to_numpy())
        if empty.size:
            raise fail(int(empty[0]), "empty value")
        return as_text
    if column.kind == "timestamp":
        return _timestamps(values, fail)
    if values.dtype.kind in "biuf":
        numbers = values
    else:
        numbers = pd.to_numeric(values.map(lambda v: v.strip() if isinstance(v, str) else v), errors="coerce")
    if numbers.dtype.kind not in "biuf":
        nonreal = np.flatnonzero(np.imag(numbers.to_numpy()) != 0) if numbers.dtype.kind == "c" else np.zeros(0, int)
        index = int(nonreal[0]) if nonreal.size else 0
        raise fail(index, f"not a real number: {values.iloc[index]!r}")
    if column.kind == "optional_number":
        return _optional_numbers(values, numbers, fail)
    bad = np.flatnonzero(numbers.isna().to_numpy())
    if bad.size:
        raw = values.iloc[int(bad[0])]
        problem = "missing value (NaN)" if raw is None or str(raw).strip().lower() in ("", "nan", "na", "none") else f"not a number: {raw!r}"
        raise fail(int(bad[0]), problem)
    numbers = numbers.astype(np.float64)
    infinite = np.flatnonzero(~np.isfinite(numbers.to_numpy()))
    if infinite.size:
        raise fail(int(infinite[0]), f"not a finite number: {values.iloc[int(infinite[0])]!r}")
    if column.kind == "probability":
        outside = np.flatnonzero(((numbers < 0) | (numbers > 1)).to_numpy())
        if outside.size:
            raise fail(int(outside[0]), f"probability {numbers.iloc[int(outside[0])]} is outside [0, 1]")
    if column.kind == "binary":
        outside = np.flatnonzero(~numbers.isin((0.0, 1.0)).to_numpy())
        if outside.size:
            raise fail(int(outside[0]), f"label {values.iloc[int(outside[0])]!r} is not 0 or 1")
        return numbers.astype(np.int64)
    return numbers


def _timestamps(values: pd.Series, fail) -> pd.Series:
    """Exact nanosecond times without a time zone; a zoned or unreadable time is refused."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        raise fail(0, f"time zone {values.dt.tz} given; {NO_TIME_ZONE}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            converted = pd.to_datetime(values, errors="coerce")
    except (TypeError, ValueError, ArithmeticError):
        converted = None  # mixed time zones, or values pandas will not read together
    if converted is None or isinstance(converted.dtype, pd.DatetimeTZDtype):
        index = next((i for i, v in enumerate(values) if _zoned(v)), 0)
        raise fail(index, f"{values.iloc[index]!r} has a time zone; {NO_TIME_ZONE}")
    bad = np.flatnonzero(converted.isna().to_numpy())
    if bad.size:
        index = int(bad[0])
        if _zoned(values.iloc[index]):
            raise fail(index, f"{values.iloc[index]!r} has a time zone; {NO_TIME_ZONE}")
        if _out_of_range(values.iloc[index]):
            raise fail(index, f"{values.iloc[index]!r} {OUT_OF_RANGE}")
        raise fail(index, f"not a date/time: {values.iloc[index]!r}")
    try:
        return converted.astype("datetime64[ns]")
    except (ValueError, ArithmeticError):  # pandas' OutOfBoundsDatetime is a ValueError
        index = next((i for i, v in enumerate(converted) if _out_of_range(v)), 0)
        raise fail(index, f"{values.iloc[index]!r} {OUT_OF_RANGE}") from None


def _out_of_range(value: object) -> bool:
    """A time pandas reads (at some resolution) that nanoseconds cannot hold."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stamp = pd.Timestamp(value)
    except (TypeError, ValueError, ArithmeticError):
        return False
    return stamp is not pd.NaT and stamp.tzinfo is None and not pd.Timestamp.min <= stamp <= pd.Timestamp.max


def _zoned(value: object) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stamp = pd.Timestamp(value)
    except (TypeError, ValueError, ArithmeticError):
        return False
    return stamp is not pd.NaT and stamp.tzinfo is not None


def _optional_numbers(values: pd.Series, numbers: pd.Series, fail) -> pd.Series:
    """Numbers where empty means missing (NaN); text that is not a number is still an error."""
    blank = values.map(lambda v: v is None or (isinstance(v, float) and math.isnan(v)) or str(v).strip().lower() in ("", "nan", "na"))
    bad = np.flatnonzero((numbers.isna() & ~blank).to_numpy())
    if bad.size:
        raise fail(int(bad[0]), f"not a number: {values.iloc[int(bad[0])]!r}")
    numbers = numbers.astype(np.float64)
    infinite = np.flatnonzero(np.isinf(numbers.to_numpy()))
    if infinite.size:
        raise fail(int(infinite[0]), f"not a finite number: {values.iloc[int(infinite[0])]!r}")
    return numbers
