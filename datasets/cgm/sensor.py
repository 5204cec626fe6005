"""What a CGM makes of interstitial glucose: colored noise, calibration drift, gaps, limits.

Noise follows Breton M, Kovatchev B. "Analysis, modeling, and simulation of the accuracy
of continuous glucose sensors." J Diabetes Sci Technol 2008;2(5):853-862: a unit-variance
autoregressive sequence e_n = 0.7 (e_{n-1} + v_n), v_n ~ N(0, 1), mapped through a
Johnson S_U transform eps = xi + lambda sinh((e - gamma) / delta) with the parameters
reported there (xi = -5.471, lambda = 15.9574, delta = 1.6898, gamma = -0.5444 mg/dl).
We evaluate the sequence every 15 minutes and interpolate linearly to the 5-minute grid.

Ours: sensors last 10 days and start with a 2-hour warm-up without readings; each sensor
has a calibration error that drifts linearly over its life (gain and offset); signal
dropouts arrive at random (about one every two days, log-normal durations, median
35 minutes); readings are clipped to the 40-400 mg/dl range of commercial sensors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAMPLE_MIN = 5
SENSOR_DAYS = 10
WARMUP_MIN = 120
JOHNSON_XI, JOHNSON_LAMBDA, JOHNSON_DELTA, JOHNSON_GAMMA = -5.471, 15.9574, 1.6898, -0.5444
AR_COEF = 0.7
READ_MIN, READ_MAX = 40.0, 400.0


@dataclass(frozen=True)
class SensorError:
    """Per-sample sensor error terms, shape (n_samples, n_patients)."""

    noise_mgdl: np.ndarray
    gain: np.ndarray
    offset_mgdl: np.ndarray
    missing: np.ndarray  # bool
    session: np.ndarray  # index of the sensor worn at each sample

    def read(self, k: int, interstitial: np.ndarray) -> np.ndarray:
        """Readings at sample k for interstitial glucose values (NaN where missing)."""
        value = np.clip(self.gain[k] * interstitial + self.offset_mgdl[k] + self.noise_mgdl[k], READ_MIN, READ_MAX)
        return np.where(self.missing[k], np.nan, value)


def johnson_noise(rng: np.random.Generator, n_samples: int, n_patients: int) -> np.ndarray:
    """Breton-Kovatchev colored sensor noise on the 5-minute grid, mg/dl."""
    per_15 = SAMPLE_MIN / 15.0
    n_coarse = int(np.ceil(n_samples * per_15)) + 2
    v = rng.standard_normal((n_coarse, n_patients))
    e = np.empty_like(v)
    e[0] = v[0]
    for i in range(1, n_coarse):
        e[i] = AR_COEF * (e[i - 1] + v[i])
    eps = JOHNSON_XI + JOHNSON_LAMBDA * np.sinh((e - JOHNSON_GAMMA) / JOHNSON_DELTA)
    coarse_t = np.arange(n_coarse)
    fine_t = np.arange(n_samples) * per_15
    return np.stack([np.interp(fine_t, coarse_t, eps[:, j]) for j in range(n_patients)], axis=1)


def sensor_error(rng: np.random.Generator, n_samples: int, n_patients: int) -> SensorError:
    """Noise, drifting calibration, warm-ups and dropouts for every patient's sensors."""
    per_session = SENSOR_DAYS * 1440 // SAMPLE_MIN
    k = np.arange(n_samples)
    session = np.repeat((k // per_session)[:, None], n_patients, axis=1)
    n_sessions = int(session.max()) + 1
    age = (k % per_session)[:, None] / per_session  # 0 .. 1 over a sensor's life

    gain0 = rng.normal(0.0, 0.04, (n_sessions, n_patients))
    gain_drift = rng.normal(0.0, 0.05, (n_sessions, n_patients))
    off0 = rng.normal(0.0, 4.0, (n_sessions, n_patients))
    off_drift = rng.normal(0.0, 5.0, (n_sessions, n_patients))
    cols = np.arange(n_patients)[None, :]
    gain = 1.0 + gain0[session, cols] + gain_drift[session, cols] * age
    offset = off0[session, cols] + off_drift[session, cols] * age

    missing = np.repeat(((k % per_session) < WARMUP_MIN // SAMPLE_MIN)[:, None], n_patients, axis=1)
    days = n_samples * SAMPLE_MIN / 1440.0
    for j in range(n_patients):
        for _ in range(rng.poisson(days / 2.0)):
            start = int(rng.integers(0, n_samples))
            length = max(1, int(round(rng.lognormal(np.log(35.0), 0.9) / SAMPLE_MIN)))
            missing[start : start + length, j] = True
    return SensorError(
        noise_mgdl=johnson_noise(rng, n_samples, n_patients),
        gain=gain,
        offset_mgdl=offset,
        missing=missing,
        session=session,
    )
