"""Glucose units: detection from the values, declared units checked, implausible values refused."""

import numpy as np
import pytest

from practicum.graders.metrics.glucose_units import (
    MG_DL_PER_MMOL_L,
    GlucoseUnitsError,
    detect_units,
    in_mg_dl,
)

MG_DL_TRACE = [65.0, 98.0, 142.0, 180.0, 251.0, 310.0]
MMOL_L_TRACE = [3.6, 5.4, 7.9, 10.0, 13.9, 17.2]


def test_a_trace_in_each_unit_is_recognised_and_mmol_is_converted():
    assert detect_units(MG_DL_TRACE) == "mg/dL"
    assert detect_units(MMOL_L_TRACE) == "mmol/L"
    converted = in_mg_dl(MMOL_L_TRACE)
    assert converted.units == "mmol/L" and converted.converted
    np.testing.assert_allclose(converted.mg_dl, np.array(MMOL_L_TRACE) * 18.016)
    kept = in_mg_dl(MG_DL_TRACE)
    assert kept.units == "mg/dL" and not kept.converted
    np.testing.assert_array_equal(kept.mg_dl, MG_DL_TRACE)


def test_the_factor_is_the_molar_mass_of_glucose():
    assert MG_DL_PER_MMOL_L == pytest.approx(180.156 / 10, abs=1e-3)


def test_a_few_very_low_forecasts_of_a_mg_dl_model_stay_mg_dl():
    values = MG_DL_TRACE * 10 + [12.0]  # 1 of 61 under 20 mg/dL
    assert detect_units(values) == "mg/dL"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([100.0, np.nan], "NaN or infinite"),
        ([100.0, np.inf], "NaN or infinite"),
        ([100.0, 0.0], "0 is not a glucose value"),
        ([100.0, -4.0], "-4 is not a glucose value"),
        ([100.0, 1200.0], "1200 is over 1000 mg/dL"),
        (MG_DL_TRACE + MMOL_L_TRACE, "mix units"),
        ([25.0, 40.0, 52.0], "cannot tell the unit"),
        ([], "no glucose values"),
    ],
)
def test_implausible_values_are_refused_with_the_reason(values, message):
    with pytest.raises(GlucoseUnitsError, match=message):
        in_mg_dl(values)


def test_a_declared_unit_is_checked_against_the_values():
    with pytest.raises(GlucoseUnitsError, match="meant to be mg/dL but look like mmol/L"):
        in_mg_dl(MMOL_L_TRACE, units="mg/dL")
    with pytest.raises(GlucoseUnitsError, match="over 55.5 mmol/L"):
        in_mg_dl([5.0, 60.0], units="mmol/L")
    with pytest.raises(GlucoseUnitsError, match="unknown glucose unit"):
        in_mg_dl(MG_DL_TRACE, units="mg/dl")  # type: ignore[arg-type]
    # Values that fit both units take the declared one.
    assert in_mg_dl([25.0, 40.0], units="mg/dL").units == "mg/dL"
    np.testing.assert_allclose(in_mg_dl([25.0, 40.0], units="mmol/L").mg_dl, [25.0 * 18.016, 40.0 * 18.016])
