"""Rule-based scrubbing of free-text notes.

Two sources of knowledge, applied in this order:

1. patterns for identifiers with a recognisable shape - e-mail addresses, URLs, IPv4/IPv6
   addresses, SSNs, telephone/fax numbers, dates in the usual spellings (shifted by the
   patient's offset, or removed when the patient is unknown);
2. what the structured tables already say: the patient's own identifiers (names in any
   case, addresses, ids, and digit sequences whatever their punctuation), and every city,
   organisation and person name of the data set;
3. patterns again for what is left: titles and signatures (Dr. X, Ms. X, X Y, MD),
   street addresses and PO boxes, ZIP codes after a state, long numbers and codes that
   mix letters and digits, and ages over 89 (which become "90+").

Replacements are bracketed tags such as ``[NAME]``; shifted dates are written as ISO dates.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_B = r"(?<![A-Za-z0-9])"
_E = r"(?![A-Za-z0-9])"
_SEP = r"[\s.\-()/]*"
_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4, "may": 5,
    "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9,
    "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}
_MON = r"(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")"

EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
URL = re.compile(r"\b(?:https?://|ftp://|www\.)[^\s<>\"'\]\)]+", re.IGNORECASE)
IPV4 = re.compile(r"(?<!\d)(?<!\d\.)(?:\d{1,3}\.){3}\d{1,3}(?!\d)(?!\.\d)")
_H = r"[0-9A-Fa-f]{1,4}"
IPV6 = re.compile(
    rf"(?<![0-9A-Fa-f:])(?:(?:{_H}:){{7}}{_H}|{_H}(?::{_H})*::(?:{_H}(?::{_H})*)?)(?![0-9A-Fa-f:])"
)
SSN = re.compile(r"(?<!\d)\d{3}[- ]\d{2}[- ]\d{4}(?!\d)")
PHONE = re.compile(r"(?<![\w+])(?:\+?1[\s.\-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.\-])\d{3}[\s.\-]\d{4}(?!\d)")

DATE_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
DATE_US = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?![\d/])")
DATE_DMON = re.compile(rf"(?<!\d)(\d{{1,2}})[- ]({_MON})\.?[- ,]+(\d{{4}})(?!\d)", re.IGNORECASE)
DATE_MOND = re.compile(rf"\b({_MON})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})(?!\d)", re.IGNORECASE)
DATE_MONY = re.compile(rf"\b({_MON})\.?,?\s+(\d{{4}})(?!\d)", re.IGNORECASE)
DATE_MY = re.compile(r"(?<![\d/])(\d{1,2})/(\d{4})(?![\d/])")
DATE_NO_YEAR = re.compile(
    rf"\b((?:on|since|from|until|till|by|seen|dated|DOS:?)\s+)(?:(\d{{1,2}})/(\d{{1,2}})(?![\d/])|({_MON})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b)",
    re.IGNORECASE,
)

TITLE = re.compile(r"\b(Dr|Mr|Mrs|Ms|Miss|Mx|Prof|Doctor)(\.?)(\s+)([A-Z][\w'\-]+)((?:\s+[A-Z][\w'\-]+)?)")
SIGNATURE = re.compile(
    r"\b([A-Z][\w'\-]+(?:\s+[A-Z]\.)?(?:\s+[A-Z][\w'\-]+)+)(,?\s+)(MD|M\.D\.|DO|RN|NP|PA-C|PA|PhD|CDE|CDCES)\b"
)
ADDRESS = re.compile(
    r"\b\d{1,6}\s+(?:[A-Z][\w'\-]*\.?\s+){1,4}(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Court|Ct|Terrace|Ter|"
    r"Way|Boulevard|Blvd|Place|Pl|Circle|Cir|Highway|Hwy|Parkway|Pkwy|Square|Sq|Trail|Trl)\b\.?"
    r"(?:,?\s+(?:Apt|Apartment|Unit|Suite|Ste|#)\.?\s*[\w\-]+)?"
)
PO_BOX = re.compile(r"\bP\.?\s*O\.?\s*Box\s+\d+\b", re.IGNORECASE)
STATE_ZIP = re.compile(r"\b([A-Z]{2})(\s+)\d{5}(?:-\d{4})?(?!\d)")
LONG_NUMBER = re.compile(r"(?<!\w)(?<!\d\.)\d{5,}(?!\w)(?!\.\d)")
MIXED_ID = re.compile(r"\b(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{6,}\b|\b[A-Z]{1,5}-(?=[A-Z0-9]*\d)[A-Z0-9]{4,}\b")
AGE_YEARS_OLD = re.compile(r"(?<!\d)(?:9\d|1[0-4]\d)(?=\s*-?\s*(?:years?|yrs?|y)\s*-?\s*old\b)", re.IGNORECASE)
AGE_YO = re.compile(r"(?<!\d)(?:9\d|1[0-4]\d)(?=\s*(?:y/o|y\.o\.|yo)\b)", re.IGNORECASE)
AGE_AGED = re.compile(r"\b(aged?|age:|age of)(\s+)(?:9\d|1[0-4]\d)(?!\d)", re.IGNORECASE)
WORD = re.compile(r"[^\W\d_](?:(?:[^\W\d_]|['\-])*[^\W\d_])?")

# Held-back replacements (shifted dates) are parked as private-use characters, which no
# later rule can match, and put back at the end.
_PLACEHOLDER = re.compile("\ue000([\ue100-\ue119]+)\ue001")


def trie_regex(words: Iterable[str], joiner: str = "") -> str:
    """A compact alternation of ``words`` (a trie), fast even for thousands of literals.

    ``joiner`` is a pattern allowed between consecutive characters of a word (for example
    punctuation between the digits of a telephone number).
    """
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict, lead: str) -> str:
        if "" in node and len(node) == 1:
            return ""
        alts, optional = [], False
        for ch in sorted(node):
            if ch == "":
                optional = True
                continue
            alts.append(lead + re.escape(ch) + build(node[ch], joiner))
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if optional else body

    return build(trie, "")


def _literal_pattern(literals: Iterable[str]) -> re.Pattern[str] | None:
    """Case-insensitive whole-word match of any literal; runs of spaces match any whitespace."""
    words = sorted({" ".join(v.lower().split()) for v in literals if len(v.strip()) >= 3})
    if not words:
        return None
    body = trie_regex(words).replace(r"\ ", r"\s+").replace(" ", r"\s+")
    return re.compile(_B + "(?:" + body + ")" + _E, re.IGNORECASE)


_SEPARATORS = frozenset(" \t\r\n.-()/")
_DIGIT = re.compile(r"\d")


def _spans_of_literals(text_lower: str, literals: Mapping[str, str]) -> list[tuple[int, int, str]]:
    """Whole-word occurrences (alphanumeric boundaries) of lower-case literals in lower-cased text."""
    spans = []
    for lit, tag in literals.items():
        start = text_lower.find(lit)
        while start >= 0:
            end = start + len(lit)
            if (start == 0 or not text_lower[start - 1].isalnum()) and (end == len(text_lower) or not text_lower[end].isalnum()):
                spans.append((start, end, tag))
            start = text_lower.find(lit, start + 1)
    return spans


def _spans_of_digits(text: str, digit_strings: Iterable[str], tag: str = "[ID]") -> list[tuple[int, int, str]]:
    """Occurrences of digit sequences with any punctuation or spaces between the digits, not inside
    a longer digit sequence."""
    positions = [m.start() for m in _DIGIT.finditer(text)]
    if not positions:
        return []
    skeleton = "".join(text[i] for i in positions)
    spans = []
    for seq in digit_strings:
        k = skeleton.find(seq)
        while k >= 0:
            first, last = positions[k], positions[k + len(seq) - 1]
            inner_ok = all(ch in _SEPARATORS for ch in text[first:last + 1] if not ch.isdigit())
            before_ok = first == 0 or not text[first - 1].isdigit()
            after_ok = last + 1 == len(text) or not text[last + 1].isdigit()
            if inner_ok and before_ok and after_ok:
                spans.append((first, last + 1, tag))
            k = skeleton.find(seq, k + 1)
    return spans


def _apply_spans(text: str, spans: list[tuple[int, int, str]]) -> str:
    """Replace non-overlapping spans (longest first where they overlap)."""
    if not spans:
        return text
    chosen: list[tuple[int, int, str]] = []
    for span in sorted(spans, key=lambda s: (s[0], -(s[1] - s[0]))):
        if chosen and span[0] < chosen[-1][1]:
            continue
        chosen.append(span)
    out, at = [], 0
    for start, end, tag in chosen:
        out.append(text[at:start])
        out.append(tag)
        at = end
    out.append(text[at:])
    return "".join(out)


def name_tokens(value: str) -> set[str]:
    """Lower-case words of a person's name, with the parts of hyphenated and apostrophe names."""
    tokens: set[str] = set()
    for word in WORD.findall(value):
        w = word.lower()
        if len(w) >= 2:
            tokens.add(w)
        tokens.update(p for p in re.split(r"['\-]", w) if len(p) >= 2)
    return tokens


