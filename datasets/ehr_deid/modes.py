"""The two de-identification modes, each named for what it does to dates.

- ``safe-harbor``: the HIPAA Safe Harbor method, 45 CFR 164.514(b)(2). Every element of a
  date except the year is removed (structured cells keep the year, notes keep "2019" or
  "2019年", dates without a year become ``[DATE]``); ages over 89 and birth dates of patients
  aged 90 or over are aggregated into "90+" / removed.
- ``date-shift``: every date of a patient is moved by one secret whole number of days
  (intervals, weekdays-of-interval and seasons approximately kept), as research releases such
  as MIMIC do. This is *not* Safe Harbor: the output is a limited data set (164.514(e)) or
  needs an expert determination (164.514(b)(1)) before it is released. The lab's own dataset
  build uses it, because its projects (glucose forecasting, complication risk) need exact
  intervals between readings, visits and outcomes.

Both modes remove or pseudonymise the other Safe Harbor identifiers the same way.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path


class DeidMode(StrEnum):
    SAFE_HARBOR = "safe-harbor"
    DATE_SHIFT = "date-shift"

    @property
    def method(self) -> str:
        """One line for reports and cards."""
        if self is DeidMode.SAFE_HARBOR:
            return ("safe-harbor: HIPAA Safe Harbor, 45 CFR 164.514(b)(2) - dates reduced to their year, ages over "
                    "89 as 90+, identifiers removed or pseudonymised")
        return ("date-shift: per-patient secret date shift with identifiers removed or pseudonymised - a limited data "
                "set (45 CFR 164.514(e)) or expert determination (164.514(b)(1)), not Safe Harbor")

    @property
    def card_sentence(self) -> str:
        """How a dataset card says what was done."""
        common = ("keyed pseudonyms, direct identifiers removed, ages over 89 grouped as 90+, ZIP codes cut to 3 digits "
                  "(000 for small areas), notes, visit reasons and diagnosis descriptions scrubbed (English and "
                  "Chinese); verified by a byte-level scan for every planted identifier.")
        if self is DeidMode.SAFE_HARBOR:
            return ("De-identified in safe-harbor mode (HIPAA Safe Harbor, 45 CFR 164.514(b)(2)): dates reduced to "
                    "their year, " + common)
        return ("De-identified in date-shift mode, which is not HIPAA Safe Harbor: every date of a patient is moved "
                "by one secret offset so that the projects keep exact intervals, which makes the data a limited data "
                "set (45 CFR 164.514(e)) to be shared under a data use agreement or after an expert determination; "
                + common)


def read_mode(deid_dir: Path) -> DeidMode:
    """The mode recorded in a de-identified folder's ``deid_report.json`` (reports made before modes existed
    shifted dates, so they read as ``date-shift``)."""
    report = json.loads((Path(deid_dir) / "deid_report.json").read_text(encoding="utf-8"))
    return DeidMode(report.get("mode", DeidMode.DATE_SHIFT.value))


__all__ = ["DeidMode", "read_mode"]
