"""Glucose metrics: RMSE/MAE against scikit-learn, per-patient grouping, hand-worked Clarke zones."""

from fractions import Fraction

import numpy as np
import pytest
from sklearn.metrics import mean_absolute_error, mean_squared_error

from practicum.graders.metrics.glucose import (
    clarke_zone_percentages,
    clarke_zones,
    glucose_error_summary,
    mae,
    mard,
    per_patient_errors,
    rmse,
)


def test_rmse_and_mae_match_scikit_learn():
    rng = np.random.default_rng(3)
    t = rng.uniform(40, 400, 500)
    p = t + rng.normal(0, 20, 500)
    assert rmse(t, p) == pytest.approx(np.sqrt(mean_squared_error(t, p)))
    assert mae(t, p) == pytest.approx(mean_absolute_error(t, p))


def test_mard_is_relative_to_the_reference():
    assert mard([100, 200], [110, 180]) == pytest.approx(10.0)


def test_per_patient_errors_group_by_patient():
    t = np.array([100, 100, 200, 200, 50.0])
    p = np.array([110, 90, 200, 230, 50.0])
    ids = np.array(["b", "b", "a", "a", "c"])
    errors = {e.patient_id: e for e in per_patient_errors(t, p, ids)}
    assert errors["b"].rmse == pytest.approx(10.0) and errors["b"].mae == pytest.approx(10.0) and errors["b"].n == 2
    assert errors["a"].rmse == pytest.approx(np.sqrt(450.0)) and errors["a"].mae == pytest.approx(15.0)
    assert errors["c"].rmse == 0.0
    summary = glucose_error_summary(t, p, ids)
    assert summary.n == 5
    assert summary.rmse == pytest.approx(rmse(t, p))
    assert summary.mean_patient_rmse == pytest.approx((10.0 + np.sqrt(450.0) + 0.0) / 3)
    assert '"mean_patient_rmse"' in summary.to_json()


@pytest.mark.parametrize("bad", [([1, 2], [1]), ([], []), ([1, np.nan], [1, 2])])
def test_bad_inputs_raise(bad):
    with pytest.raises(ValueError):
        rmse(*bad)


# (reference, prediction, zone): points inside every zone and on / just beside its lines.
CLARKE_CASES = [
    # A: agreement within 20 %, or both hypoglycaemic
    (100, 100, "A"), (100, 120, "A"), (100, 80, "A"), (100, 119.5, "A"), (50, 65, "A"),
    (65, 70, "A"), (70, 56, "A"), (60, 72, "A"), (58.4, 69.9, "A"), (300, 360, "A"),
    # B: benign errors just outside A, and the lower-middle region
    (100, 120.5, "B"), (100, 79, "B"), (200, 150, "B"), (100, 209.9, "B"), (239.9, 150, "B"),
    (179, 70, "B"), (129, 0, "B"), (70.5, 56, "B"), (400, 250, "B"), (300, 420, "B"),
    # C: over-correction lines y = x + 110 (70..290) and y = 7/5 x - 182 (130..180)
    (100, 210, "C"), (100, 210.1, "C"), (290, 400, "C"), (80, 300, "C"),
    (130, 0, "C"), (150, 28, "C"), (160, 40, "C"), (175, 60, "C"),
    # D: dangerous failure to detect (x >= 240 with 70..180; x <= 70 with 70..180 above A)
    (300, 150, "D"), (240, 180, "D"), (240.1, 150, "D"), (400, 71, "D"), (50, 100, "D"),
    (58, 179, "D"), (60, 75, "D"), (65, 179, "D"), (30, 70.5, "D"),
    # E: erroneous treatment (hypo read as hyper and vice versa)
    (200, 70, "E"), (180, 70, "E"), (250, 50, "E"), (50, 200, "E"), (70, 180, "E"), (0, 400, "E"), (400, 70, "E"),
]


