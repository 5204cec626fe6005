"""The transformations of single values, as pure functions.

- keyed pseudonyms: HMAC-SHA256(secret, namespace + value), so re-runs with the same
  secret give the same pseudonym and nobody without the secret can recompute or reverse it;
- per-patient date shift: a whole number of days derived from HMAC(secret, patient id),
  never zero, the same for every date of the patient (intervals and weekdays-of-interval
  are preserved, times of day kept);
- ages over 89 become "90+" (164.514(b)(2)(i)(C));
- ZIP codes keep their first three digits, or "000" for restricted prefixes (B).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re

from .restricted_zip3 import RESTRICTED_ZIP3

AGE_CAP = 90
AGE_CAP_LABEL = "90+"


PSEUDONYM_ALPHABET = "abcdefghijklmnopqrstuvwxyz"


def pseudonym(secret: bytes, namespace: str, value: str, prefix: str = "", length: int = 16) -> str:
    """Keyed pseudonym of ``value`` in ``namespace``: ``length`` lower-case letters (26^16 ~ 2^75).

    Letters only, so a pseudonym never contains a digit run that could be mistaken for (or
    hide) a ZIP code, phone or record number in byte-level verification.
    """
    digest = hmac.new(secret, f"{namespace}\x1f{value}".encode(), hashlib.sha256).digest()
    k = int.from_bytes(digest, "big")
    chars = []
    for _ in range(length):
        k, r = divmod(k, len(PSEUDONYM_ALPHABET))
        chars.append(PSEUDONYM_ALPHABET[r])
    return prefix + "".join(chars)


def date_offset_days(secret: bytes, patient_id: str, max_days: int = 365) -> int:
    """The patient's date shift in days: in [-max_days, -1] or [1, max_days]."""
    if max_days < 1:
        raise ValueError("max_days must be >= 1")
    digest = hmac.new(secret, f"date-shift\x1f{patient_id}".encode(), hashlib.sha256).digest()
    k = int.from_bytes(digest[:8], "big") % (2 * max_days)
    return k - max_days if k < max_days else k - max_days + 1


# Structured date cells: ISO (with optional time), US month/day/year (with optional time).
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?P<rest>(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?)$")
_US = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?P<rest>(?: \d{1,2}:\d{2}(?::\d{2})?(?: ?[AaPp][Mm])?)?)$")


def parse_date_cell(value: str) -> tuple[dt.date, str, str] | None:
    """(date, style, time suffix) of a structured date cell, or None when not a date."""
    v = value.strip()
    m = _ISO.match(v)
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))), "iso", m.group("rest")
        except ValueError:
            return None
    m = _US.match(v)
    if m:
        try:
            return dt.date(int(m.group(3)), int(m.group(1)), int(m.group(2))), "us", m.group("rest")
        except ValueError:
            return None
    return None


def shift_date_cell(value: str, offset_days: int) -> str | None:
    """The cell with its date moved by ``offset_days`` (same style, time kept); None if unparseable."""
    parsed = parse_date_cell(value)
    if parsed is None:
        return None
    day, style, rest = parsed
    moved = day + dt.timedelta(days=offset_days)
    text = moved.isoformat() if style == "iso" else f"{moved.month:02d}/{moved.day:02d}/{moved.year:04d}"
    return text + rest


def year_of_date_cell(value: str) -> str | None:
    """The year of a structured date cell (Safe Harbor keeps nothing else); None if unparseable."""
    parsed = parse_date_cell(value)
    return None if parsed is None else f"{parsed[0].year:04d}"


_AGE = re.compile(r"^\s*(\d{1,3})(?:\.\d+)?\s*(?:\+|y|yrs?|years?)?\s*$", re.IGNORECASE)


def generalize_age(value: str) -> str | None:
    """Whole years, or "90+" from 90 on; "" stays ""; None when the cell is not an age."""
    if not value.strip():
        return ""
    if value.strip() == AGE_CAP_LABEL:
        return AGE_CAP_LABEL
    m = _AGE.match(value)
    if m is None:
        return None
    years = int(m.group(1))
    return AGE_CAP_LABEL if years >= AGE_CAP else str(years)


def age_in_years(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def generalize_zip(value: str, restricted: frozenset[str] = RESTRICTED_ZIP3) -> str:
    """First three digits of a US ZIP (5 or 9 digits), "000" for restricted or malformed ones; "" stays ""."""
    v = value.strip()
    if not v:
        return ""
    digits = re.fullmatch(r"(\d{5})(?:-?\d{4})?", v)
    if digits is None:
        return "000"
    zip3 = digits.group(1)[:3]
    return "000" if zip3 in restricted else zip3
