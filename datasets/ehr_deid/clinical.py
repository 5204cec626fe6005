"""Clinical content that the note scrubber must leave alone, found before any name or id rule.

Eponymous diseases, syndromes and signs ("Parkinson disease", "Graves' ophthalmopathy",
"Crohn's"), laboratory values after an analyte ("platelets 250000", "WBC 11200"), amounts
with a unit ("vitamin D 50000 IU"), codes after their code system ("CPT 99214", "ICD-10
E11.9") and bare ICD-10 codes, and gene names and alleles ("CYP2C19*2", "BRCA1",
"HLA-B*57:01"). The spans found are parked by the scrubber and put back verbatim.
"""

from __future__ import annotations

import re

from .lexicons import (
    ANALYTES,
    CHINESE_ANALYTES,
    CHINESE_EPONYMS,
    CODE_SYSTEMS,
    EPONYM_HEADS,
    EPONYMS,
    GENES,
    POSSESSIVE_DISEASES,
    UNITS,
)


def _alternation(words, flags_free: bool = True) -> str:
    return "(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + ")"


_NUMBER = r"[<>≤≥~]?\s*(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s*[x×]\s*10\^?[\d⁹]+)?"
_UNIT = _alternation(UNITS)
_EPONYM = _alternation(EPONYMS)
_EPONYM_PHRASE = re.compile(
    rf"\b(?:non-)?{_EPONYM}(?:(?:'s|s'|')?(?:\s*[-/]\s*{_EPONYM}(?:'s)?)?)\s+(?:{_alternation(EPONYM_HEADS)})\b"
    rf"|\b(?:non-)?{_alternation(POSSESSIVE_DISEASES)}(?:'s|')(?=\W|$)",
    re.IGNORECASE,
)
_LAB_VALUE = re.compile(
    rf"(?<![\w\-/]){_alternation(ANALYTES)}(?:\s+(?:count|level|of|was|is|at))*(?:\s*[:=]\s*|\s+){_NUMBER}"
    rf"(?:\s*{_UNIT}(?![A-Za-z]))?",
    re.IGNORECASE,
)
_ZH_LAB_VALUE = re.compile(rf"{_alternation(CHINESE_ANALYTES)}[为是:：]?\s*{_NUMBER}(?:\s*{_UNIT})?")
_AMOUNT = re.compile(rf"(?<![\w.]){_NUMBER}\s*{_UNIT}(?![A-Za-z])")
_CODE = re.compile(
    rf"\b{_alternation(CODE_SYSTEMS)}(?:\s+codes?)?[\s:#]*[A-Z0-9][A-Z0-9.\-]{{1,11}}"
    r"(?:(?:\s*,\s*|\s+(?:and|or)\s+)(?=[A-Z0-9.\-]*\d)[A-Z0-9][A-Z0-9.\-]{1,11}(?![\w-]))*",
)
_ICD10 = re.compile(r"(?<![\w.-])[A-TV-Z]\d{2}(?:\.[0-9A-Z]{1,4})?(?![\w-])")
_GENE = re.compile(
    rf"(?<![\w-])(?:{_alternation(GENES)}|CYP\d{{1,2}}[A-Z]\d{{1,2}}|HLA-[A-Z]{{1,4}}\d?)"
    r"(?:\*\d{1,3}[A-Z]?(?::\d{2,3})*)?(?![\w-])"
)
_ZH_EPONYM = re.compile(rf"{_alternation(CHINESE_EPONYMS)}(?:氏)?(?:病|综合征|征|症|甲状腺炎|淋巴瘤)?")


_EPONYM_WORDS = frozenset(part for e in EPONYMS for part in re.findall(r"[a-zà-ÿ]+", e))
_WORDS = re.compile(r"[a-zà-ÿ]+")
_HAN = re.compile(r"[\u4e00-\u9fff]")


_ANALYTE_WORDS = frozenset(a.lower() for a in ANALYTES)
_CODE_WORDS = frozenset(w.lower() for c in CODE_SYSTEMS for w in re.findall(r"[A-Za-z0-9\-]+", c))
_GENE_WORDS = frozenset(g.lower() for g in GENES) | {"cyp", "hla"}
_TOKENS = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def _patterns_for(text: str) -> tuple[re.Pattern[str], ...]:
    """The patterns worth running: each only where one of its words is in the text."""
    lower = text.lower()
    tokens = set(_TOKENS.findall(lower))
    tokens.update(part for token in list(tokens) if "-" in token for part in token.split("-"))
    patterns = [_AMOUNT, _ICD10]
    if not _ANALYTE_WORDS.isdisjoint(tokens):
        patterns.append(_LAB_VALUE)
    if not _CODE_WORDS.isdisjoint(tokens):
        patterns.append(_CODE)
    if not _GENE_WORDS.isdisjoint(tokens) or "cyp" in lower or "hla-" in lower:
        patterns.append(_GENE)
    if not _EPONYM_WORDS.isdisjoint(_WORDS.findall(lower)):
        patterns.append(_EPONYM_PHRASE)
    if _HAN.search(text):
        patterns += [_ZH_LAB_VALUE, _ZH_EPONYM]
    return tuple(patterns)


def clinical_spans(text: str) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) spans of clinical content in ``text``."""
    spans = sorted(((m.start(), m.end()) for p in _patterns_for(text) for m in p.finditer(text) if m.end() > m.start()),
                   key=lambda s: (s[0], -s[1]))
    chosen: list[tuple[int, int]] = []
    for start, end in spans:
        if chosen and start < chosen[-1][1]:
            if end > chosen[-1][1]:
                chosen[-1] = (chosen[-1][0], end)
            continue
        chosen.append((start, end))
    return chosen


__all__ = ["clinical_spans"]
