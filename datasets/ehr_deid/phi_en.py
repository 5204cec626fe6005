"""English PHI in notes that has no fixed shape but a recognisable context.

- names: after a title (Mr, Mrs, Ms, Dr, Nurse ..., in any case: "dr. x"), a relation
  ("daughter Anna", "wife, Mary Jones"), or a role ("seen by", "spoke with", "RN"); and
  capitalised words of the shipped names lexicon anywhere;
- e-mail addresses spelled out ("john dot smith at gmail dot com"), URLs without a scheme;
- international and 7-digit telephone numbers, labelled record numbers ("MRN: 123",
  "record #", "account no."), licence plates and device serials after their label;
- ages over 89 in words ("ninety-two year old") and in the other usual spellings.
"""

from __future__ import annotations

import re

from .lexicons import AMBIGUOUS_NAMES, GIVEN_NAMES, NOT_A_NAME, SERVICE_WORDS, SURNAMES, TOP_LEVEL_DOMAINS

LEXICON_NAMES = (GIVEN_NAMES | SURNAMES) - AMBIGUOUS_NAMES
_TLD = "(?:" + "|".join(sorted(TOP_LEVEL_DOMAINS, key=len, reverse=True)) + ")"
_DOT = r"\s*(?:\.|\(dot\)|\[dot\]|\{dot\}|\bdot\b)\s*"
_AT = r"\s*(?:@|\(at\)|\[at\]|\{at\}|\bat\b)\s*"
_PART = r"[A-Za-z0-9_%+\-]+"

_SPELLED_AT = re.compile(r"\bat\b|[(\[{]at[)\]}]|@", re.IGNORECASE)
SPELLED_EMAIL = re.compile(rf"(?<![\w.]){_PART}(?:{_DOT}{_PART})*{_AT}{_PART}(?:{_DOT}{_PART})*{_DOT}{_TLD}\b",
                           re.IGNORECASE)
URL_NO_SCHEME = re.compile(
    rf"(?<![\w@.\-/])(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+{_TLD}(?![\w\-])(?:[/?#][^\s<>\"'\])]*)?", re.IGNORECASE
)
INTERNATIONAL_PHONE = re.compile(r"(?<![\w+])(?:\+|00)[1-9]\d{0,2}(?:[\s.\-]?\(0\))?(?:[\s.\-]?\(?\d{1,5}\)?){1,6}(?!\d)")
SEVEN_DIGIT_PHONE = re.compile(r"(?<![\w.\-/])\d{3}[\-.]\d{4}(?![\w\-]|\.\d)")
PHONE_AFTER_LABEL = re.compile(
    r"\b((?:tel|telephone|phone|ph|call|cell|mobile|fax|pager|beeper|contact|number|reach(?:ed)? at)\b\.?[\s:#]*"
    r"(?:is\s+|no\.?\s*|number\s+)?)(\+?\d[\d\s.\-()]{5,18}\d)(?!\d)",
    re.IGNORECASE,
)
EXTENSION = re.compile(r"(\[PHONE\])(\s*(?:x|ext\.?|extension)\s*)\d{1,6}\b", re.IGNORECASE)
_ID_LABEL = (
    r"MRN|MR#|MR\s+no\.?|medical\s+record(?:\s+(?:number|no\.?|#))?|record(?:\s+(?:number|no\.?))?|chart(?:\s+(?:number|no\.?))?"
    r"|account(?:\s+(?:number|no\.?))?|acct\.?(?:\s+(?:number|no\.?))?|patient\s+id|pt\s+id|member\s+id|subscriber\s+id"
    r"|policy(?:\s+(?:number|no\.?))?|case(?:\s+(?:number|no\.?))?|accession(?:\s+(?:number|no\.?))?"
    r"|encounter(?:\s+(?:number|no\.?|id))?|visit(?:\s+(?:number|no\.?|id))|claim(?:\s+(?:number|no\.?))?"
    r"|licen[cs]e(?:\s+(?:number|no\.?))?|passport(?:\s+(?:number|no\.?))?|badge|employee\s+id|ID|DL"
)
LABELLED_ID = re.compile(rf"\b((?:{_ID_LABEL})\s*(?:#|:|no\.|number)?\s*(?:is\s+)?#?\s*)((?=[A-Z0-9\-]*\d)[A-Z0-9][A-Z0-9\-]*)(?![\w-])",
                         re.IGNORECASE)
