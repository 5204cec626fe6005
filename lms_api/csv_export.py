"""CSV responses for HR exports (Excel-safe: formula-looking cells are prefixed with a quote)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import Response

CSV_CONTENT = {"text/csv": {"schema": {"type": "string"}}}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


# What spreadsheets skip before they read a formula: blanks and control characters (ASCII and the
# Unicode spaces they treat alike), so " =1+1" and a NUL or tab before "=" are formulas too.
_SKIPPED = "".join(chr(c) for c in range(0x21)) + "\x7f\u00a0\u200b\u2060\ufeff\u3000"
_FORMULA_SIGNS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")  # and their full-width forms


def _looks_like_formula(text: str) -> bool:
    return text.startswith(_FORMULA_START) or text.lstrip(_SKIPPED).startswith(_FORMULA_SIGNS)


def _cell(value: Any) -> Any:
    if isinstance(value, str) and _looks_like_formula(value):
        return "'" + value
    if isinstance(value, list | tuple):
        return _cell(" ".join(str(v) for v in value))
    return "" if value is None else value


def csv_response(columns: Sequence[str], rows: Iterable[dict[str, Any]], filename: str) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return Response(
        buffer.getvalue(), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