def test_clarke_zones_hand_worked_cases():
    x = np.array([c[0] for c in CLARKE_CASES], dtype=float)
    y = np.array([c[1] for c in CLARKE_CASES], dtype=float)
    expected = [c[2] for c in CLARKE_CASES]
    got = clarke_zones(x, y).tolist()
    wrong = [(c, g) for c, g in zip(CLARKE_CASES, got, strict=True) if c[2] != g]
    assert not wrong, wrong
    assert set(expected) == {"A", "B", "C", "D", "E"}


def test_clarke_percentages_sum_to_100():
    x = np.array([c[0] for c in CLARKE_CASES], dtype=float)
    y = np.array([c[1] for c in CLARKE_CASES], dtype=float)
    pct = clarke_zone_percentages(x, y)
    assert sum(pct.values()) == pytest.approx(100.0)
    assert pct["A"] == pytest.approx(100.0 * 10 / len(CLARKE_CASES))


def test_clarke_rejects_negative_values():
    with pytest.raises(ValueError):
        clarke_zones([-1], [100])


# --- exact lines -----------------------------------------------------------------------------

# Points exactly on a sloped line, where float arithmetic (1.4 * x - 182, 1.2 * x, 0.8 * x) rounds
# to the wrong side; closed lines put them in the first zone that contains them.
ON_THE_LINES = [
    (165, 49, "C"), (170, 56, "C"), (175, 63, "C"), (140, 14, "C"),  # y = 7/5 x - 182
    (101.3, 121.56, "A"), (101.3, 81.04, "A"), (33.7, 40.44, "A"), (251.7, 302.04, "A"),  # y = 1.2x, 0.8x
    (100.1, 210.1, "C"), (70.3, 180.3, "C"),  # y = x + 110
]


def test_points_exactly_on_a_line_take_the_closed_zone():
    x = np.array([c[0] for c in ON_THE_LINES], dtype=float)
    y = np.array([c[1] for c in ON_THE_LINES], dtype=float)
    assert clarke_zones(x, y).tolist() == [c[2] for c in ON_THE_LINES]
    # The float arithmetic the zones used to rely on puts some of them on the wrong side.
    assert (y[:3] > 7.0 / 5.0 * x[:3] - 182).all()


def clarke_zone_of(x: Fraction, y: Fraction) -> str:
    """An independent, scalar reading of Clarke et al. 1987 in rational arithmetic (closed lines, A E C D B)."""
    if (x <= 70 and y <= 70) or (Fraction(4, 5) * x <= y <= Fraction(6, 5) * x):
        return "A"
    if (x >= 180 and y <= 70) or (x <= 70 and y >= 180):
        return "E"
    if (70 <= x <= 290 and y >= x + 110) or (130 <= x <= 180 and y <= Fraction(7, 5) * x - 182):
        return "C"
    if (x >= 240 and 70 <= y <= 180) or (x <= Fraction(175, 3) and 70 <= y <= 180):
        return "D"
    if Fraction(175, 3) <= x <= 70 and y >= Fraction(6, 5) * x:
        return "D"
    return "B"


def test_clarke_zones_equal_an_independent_rational_implementation():
    rng = np.random.default_rng(11)
    x = np.round(rng.uniform(0, 420, 12_000), 1)
    y = np.round(rng.uniform(0, 420, 12_000), 1)
    # A third of the points snapped onto the sloped lines, where rounding matters.
    on = rng.integers(0, 5, 4_000)
    xs = np.round(rng.uniform(40, 300, 4_000), 1)
    ys = np.choose(on, [np.round(1.2 * xs, 2), np.round(0.8 * xs, 2), xs + 110, np.round(1.4 * xs - 182, 1), np.round(1.2 * xs, 2)])
    x, y = np.r_[x, xs], np.r_[y, np.abs(ys)]
    expected = [clarke_zone_of(Fraction(repr(float(a))), Fraction(repr(float(b)))) for a, b in zip(x, y, strict=True)]
    got = clarke_zones(x, y).tolist()
    wrong = [(a, b, e, g) for a, b, e, g in zip(x, y, expected, got, strict=True) if e != g]
    assert not wrong, wrong[:5]
    assert set(expected) == {"A", "B", "C", "D", "E"}
