"""Shifting DICOM dates (DA) and date-times (DT) by whole days; dummy date values.

A shift keeps everything but the calendar date: times of day, fractions and UTC offsets
of a DT stay as they were. Partial values shift too (a DT of only ``YYYY`` moves by the
offset rounded to whole years, ``YYYYMM`` to whole months). Ranges (``A-B``) shift both
ends. A value that is not a valid date yields None, and the caller removes it.
"""

from __future__ import annotations

import datetime as dt
import re

DUMMY = {"DA": "19000101", "TM": "000000.00", "DT": "19000101000000.000000"}

_DT = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(.*)$")


def shift_date(value: str, days: int) -> str | None:
    """Shift a DA value (or range); None when it is not a date."""
    value = value.strip()
    if "-" in value:
        parts = value.split("-")
        if len(parts) != 2:
            return None
        shifted = [shift_date(p, days) if p else "" for p in parts]
        if any(s is None for s in shifted):
            return None
        return "-".join(s for s in shifted if s is not None)
    try:
        d = dt.datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        return None
    try:
        return (d + dt.timedelta(days=days)).strftime("%Y%m%d")
    except OverflowError:
        return None


def shift_datetime(value: str, days: int) -> str | None:
    """Shift a DT value (or range); None when it does not start with a valid date."""
    value = value.strip()
    if "-" in value[:15] and not value.startswith("-"):
        # A range "A-B"; a DT's UTC offset "-HHMM" only ever follows the time.
        head, _, tail = value.partition("-")
        if len(head) >= 4 and head[:4].isdigit() and (tail[:4].isdigit() or tail == ""):
            a = shift_datetime(head, days)
            b = shift_datetime(tail, days) if tail else ""
            return None if a is None or b is None else f"{a}-{b}"
    m = _DT.match(value)
    if not m:
        return None
    year, month, day, rest = m.groups()
    try:
        if day is not None:
            d = dt.date(int(year), int(month), int(day)) + dt.timedelta(days=days)
            return d.strftime("%Y%m%d") + rest
        if month is not None:
            total = int(year) * 12 + int(month) - 1 + round(days / 30.44)
            return f"{total // 12:04d}{total % 12 + 1:02d}" + rest
        return f"{int(year) + round(days / 365.25):04d}" + rest
    except (ValueError, OverflowError):
        return None
