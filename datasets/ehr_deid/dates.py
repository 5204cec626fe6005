"""Dates in free text, in English and Chinese spellings, rewritten by the mode's rule.

``DatePolicy`` says what a found date becomes: in ``safe-harbor`` mode its year alone (a date
without a year becomes ``[DATE]``); in ``date-shift`` mode the date moved by the patient's
offset (a month-day without a year is moved too, written ``--MM-DD`` / ``M月D日``, so it cannot
be lined up against its shifted copy to reveal the offset); with no known patient, ``[DATE]``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from .modes import DeidMode

MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4, "may": 5,
    "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9,
    "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}
_MON = r"(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")"
_ORD = r"(?:st|nd|rd|th)?"
_MONTH_WORDS = frozenset(MONTHS)
_LOWER_WORDS = re.compile(r"[a-z]+")
_HAN_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}

DATE_ISO = re.compile(r"(?<![\d.])(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
DATE_YMD = re.compile(r"(?<![\d.])(\d{4})([/.])(\d{1,2})\2(\d{1,2})(?![\d.])")
DATE_US = re.compile(r"(?<![\d/.])(\d{1,2})([/.])(\d{1,2})\2(\d{4}|(?<=/\d\d/)\d{2}|(?<=/\d/)\d{2})(?![\d/]|\.\d)")
DATE_DMON = re.compile(rf"(?<!\d)(\d{{1,2}}){_ORD}[- ](?:of\s+)?({_MON})\.?[- ,]+(\d{{4}})(?!\d)", re.IGNORECASE)
DATE_MOND = re.compile(rf"\b({_MON})\.?\s+(\d{{1,2}}){_ORD},?\s+(\d{{4}})(?!\d)", re.IGNORECASE)
DATE_MONY = re.compile(rf"\b({_MON})\.?,?\s+(\d{{4}})(?!\d)", re.IGNORECASE)
DATE_MY = re.compile(r"(?<![\d/])(\d{1,2})/(\d{4})(?![\d/])")
DATE_MOND_NOYEAR = re.compile(rf"\b({_MON})\.?\s+(\d{{1,2}}){_ORD}(?!\d|[:.]\d|\s*(?:mg|units?|am|pm)\b)", re.IGNORECASE)
DATE_DMON_NOYEAR = re.compile(rf"(?<![\d.])(\d{{1,2}}){_ORD}[\s\-]*(?:of\s+)?({_MON})\b", re.IGNORECASE)
DATE_NO_YEAR = re.compile(
    r"\b((?:on|since|from|until|till|by|seen|dated|DOS:?|labs?|visit|admitted|discharged|last|next|due)\s+)"
    r"(\d{1,2})/(\d{1,2})(?![\d/])", re.IGNORECASE
)
ZH_YMD = re.compile(r"(?<!\d)(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
ZH_YM = re.compile(r"(?<!\d)(\d{4})\s*年\s*(\d{1,2})\s*月(?!\s*\d)")
ZH_MD = re.compile(r"(?<![\d年])(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
ZH_HAN = re.compile(r"([〇零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月(?:([一二三四五六七八九十]{1,3})[日号])?")


def _han_number(text: str) -> int:
    """Chinese numerals as written in dates: 二〇二一 (digit by digit), 十二, 二十七."""
    if "十" not in text:
        value = 0
        for ch in text:
            value = value * 10 + _HAN_DIGITS[ch]
        return value
    tens, _, units = text.partition("十")
    return (_HAN_DIGITS[tens] if tens else 1) * 10 + (_HAN_DIGITS[units] if units else 0)


def _year(y: str) -> int:
    value = int(y)
    if len(y) == 2:
        pivot = dt.date.today().year % 100
        value += 2000 if value <= pivot else 1900
    return value


@dataclass(frozen=True)
class DatePolicy:
    """What a date in a note becomes."""

    mode: DeidMode
    offset_days: int | None = None  # date-shift: the patient's offset; None: the patient is unknown

    def full(self, year: int, month: int, day: int, zh: bool = False) -> str:
        try:
            d = dt.date(year, month, day)
        except ValueError:
            return "[DATE]"
        if self.mode is DeidMode.SAFE_HARBOR:
            return f"{d.year}年" if zh else str(d.year)
        if self.offset_days is None:
            return "[DATE]"
        moved = d + dt.timedelta(days=self.offset_days)
        return f"{moved.year}年{moved.month}月{moved.day}日" if zh else moved.isoformat()

    def month(self, year: int, month: int, zh: bool = False) -> str:
        if not 1 <= month <= 12:
            return "[DATE]"
        if self.mode is DeidMode.SAFE_HARBOR:
            return f"{year}年" if zh else str(year)
        if self.offset_days is None:
            return "[DATE]"
        moved = dt.date(year, month, 15) + dt.timedelta(days=self.offset_days)
        return f"{moved.year}年{moved.month}月" if zh else f"{moved.year:04d}-{moved.month:02d}"

    def month_day(self, month: int, day: int, zh: bool = False) -> str:
        if self.mode is DeidMode.SAFE_HARBOR or self.offset_days is None:
            return "[DATE]"
        try:
            d = dt.date(2000 if (month, day) == (2, 29) else 2001, month, day)
        except ValueError:
            return "[DATE]"
        moved = d + dt.timedelta(days=self.offset_days)
        return f"{moved.month}月{moved.day}日" if zh else f"--{moved.month:02d}-{moved.day:02d}"


def rewrite_dates(text: str, policy: DatePolicy, hold: Callable[[str], str]) -> str:
    """``text`` with every recognised date replaced by ``hold(policy's rendering)``."""

    def us(m: re.Match[str]) -> str:
        a, b = int(m.group(1)), int(m.group(3))
        month, day = (a, b) if a <= 12 else (b, a)
        return hold(policy.full(_year(m.group(4)), month, day))

    def month_word(word: str) -> int | None:
        # "may" in lower case is the verb.
        return None if word == "may" else MONTHS[word.lower()]

    def mon_day(m: re.Match[str], month_group: int, day_group: int) -> str:
        month = month_word(m.group(month_group))
        day = int(m.group(day_group))
        if month is None or not 1 <= day <= 31:
            return m.group(0)
        return hold(policy.month_day(month, day))

    t = text
    if "年" in t or "月" in t:
        t = ZH_YMD.sub(lambda m: hold(policy.full(int(m.group(1)), int(m.group(2)), int(m.group(3)), zh=True)), t)
        t = ZH_HAN.sub(lambda m: hold(
            policy.full(_han_number(m.group(1)), _han_number(m.group(2)), _han_number(m.group(3)), zh=True)
            if m.group(3) else policy.month(_han_number(m.group(1)), _han_number(m.group(2)), zh=True)), t)
        t = ZH_YM.sub(lambda m: hold(policy.month(int(m.group(1)), int(m.group(2)), zh=True)), t)
        t = ZH_MD.sub(lambda m: hold(policy.month_day(int(m.group(1)), int(m.group(2)), zh=True)), t)
    t = DATE_ISO.sub(lambda m: hold(policy.full(int(m.group(1)), int(m.group(2)), int(m.group(3)))), t)
    t = DATE_YMD.sub(lambda m: hold(policy.full(int(m.group(1)), int(m.group(3)), int(m.group(4)))), t)
    t = DATE_US.sub(us, t)
    if not _MONTH_WORDS.isdisjoint(_LOWER_WORDS.findall(t.lower())):
        t = DATE_DMON.sub(lambda m: hold(policy.full(int(m.group(3)), MONTHS[m.group(2).lower()], int(m.group(1)))), t)
        t = DATE_MOND.sub(lambda m: hold(policy.full(int(m.group(3)), MONTHS[m.group(1).lower()], int(m.group(2)))), t)
        t = DATE_MONY.sub(lambda m: hold(policy.month(int(m.group(2)), MONTHS[m.group(1).lower()])), t)
        t = DATE_MOND_NOYEAR.sub(lambda m: mon_day(m, 1, 2), t)
        t = DATE_DMON_NOYEAR.sub(lambda m: mon_day(m, 2, 1), t)
    t = DATE_MY.sub(lambda m: hold(policy.month(int(m.group(2)), int(m.group(1)))) if 1 <= int(m.group(1)) <= 12
                    else m.group(0), t)
    t = DATE_NO_YEAR.sub(lambda m: f"{m.group(1)}{hold('[DATE]')}", t)
    return t


__all__ = ["MONTHS", "DatePolicy", "rewrite_dates"]
