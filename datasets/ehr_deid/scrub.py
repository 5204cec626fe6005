"""Rule-based scrubbing of free-text notes, English and Chinese.

The rules run in this order, each on what the earlier ones left:

1. identifiers with a recognisable shape: e-mail addresses (also spelled out: "x dot y at
   z dot com"), URLs (also without a scheme), IP addresses, Chinese resident identity numbers
   (checked by their MOD 11-2 digit), SSNs, telephone numbers (US, international, 7-digit,
   Chinese mobile and landline), then dates in English and Chinese spellings (rewritten by
   the mode's ``DatePolicy``), plates and serials after their label;
2. clinical content that must survive (eponymous diseases, lab values, doses, codes, genes:
   ``clinical.py``) is parked, so that no later rule can touch it;
3. labelled record numbers; Chinese names by context, hospitals, addresses and ages
   (``phi_zh.py``);
4. what the structured tables already say: the patient's own identifiers (names in any
   case, addresses, ids, digit sequences whatever their punctuation), every city,
   organisation and person name of the data set;
5. names by context (titles, relations, roles) and the names lexicon (``phi_en.py``),
   signatures, street addresses, PO boxes, ZIP codes after a state, long numbers and codes
   that mix letters and digits, ages over 89 in digits and in words (which become "90+").

Replacements are bracketed tags such as ``[NAME]``; parked text is put back at the end.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .clinical import clinical_spans
from .dates import DatePolicy, rewrite_dates
from .modes import DeidMode
from .phi_en import (
    LEXICON_NAMES,
    scrub_english_ages,
    scrub_english_contacts,
    scrub_english_devices,
    scrub_english_labelled,
    scrub_english_names,
)
from .phi_zh import scrub_chinese_numbers, scrub_chinese_text

_B = r"(?<![A-Za-z0-9])"
_E = r"(?![A-Za-z0-9])"
_CJK = re.compile(r"[\u3400-\u9fff]")

EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
URL = re.compile(r"\b(?:https?://|ftp://|www\.)[^\s<>\"'\]\)]+", re.IGNORECASE)
IPV4 = re.compile(r"(?<!\d)(?<!\d\.)(?:\d{1,3}\.){3}\d{1,3}(?!\d)(?!\.\d)")
_H = r"[0-9A-Fa-f]{1,4}"
IPV6 = re.compile(
    rf"(?<![0-9A-Fa-f:])(?:(?:{_H}:){{7}}{_H}|{_H}(?::{_H})*::(?:{_H}(?::{_H})*)?)(?![0-9A-Fa-f:])"
)
SSN = re.compile(r"(?<!\d)\d{3}[- ]\d{2}[- ]\d{4}(?!\d)")
PHONE = re.compile(r"(?<![\w+])(?:\+?1[\s.\-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.\-])\d{3}[\s.\-]\d{4}(?!\d)")

TITLE = re.compile(r"\b(Dr|Mr|Mrs|Ms|Miss|Mx|Prof|Doctor)(\.?)(\s+)([A-Z][\w'\-]+)((?:\s+[A-Z][\w'\-]+)?)")
SIGNATURE = re.compile(
    r"\b([A-Z][\w'\-]+(?:\s+[A-Z]\.)?(?:\s+[A-Z][\w'\-]+)+)(,?\s+)(MD|M\.D\.|DO|RN|NP|PA-C|PA|PhD|CDE|CDCES|LPN)\b"
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
WORD = re.compile(r"[^\W\d_](?:(?:[^\W\d_]|['\-])*[^\W\d_])?")

# Held-back text (rewritten dates, clinical terms) is parked as private-use characters, which no
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


def _min_length(value: str) -> int:
    return 2 if _CJK.search(value) else 3


def _literal_pattern(literals: Iterable[str]) -> re.Pattern[str] | None:
    """Case-insensitive whole-word match of any literal; runs of spaces match any whitespace."""
    words = sorted({" ".join(v.lower().split()) for v in literals if len(v.strip()) >= _min_length(v)})
    if not words:
        return None
    body = trie_regex(words).replace(r"\ ", r"\s+").replace(" ", r"\s+")
    return re.compile(_B + "(?:" + body + ")" + _E, re.IGNORECASE)


_SEPARATORS = frozenset(" \t\r\n.-()/")
_DIGIT = re.compile(r"\d")


def _ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _spans_of_literals(text_lower: str, literals: Mapping[str, str]) -> list[tuple[int, int, str]]:
    """Occurrences of lower-case literals in lower-cased text, not glued to ASCII letters or digits
    (Chinese is written without spaces: a Chinese literal matches anywhere)."""
    spans = []
    for lit, tag in literals.items():
        start = text_lower.find(lit)
        while start >= 0:
            end = start + len(lit)
            before_ok = start == 0 or not (_ascii_alnum(lit[0]) and _ascii_alnum(text_lower[start - 1]))
            after_ok = end == len(text_lower) or not (_ascii_alnum(lit[-1]) and _ascii_alnum(text_lower[end]))
            if before_ok and after_ok:
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
    """Lower-case words of a person's name, with the parts of hyphenated and apostrophe names
    (Chinese names are matched as literals instead: they are not separated by spaces)."""
    tokens: set[str] = set()
    for word in WORD.findall(value):
        if _CJK.search(word):
            continue
        w = word.lower()
        if len(w) >= 2:
            tokens.add(w)
        tokens.update(p for p in re.split(r"['\-]", w) if len(p) >= 2)
    return tokens


def _chinese_names(names: Iterable[str]) -> dict[str, str]:
    """Chinese names of two characters or more (a one-character given name alone is too common a word)."""
    return {"".join(n.split()): "[NAME]" for n in names if _CJK.search(n) and len("".join(n.split())) >= 2}


@dataclass(frozen=True)
class PatientIdentifiers:
    """What the structured tables say about one patient, ready for scrubbing."""

    name_tokens: frozenset[str]
    literal_tags: Mapping[str, str]  # lower-case literal (3 characters or more, 2 in Chinese) -> tag
    digit_strings: tuple[str, ...]  # digit sequences of 5 digits or more, longest first

    @staticmethod
    def build(names: Iterable[str], literal_tags: Mapping[str, str], digit_values: Iterable[str]) -> PatientIdentifiers:
        names = list(names)
        tokens: set[str] = set()
        for n in names:
            tokens |= name_tokens(n)
        tags = {" ".join(k.lower().split()): v for k, v in literal_tags.items() if len(k.strip()) >= _min_length(k)}
        tags.update(_chinese_names(names))
        digits = {re.sub(r"\D", "", v) for v in digit_values}
        return PatientIdentifiers(
            name_tokens=frozenset(tokens),
            literal_tags=tags,
            digit_strings=tuple(sorted((d for d in digits if len(d) >= 5), key=len, reverse=True)),
        )


    def mentioned_in(self, text: str) -> bool:
        """Whether ``text`` may hold one of these identifiers (a cheap, conservative test)."""
        if not (self.name_tokens or self.literal_tags or self.digit_strings):
            return False
        lower = text.lower()
        if any(lit in lower for lit in self.literal_tags):
            return True
        if self.digit_strings:
            digits = "".join(ch for ch in text if ch.isdigit())
            if any(d in digits for d in self.digit_strings):
                return True
        return not self.name_tokens.isdisjoint(w.lower() for w in WORD.findall(text)) or \
            not self.name_tokens.isdisjoint(_TAG_WORDS)


EMPTY_PATIENT = PatientIdentifiers(frozenset(), {}, ())
_TAG_WORDS = frozenset({"name", "id", "phone", "date", "email", "url", "ip", "ssn", "address", "zip", "location",
                        "organization", "hospital"})
# Short texts that hold neither a date nor the patient's own identifiers scrub the same for every
# patient (visit reasons, diagnosis descriptions): they are scrubbed once.
_CACHED_CHARS = 300
_CACHE_ENTRIES = 100_000
_MAY_HOLD_DATE = re.compile(r"\d{4}|\d{1,2}\s*[/.\-]\s*\d{1,2}|月|\b(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)")


class _Parking:
    """Text held back from later rules as private-use placeholders."""

    def __init__(self) -> None:
        self.held: list[str] = []

    def hold(self, rendered: str) -> str:
        self.held.append(rendered)
        k, code = len(self.held) - 1, ""
        while True:
            code = chr(0xE100 + k % 26) + code
            k //= 26
            if k == 0:
                break
        return f"\ue000{code}\ue001"

    def hold_spans(self, text: str, spans: list[tuple[int, int]]) -> str:
        out, at = [], 0
        for start, end in spans:
            out.append(text[at:start])
            out.append(self.hold(text[start:end]))
            at = end
        out.append(text[at:])
        return "".join(out)

    def restore(self, text: str) -> str:
        return _PLACEHOLDER.sub(lambda m: self.held[_decode(m.group(1))], text)


def _url(m: re.Match[str]) -> str:
    found = m.group(0)
    kept = found.rstrip(".,;:!?")
    return "[URL]" + found[len(kept):]


class TextScrubber:
    """Scrubs notes; built once per data set from the identifiers every patient shares."""

    def __init__(self, global_names: Iterable[str], global_literal_tags: Mapping[str, str]) -> None:
        global_names = list(global_names)
        tokens: set[str] = set()
        for n in global_names:
            tokens |= name_tokens(n)
        self.global_name_tokens = frozenset(tokens)
        self.global_tags = {" ".join(k.lower().split()): v for k, v in global_literal_tags.items()
                            if len(k.strip()) >= _min_length(k)}
        self.global_tags.update(_chinese_names(global_names))
        self.global_literals = _literal_pattern(self.global_tags)
        self._cache: dict[tuple[str, DeidMode], str] = {}

    def scrub(self, text: str, patient: PatientIdentifiers = EMPTY_PATIENT, offset_days: int | None = None,
              mode: DeidMode = DeidMode.DATE_SHIFT) -> str:
        """``text`` without identifiers; dates rewritten by ``mode`` (``date-shift``: moved by
        ``offset_days``, removed when it is None; ``safe-harbor``: their year alone)."""
        if not text:
            return text
        mode = DeidMode(mode)
        if len(text) > _CACHED_CHARS or _MAY_HOLD_DATE.search(text) or patient.mentioned_in(text):
            return self._scrub(text, patient, offset_days, mode)
        key = (text, mode)
        out = self._cache.get(key)
        if out is None:
            out = self._scrub(text, EMPTY_PATIENT, None, mode)
            if len(self._cache) < _CACHE_ENTRIES:
                self._cache[key] = out
        return out

    def _scrub(self, text: str, patient: PatientIdentifiers, offset_days: int | None, mode: DeidMode) -> str:
        parking = _Parking()
        t = re.sub("[\ue000-\ue119]", "", text)
        t = EMAIL.sub("[EMAIL]", t)
        t = URL.sub(_url, t)
        t = IPV4.sub("[IP]", t)
        t = IPV6.sub("[IP]", t)
        t = scrub_chinese_numbers(t)
        t = SSN.sub("[SSN]", t)
        t = PHONE.sub("[PHONE]", t)
        t = scrub_english_contacts(t)
        t = rewrite_dates(t, DatePolicy(mode, offset_days), parking.hold)
        t = scrub_english_devices(t)
        t = parking.hold_spans(t, clinical_spans(t))

        t = scrub_english_labelled(t)
        t = scrub_chinese_text(t)
        t = _apply_spans(t, _spans_of_literals(t.lower(), patient.literal_tags))
        if self.global_literals is not None:
            t = self.global_literals.sub(lambda m: self.global_tags.get(" ".join(m.group(0).lower().split()), "[ID]"), t)
        t = _apply_spans(t, _spans_of_digits(t, patient.digit_strings))
        t = scrub_english_names(t)
        t = WORD.sub(lambda m: self._name_or_word(m.group(0), patient.name_tokens), t)

        t = SIGNATURE.sub(lambda m: f"[NAME]{m.group(2)}{m.group(3)}", t)
        t = TITLE.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)}[NAME]", t)
        t = ADDRESS.sub("[ADDRESS]", t)
        t = PO_BOX.sub("[ADDRESS]", t)
        t = STATE_ZIP.sub(lambda m: f"{m.group(1)}{m.group(2)}[ZIP]", t)
        t = LONG_NUMBER.sub("[ID]", t)
        t = MIXED_ID.sub("[ID]", t)
        t = scrub_english_ages(t)
        return parking.restore(t)

    def _name_or_word(self, word: str, own: frozenset[str]) -> str:
        lower = word.lower()
        parts = [p for p in re.split(r"['\-]", lower) if len(p) >= 2] if ("-" in word or "'" in word) else []
        if lower in own or any(p in own for p in parts):
            return "[NAME]"
        if word[0].isupper() and (lower in self.global_name_tokens or any(p in self.global_name_tokens for p in parts)
                                  or lower in LEXICON_NAMES):
            return "[NAME]"
        return word


def _decode(code: str) -> int:
    k = 0
    for ch in code:
        k = k * 26 + (ord(ch) - 0xE100)
    return k