PLATE = re.compile(
    r"\b((?:licen[cs]e\s+plate|number\s+plate|registration\s+plate|vehicle\s+plate|plate|tag\s+number|vehicle\s+reg(?:istration)?)"
    r"(?:\s+(?:number|no\.?|#))?\s*[:#]?\s*)([A-Z0-9]{2,8}(?:[\s\-][A-Z0-9]{1,5})?)(?![\w-])",
    re.IGNORECASE,
)
SERIAL = re.compile(
    r"\b((?:serial(?:\s+(?:number|no\.?|#))?|S/N|SN|IMEI|UDI|MAC(?:\s+address)?|device\s+id|lot\s+(?:number|no\.?|#)"
    r"|model/serial)\s*[:#]?\s*)([A-Z0-9][A-Z0-9:/\-]{3,})(?![\w-])",
    re.IGNORECASE,
)
_TITLE = r"Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Professor|Doctor|Nurse|Sister|Rev|Fr"
_NAME_WORD = r"[A-Za-z][A-Za-z'\-]*[A-Za-z]"
# Not after a number: "440 ms. Chest X-ray" is a unit, not Ms. Chest.
TITLE_NAME = re.compile(rf"(?<!\d)(?<!\d\s)\b((?i:{_TITLE}))(\.?\s+)({_NAME_WORD})((?:\s+[A-Z]\.)?\s+{_NAME_WORD})?")
_RELATION = (r"daughter|son|wife|husband|mother|father|mom|mum|dad|sister|brother|partner|spouse|fianc[ée]e?|friend"
             r"|neighbou?r|caregiver|carer|niece|nephew|aunt|uncle|grandson|granddaughter|grandmother|grandfather"
             r"|cousin|guardian|boyfriend|girlfriend|son-in-law|daughter-in-law|roommate|landlord|employer")
_ROLE = (r"seen\s+by|signed\s+by|reviewed\s+by|dictated\s+by|transcribed\s+by|examined\s+by|accompanied\s+by"
         r"|referred\s+by|spoke\s+with|spoke\s+to|discussed\s+with|talked\s+to|per|cc:?|attending:?|author:?"
         r"|interpreter|chaplain|case\s+manager|social\s+worker|pharmacist|RN|NP|LPN|CNA|PA-C"
         r"|patient\s+name:?|patient:|pt:|name:|visitor:?|contact:")
CONTEXT_NAME = re.compile(
    rf"\b((?i:{_RELATION}|{_ROLE})(?![A-Za-z])[\s,:(]*(?:is\s+|named\s+)?)((?!(?i:{_RELATION}|{_ROLE})(?![A-Za-z])){_NAME_WORD})((?:\s+[A-Z]\.)?\s+[A-Z][A-Za-z'\-]*[A-Za-z])?",
)
_ONES = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
_TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
          "seventeen": 17, "eighteen": 18, "nineteen": 19}
_AGE_WORDS = (r"(?:ninety(?:[\s\-](?:" + "|".join(_ONES) + r"))?|(?:one|a)[\s\-]hundred(?:(?:[\s\-]and)?[\s\-](?:"
              + "|".join([*_ONES, *_TEENS]) + r"))?)")
AGE_IN_WORDS = re.compile(
    rf"\b{_AGE_WORDS}(?=[\s\-]+(?:years?|yrs?)(?:[\s\-]+old|\s+of\s+age)\b)|(?<=\baged\s){_AGE_WORDS}\b"
    rf"|(?<=\bage\s){_AGE_WORDS}\b",
    re.IGNORECASE,
)
AGE_DECADE = re.compile(r"\b(in\s+(?:his|her|their|the)\s+(?:early\s+|mid\s+|mid-|late\s+)?)(?:nineties|90s|90's)",
                        re.IGNORECASE)
AGE_NOUN = re.compile(r"\b(?:super)?(?:nonagenarian|centenarian)\b", re.IGNORECASE)
_AGE_DIGITS = re.compile(r"(?<!\d)(?:9\d|1[0-4]\d)(?!\d)")
AGE_NUMBER = re.compile(
    r"(?<![\d.])(?:9\d|1[0-4]\d)(?=\s*-?\s*(?:years?|yrs?|yr|y)\s*-?\s*old\b|\s*(?:y/o|y\.o\.|yo|yrs?)\b"
    r"|\s+years?\s+of\s+age\b|\s*-?\s*year-old\b)"
    r"|(?<=\baged\s)(?:9\d|1[0-4]\d)(?![\d.+])|(?<=\bage\s)(?:9\d|1[0-4]\d)(?![\d.+])|(?<=\bage:\s)(?:9\d|1[0-4]\d)(?![\d.+])"
    r"|(?<=\bage:)(?:9\d|1[0-4]\d)(?![\d.+])|(?<=\baged\s\s)(?:9\d|1[0-4]\d)(?![\d.+])",
    re.IGNORECASE,
)