@dataclass(frozen=True)
class PatientIdentifiers:
    """What the structured tables say about one patient, ready for scrubbing."""

    name_tokens: frozenset[str]
    literal_tags: Mapping[str, str]  # lower-case literal (3 characters or more) -> tag
    digit_strings: tuple[str, ...]  # digit sequences of 5 digits or more, longest first

    @staticmethod
    def build(names: Iterable[str], literal_tags: Mapping[str, str], digit_values: Iterable[str]) -> PatientIdentifiers:
        tokens: set[str] = set()
        for n in names:
            tokens |= name_tokens(n)
        tags = {" ".join(k.lower().split()): v for k, v in literal_tags.items() if len(k.strip()) >= 3}
        digits = {re.sub(r"\D", "", v) for v in digit_values}
        return PatientIdentifiers(
            name_tokens=frozenset(tokens),
            literal_tags=tags,
            digit_strings=tuple(sorted((d for d in digits if len(d) >= 5), key=len, reverse=True)),
        )


EMPTY_PATIENT = PatientIdentifiers(frozenset(), {}, ())


def _year(y: str) -> int:
    value = int(y)
    if len(y) == 2:
        pivot = dt.date.today().year % 100
        value += 2000 if value <= pivot else 1900
    return value


class TextScrubber:
    """Scrubs notes; built once per data set from the identifiers every patient shares."""

    def __init__(self, global_names: Iterable[str], global_literal_tags: Mapping[str, str]) -> None:
        tokens: set[str] = set()
        for n in global_names:
            tokens |= name_tokens(n)
        self.global_name_tokens = frozenset(tokens)
        self.global_tags = {" ".join(k.lower().split()): v for k, v in global_literal_tags.items() if len(k.strip()) >= 3}
        self.global_literals = _literal_pattern(self.global_tags)

    def scrub(self, text: str, patient: PatientIdentifiers = EMPTY_PATIENT, offset_days: int | None = None) -> str:
        """``text`` without identifiers; dates moved by ``offset_days`` (removed when None)."""
        if not text:
            return text
        held: list[str] = []

        def hold(rendered: str) -> str:
            held.append(rendered)
            k, code = len(held) - 1, ""
            while True:
                code = chr(0xE100 + k % 26) + code
                k //= 26
                if k == 0:
                    break
            return f"\ue000{code}\ue001"

        t = re.sub("[\ue000-\ue119]", "", text)
        t = EMAIL.sub("[EMAIL]", t)
        t = URL.sub("[URL]", t)
        t = IPV4.sub("[IP]", t)
        t = IPV6.sub("[IP]", t)
        t = SSN.sub("[SSN]", t)
        t = PHONE.sub("[PHONE]", t)
        t = self._dates(t, offset_days, hold)

        t = _apply_spans(t, _spans_of_literals(t.lower(), patient.literal_tags))
        if self.global_literals is not None:
            t = self.global_literals.sub(lambda m: self.global_tags.get(" ".join(m.group(0).lower().split()), "[ID]"), t)
        t = _apply_spans(t, _spans_of_digits(t, patient.digit_strings))
        t = WORD.sub(lambda m: self._name_or_word(m.group(0), patient.name_tokens), t)

        t = SIGNATURE.sub(lambda m: f"[NAME]{m.group(2)}{m.group(3)}", t)
        t = TITLE.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)}[NAME]", t)
        t = ADDRESS.sub("[ADDRESS]", t)
        t = PO_BOX.sub("[ADDRESS]", t)
        t = STATE_ZIP.sub(lambda m: f"{m.group(1)}{m.group(2)}[ZIP]", t)
        t = LONG_NUMBER.sub("[ID]", t)
        t = MIXED_ID.sub("[ID]", t)
        t = AGE_YEARS_OLD.sub("90+", t)
        t = AGE_YO.sub("90+", t)
        t = AGE_AGED.sub(lambda m: f"{m.group(1)}{m.group(2)}90+", t)
        return _PLACEHOLDER.sub(lambda m: held[_decode(m.group(1))], t)

    def _name_or_word(self, word: str, own: frozenset[str]) -> str:
        lower = word.lower()
        parts = [p for p in re.split(r"['\-]", lower) if len(p) >= 2] if ("-" in word or "'" in word) else []
        if lower in own or any(p in own for p in parts):
            return "[NAME]"
        if word[0].isupper() and (lower in self.global_name_tokens or any(p in self.global_name_tokens for p in parts)):
            return "[NAME]"
        return word

    @staticmethod
    def _dates(t: str, offset: int | None, hold) -> str:
        def render(year: int, month: int, day: int | None) -> str:
            try:
                d = dt.date(year, month, day or 15)
            except ValueError:
                return "[DATE]"
            if offset is None:
                return "[DATE]"
            moved = d + dt.timedelta(days=offset)
            return hold(moved.isoformat() if day is not None else f"{moved.year:04d}-{moved.month:02d}")

        def us(m: re.Match[str]) -> str:
            a, b = int(m.group(1)), int(m.group(2))
            month, day = (a, b) if a <= 12 else (b, a)
            return render(_year(m.group(3)), month, day)

        t = DATE_ISO.sub(lambda m: render(int(m.group(1)), int(m.group(2)), int(m.group(3))), t)
        t = DATE_US.sub(us, t)
        t = DATE_DMON.sub(lambda m: render(int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1))), t)
        t = DATE_MOND.sub(lambda m: render(int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2))), t)
        t = DATE_MONY.sub(lambda m: render(int(m.group(2)), _MONTHS[m.group(1).lower()], None), t)
        t = DATE_MY.sub(lambda m: render(int(m.group(2)), int(m.group(1)), None) if 1 <= int(m.group(1)) <= 12
                        else m.group(0), t)
        t = DATE_NO_YEAR.sub(lambda m: f"{m.group(1)}[DATE]", t)
        return t


def _decode(code: str) -> int:
    k = 0
    for ch in code:
        k = k * 26 + (ord(ch) - 0xE100)
    return k
