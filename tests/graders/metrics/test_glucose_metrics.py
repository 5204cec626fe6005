"""Glucose metrics: RMSE/MAE against scikit-learn, per-patient grouping, hand-worked Clarke zones."""

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
