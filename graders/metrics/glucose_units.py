"""Glucose units: which one a set of values is in (mg/dL or mmol/L), refusing what fits neither.

Every glucose score of the lab is computed in mg/dL; ``in_mg_dl`` is the one gate values pass
through before scoring (the CLI's ``practicum eval glucose`` and the grader's protocol alike).

Conversion: 1 mmol/L of glucose is 18.016 mg/dL, from the molar mass of glucose (C6H12O6,
180.156 g/mol with IUPAC standard atomic weights: 1 mmol/L = 180.156 mg/L = 18.0156 mg/dL,
rounded to 18.016). Some meters and papers use 18 or 18.018; the difference (0.01 %) is far
below any score's resolution.

Detection (``units="auto"``) looks at which values are possible in which unit:

* over ``MMOL_L_MAX`` (55.5, i.e. 1000 mg/dL) a value can only be mg/dL;
* under ``MG_DL_MIN_PLAUSIBLE`` (20 mg/dL, 1.1 mmol/L, below what meters and CGMs report) a
  value is, as mg/dL, almost certainly a value in mmol/L;
* in between both readings are possible.

Values over 55.5 make the set mg/dL, unless at least ``MIX_SHARE`` (5 %) of them are under 20:
then the set mixes units and is refused (a few very low forecasts of a mg/dL model are kept).
Without any value over 55.5, a value under 20 makes the set mmol/L; values all between 20 and
55.5 (mg/dL: severe hypoglycaemia throughout; mmol/L: 360-1000 mg/dL throughout) cannot be
told apart and need ``units``. Always refused: NaN or infinite values, values <= 0, and values
over 1000 mg/dL (``MG_DL_MAX``) in either unit. A declared unit is checked the same way: mg/dL
values that detection reads as mmol/L (or the reverse) are refused, never silently scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

MG_DL = "mg/dL"
MMOL_L = "mmol/L"
UNITS = (MG_DL, MMOL_L)
Units = Literal["auto", "mg/dL", "mmol/L"]

MG_DL_PER_MMOL_L = 18.016
MG_DL_MAX = 1000.0
MMOL_L_MAX = MG_DL_MAX / MG_DL_PER_MMOL_L
MG_DL_MIN_PLAUSIBLE = 20.0
MIX_SHARE = 0.05


class GlucoseUnitsError(ValueError):
    """Glucose values that are implausible, of mixed units, or not in the unit declared."""


@dataclass(frozen=True)
class GlucoseValues:
    """Values in mg/dL, the unit they were given in, and whether they were converted."""

    mg_dl: NDArray[np.float64]
    units: str

    @property
    def converted(self) -> bool:
        return self.units == MMOL_L


def detect_units(values: ArrayLike, *, what: str = "glucose values") -> str:
    """``"mg/dL"`` or ``"mmol/L"`` for a set of glucose values (module docstring), or ``GlucoseUnitsError``."""
    v = _checked(values, what)
    high = v > MMOL_L_MAX
    low = v < MG_DL_MIN_PLAUSIBLE
    if high.any():
        if low.mean() >= MIX_SHARE:
            raise GlucoseUnitsError(
                f"{what} mix units: {int(low.sum())} of {v.size} are under {MG_DL_MIN_PLAUSIBLE:g} (plausible only as "
                f"mmol/L, e.g. {_example(v[low])}) and {int(high.sum())} over {MMOL_L_MAX:.1f} (possible only as mg/dL, "
                f"e.g. {_example(v[high])}); give all of them in one unit"
            )
        return MG_DL
    if low.any():
        return MMOL_L
    raise GlucoseUnitsError(
        f"cannot tell the unit of {what}: all {v.size} lie between {MG_DL_MIN_PLAUSIBLE:g} and {MMOL_L_MAX:.1f}, "
        "possible in mg/dL and in mmol/L; say which (--units mg/dL or --units mmol/L)"
    )


def in_mg_dl(values: ArrayLike, *, units: Units = "auto", what: str = "glucose values") -> GlucoseValues:
    """The values in mg/dL, after the checks of the module docstring (``units``: declared, or ``"auto"``)."""
    if units not in ("auto", *UNITS):
        raise GlucoseUnitsError(f"unknown glucose unit {units!r}; use mg/dL, mmol/L or auto")
    v = _checked(values, what)
    if units == "auto":
        found = detect_units(v, what=what)
    else:
        found = units
        if units == MMOL_L and (v > MMOL_L_MAX).any():
            raise GlucoseUnitsError(
                f"{what} are declared mmol/L but {_example(v[v > MMOL_L_MAX])} is over {MMOL_L_MAX:.1f} mmol/L "
                f"({MG_DL_MAX:g} mg/dL): not a glucose value in mmol/L"
            )
        try:
            seen = detect_units(v, what=what)
        except GlucoseUnitsError as error:
            if "mix units" in str(error):
                raise
            seen = units  # ambiguous values take the declared unit
        if seen != units:
            raise GlucoseUnitsError(
                f"{what} are meant to be {units} but look like {seen} (median {float(np.median(v)):g}); "
                + (f"convert them (mg/dL = mmol/L x {MG_DL_PER_MMOL_L})" if units == MG_DL else "check the unit")
            )
    mg_dl = v * MG_DL_PER_MMOL_L if found == MMOL_L else v
    if (mg_dl > MG_DL_MAX).any():
        raise GlucoseUnitsError(f"{what}: {_example(v[mg_dl > MG_DL_MAX])} {found} is over {MG_DL_MAX:g} mg/dL, not a glucose value")
    return GlucoseValues(mg_dl, found)


def _checked(values: ArrayLike, what: str) -> NDArray[np.float64]:
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0:
        raise GlucoseUnitsError(f"no {what}")
    if not np.all(np.isfinite(v)):
        raise GlucoseUnitsError(f"{what}: {int((~np.isfinite(v)).sum())} are NaN or infinite")
    if (v <= 0).any():
        raise GlucoseUnitsError(f"{what}: {_example(v[v <= 0])} is not a glucose value (values must be > 0)")
    if (v > MG_DL_MAX).any():
        raise GlucoseUnitsError(f"{what}: {_example(v[v > MG_DL_MAX])} is over {MG_DL_MAX:g} mg/dL, not a glucose value")
    return v


def _example(values: NDArray[np.float64]) -> str:
    return f"{float(values[0]):g}"
