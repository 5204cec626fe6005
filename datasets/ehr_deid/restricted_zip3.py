"""Three-digit ZIP prefixes that Safe Harbor de-identification must report as "000".

45 CFR 164.514(b)(2)(i)(B) allows the initial three digits of a ZIP code only where the
geographic unit formed by all ZIP codes with those three digits contains more than
20,000 people according to current Census data; otherwise they must become "000".

Source: U.S. Department of Health and Human Services, Office for Civil Rights,
"Guidance Regarding Methods for De-identification of Protected Health Information in
Accordance with the Health Insurance Portability and Accountability Act (HIPAA) Privacy
Rule", November 26, 2012, section 3.3 ("When can ZIP codes be included in de-identified
information?"), which lists the 17 three-digit ZIP Code Tabulation Areas with 20,000 or
fewer people in the 2000 Census (also in the preamble of the 2002 final rule, 67 FR
53182, 53233-53234). HHS notes the list must follow newer Census data when published; a
deployment that uses a newer list passes it to the de-identifier (``restricted=``).

The states are given for readers' orientation only.
"""

from __future__ import annotations

from typing import NamedTuple


class RestrictedPrefix(NamedTuple):
    zip3: str
    state: str


CENSUS_YEAR = 2000
RESTRICTED_ZIP3_TABLE: tuple[RestrictedPrefix, ...] = (
    RestrictedPrefix("036", "NH"),
    RestrictedPrefix("059", "VT"),
    RestrictedPrefix("063", "CT"),
    RestrictedPrefix("102", "NY"),
    RestrictedPrefix("203", "DC"),
    RestrictedPrefix("556", "MN"),
    RestrictedPrefix("692", "NE"),
    RestrictedPrefix("790", "TX"),
    RestrictedPrefix("821", "WY"),
    RestrictedPrefix("823", "WY"),
    RestrictedPrefix("830", "WY"),
    RestrictedPrefix("831", "WY"),
    RestrictedPrefix("878", "NM"),
    RestrictedPrefix("879", "NM"),
    RestrictedPrefix("884", "NM"),
    RestrictedPrefix("890", "NV"),
    RestrictedPrefix("893", "NV"),
)
RESTRICTED_ZIP3: frozenset[str] = frozenset(p.zip3 for p in RESTRICTED_ZIP3_TABLE)