def _is_name(word: str, *, lowercase_ok: bool) -> bool:
    lower = word.lower()
    if lower in NOT_A_NAME or lower in SERVICE_WORDS:
        return False
    if word[0].isupper():
        return True
    return lowercase_ok or lower in LEXICON_NAMES


def _title_name(m: re.Match[str]) -> str:
    first, second = m.group(3), m.group(4)
    if not _is_name(first, lowercase_ok=True):
        return m.group(0)
    out = f"{m.group(1)}{m.group(2)}[NAME]"
    if second:
        word = second.split()[-1]
        if _is_name(word, lowercase_ok=False) and (word[0].isupper() or word.lower() in LEXICON_NAMES):
            return out
        return out + second
    return out


def _context_name(m: re.Match[str]) -> str:
    first, second = m.group(2), m.group(3)
    context = m.group(1).strip(" ,:(").lower()
    relation = re.fullmatch(_RELATION, context.split()[0] if context else "", re.IGNORECASE) is not None
    # After a relation a capitalised word is a name; after a role it needs a second capitalised word or the lexicon.
    if not _is_name(first, lowercase_ok=False) or (not first[0].isupper() and first.lower() not in LEXICON_NAMES):
        return m.group(0)
    if not relation and not second and first.lower() not in LEXICON_NAMES:
        return m.group(0)
    if second and _is_name(second.split()[-1], lowercase_ok=False):
        return f"{m.group(1)}[NAME]"
    return f"{m.group(1)}[NAME]{second or ''}"


def _url(m: re.Match[str]) -> str:
    found = m.group(0)
    kept = found.rstrip(".,;:!?")
    if not re.search(r"[A-Za-z]{2}", kept.split(".")[0]) and "/" not in kept:
        return found  # "q.d.", "e.g.": abbreviations, not hosts
    return "[URL]" + found[len(kept):]


def _has_digit(m: re.Match[str], group: int) -> bool:
    return any(c.isdigit() for c in m.group(group))


def scrub_english_contacts(text: str) -> str:
    """Spelled-out e-mails, URLs without a scheme, international / 7-digit / labelled phones."""
    t = SPELLED_EMAIL.sub("[EMAIL]", text) if _SPELLED_AT.search(text) else text
    t = URL_NO_SCHEME.sub(_url, t)
    t = INTERNATIONAL_PHONE.sub(lambda m: "[PHONE]" if 8 <= sum(c.isdigit() for c in m.group(0)) <= 15 else m.group(0), t)
    t = PHONE_AFTER_LABEL.sub(lambda m: f"{m.group(1)}[PHONE]" if sum(c.isdigit() for c in m.group(2)) >= 7
                              else m.group(0), t)
    t = SEVEN_DIGIT_PHONE.sub("[PHONE]", t)
    return EXTENSION.sub(lambda m: f"{m.group(1)}{m.group(2)}[PHONE]", t)


def scrub_english_devices(text: str) -> str:
    """Plates and serials after their label (the label stays); run before clinical content is parked,
    since a plate or serial may look like a gene ("plate TTN 7233")."""
    t = PLATE.sub(lambda m: f"{m.group(1)}[ID]" if _has_digit(m, 2) else m.group(0), text)
    return SERIAL.sub(lambda m: f"{m.group(1)}[ID]" if _has_digit(m, 2) else m.group(0), t)


def scrub_english_labelled(text: str) -> str:
    """Record numbers after their label (the label stays)."""
    return LABELLED_ID.sub(lambda m: f"{m.group(1)}[ID]" if _has_digit(m, 2) else m.group(0), text)


def scrub_english_names(text: str) -> str:
    """Names after titles, relations and roles."""
    t = TITLE_NAME.sub(_title_name, text)
    return CONTEXT_NAME.sub(_context_name, t)


def scrub_english_ages(text: str) -> str:
    t = text
    lower = text.lower()
    if "ninet" in lower or "hundred" in lower:
        t = AGE_IN_WORDS.sub("90+", t)
    if "ninet" in lower or "90" in lower:
        t = AGE_DECADE.sub(lambda m: f"{m.group(1)}90+", t)
    if "enarian" in lower:
        t = AGE_NOUN.sub("person aged 90+", t)
    return AGE_NUMBER.sub("90+", t) if _AGE_DIGITS.search(t) else t


__all__ = ["LEXICON_NAMES", "scrub_english_ages", "scrub_english_contacts", "scrub_english_devices",
           "scrub_english_labelled",
           "scrub_english_names"]
