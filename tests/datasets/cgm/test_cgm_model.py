"""The type-1 glucose-insulin model: rest state, physiology, sensor, determinism (short simulations)."""

import numpy as np
import pytest

from practicum.datasets.cgm.forecast import persistence_errors, persistence_rmse
from practicum.datasets.cgm.model import StepInputs, derivatives, plasma_glucose, rk4_step
from practicum.datasets.cgm.parameters import GS, NOMINAL, basal_state, sample_cohort
from practicum.datasets.cgm.sensor import JOHNSON_LAMBDA, SAMPLE_MIN, WARMUP_MIN, johnson_noise, sensor_error
from practicum.datasets.cgm.simulate import simulate_cohort
from practicum.datasets.cgm.therapy import glucose_trace, titrate


@pytest.fixture(scope="module")
def cohort():
    rng = np.random.default_rng(7)
    params = sample_cohort(rng, rng.normal(75.0, 10.0, 12))
    return params, basal_state(params)


def _rest_inputs(params):
    n = params.n
    return StepInputs(np.zeros(n), params.u_basal, np.zeros(n), np.full(n, 5e4), np.ones(n), np.ones(n))


def test_basal_state_is_a_steady_state(cohort):
    params, basal = cohort
    d = derivatives(basal.state, params, basal, _rest_inputs(params))
    assert np.abs(d).max() < 1e-9
    s = basal.state
    for _ in range(600):
        s = rk4_step(s, params, basal, _rest_inputs(params))
    np.testing.assert_allclose(plasma_glucose(s, params), params.Gb, rtol=1e-6)


def test_nominal_values_are_the_published_ones():
    # Dalla Man et al. 2007, Table 1 (normal subjects), spot checks
    assert NOMINAL["VG"] == 1.88 and NOMINAL["k1"] == 0.065 and NOMINAL["k2"] == 0.079
    assert NOMINAL["kmax"] == 0.0558 and NOMINAL["kabs"] == 0.057 and NOMINAL["Km0"] == 225.59
    assert NOMINAL["kd"] == 0.0164 and NOMINAL["ka1"] == 0.0018 and NOMINAL["ka2"] == 0.0182


def test_meal_raises_and_insulin_lowers_glucose(cohort):
    params, basal = cohort
    n = params.n
    meal_only = glucose_trace(params, basal, np.full(n, 60.0), np.zeros(n), minutes=240)
    insulin_only = glucose_trace(params, basal, np.zeros(n), np.full(n, 3.0), minutes=240)
    assert np.all(meal_only.max(axis=0) > params.Gb + 80)  # type 1: no bolus, no insulin response
    assert np.all(insulin_only.min(axis=0) < params.Gb - 10)
    therapy = titrate(params, basal)
    covered = glucose_trace(params, basal, np.full(n, 60.0), 60.0 / therapy.carb_ratio_g_per_u, minutes=300)
    peak_minute = covered.argmax(axis=0)
    assert np.all((peak_minute > 20) & (peak_minute < 150))
    assert np.all(covered.max(axis=0) < meal_only.max(axis=0))
    assert np.all(np.abs(covered[-1] - params.Gb) < 25)


def test_titration_gives_clinically_plausible_ratios(cohort):
    params, basal = cohort
    therapy = titrate(params, basal)
    assert np.all((therapy.carb_ratio_g_per_u > 2) & (therapy.carb_ratio_g_per_u < 40))
    assert np.all((therapy.correction_mgdl_per_u > 5) & (therapy.correction_mgdl_per_u < 80))


def test_sensor_noise_follows_the_johnson_model():
    rng = np.random.default_rng(0)
    noise = johnson_noise(rng, 20_000, 4)
    assert abs(np.median(noise)) < 3.0
    assert 0.4 * JOHNSON_LAMBDA < noise.std() < 1.2 * JOHNSON_LAMBDA
    x = noise[:, 0]
    lag3 = np.corrcoef(x[:-3], x[3:])[0, 1]  # 15 minutes
    assert 0.3 < lag3 < 0.8


def test_sensor_gaps_include_warm_up():
    err = sensor_error(np.random.default_rng(1), 4 * 288, 3)
    assert err.missing[: WARMUP_MIN // SAMPLE_MIN].all()
    assert 0.02 < err.missing.mean() < 0.2
    reading = err.read(100, np.array([500.0, 20.0, 120.0]))
    finite = reading[~np.isnan(reading)]
    assert np.all((finite >= 40) & (finite <= 400))


def test_simulation_is_deterministic_and_plausible():
    weights = np.array([60.0, 75.0, 90.0, 70.0])
    a = simulate_cohort(np.random.default_rng(3), weights, days=2, progress=False)
    b = simulate_cohort(np.random.default_rng(3), weights, days=2, progress=False)
    np.testing.assert_array_equal(a.readings, b.readings)
    assert a.events == b.events
    g = a.plasma_glucose
    assert g.shape == (2 * 288, 4)
    assert 35 < g.min() and g.max() < 600
    assert 90 < g.mean() < 220
    kinds = {e.kind for e in a.events}
    assert {"meal", "bolus"} <= kinds
    interstitial_lags = np.isfinite(a.readings).mean()
    assert interstitial_lags > 0.7
    assert GS == 13


def test_persistence_errors_pair_samples_across_gaps():
    r = np.array([[100.0], [110.0], [np.nan], [130.0], [140.0], [150.0], [160.0], [170.0]])
    e = persistence_errors(r, 30)  # lag 6 samples
    np.testing.assert_allclose(e, [60.0, 60.0])  # 160-100, 170-110; pairs touching the gap are skipped
    assert persistence_rmse(r, 30) == pytest.approx(60.0)
    with pytest.raises(ValueError):
        persistence_errors(r, 7)
