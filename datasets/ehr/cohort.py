"""The latent clinical state of a diabetes-clinic cohort (what the records are measurements of).

One row per patient: diabetes type and duration, the patient's usual HbA1c, blood
pressure, lipids, kidney function, smoking, body size, and the complications already
present at the index date. Distributions are ours, shaped after what large registries
report for adult clinic populations (type 1 younger with longer duration, type 2 older,
heavier and more often hypertensive); they are not fitted to any data set, but the
complications present at the index date are calibrated by type and duration to published
prevalences (``population.py`` names them; the dataset card shows both side by side).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

DAYS_PER_YEAR = 365.25
INDEX_FIRST = np.datetime64("2015-01-01")
INDEX_LAST = np.datetime64("2019-12-31")
FOLLOW_UP_YEARS = 5


# Retinopathy already present at the index date (log-odds): calibrated so that its prevalence by type
# and duration lands near the pooled figures of Yau et al. 2012 (see the dataset card).
PREVALENT_RETINOPATHY = {"intercept": -0.05, "hba1c_per_pct": 0.5, "log_duration_per_e": 1.5, "hypertension": 0.3, "type2": -0.7}
KIDNEY_DISEASE = {"intercept": -2.55, "per_year": 0.03, "hba1c_per_pct": 0.35, "hypertension": 0.6, "log_uacr_rise": 2.5}


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class Cohort:
    """Latent per-patient values; arrays of length n."""

    sex: np.ndarray  # 'F' | 'M'
    diabetes_type: np.ndarray  # 1 | 2
    age_at_index: np.ndarray  # years (float)
    duration_years: np.ndarray
    index_date: np.ndarray  # datetime64[D]
    birth_date: np.ndarray  # datetime64[D]
    onset_date: np.ndarray  # datetime64[D]
    hba1c: np.ndarray  # usual HbA1c, %
    sbp: np.ndarray  # usual systolic BP, mmHg
    dbp: np.ndarray
    hypertension: np.ndarray  # bool
    smoking: np.ndarray  # 'never' | 'former' | 'current'
    ldl: np.ndarray  # mg/dl
    hdl: np.ndarray
    triglycerides: np.ndarray
    egfr: np.ndarray  # ml/min/1.73 m2 at index
    uacr: np.ndarray  # urine albumin/creatinine ratio, mg/g
    height_cm: np.ndarray
    weight_kg: np.ndarray
    prevalent_retinopathy: np.ndarray  # bool
    prevalent_nephropathy: np.ndarray  # bool
    frailty: np.ndarray  # unobserved heterogeneity of complication risk

    @property
    def n(self) -> int:
        return int(self.sex.size)

    @property
    def bmi(self) -> np.ndarray:
        return self.weight_kg / (self.height_cm / 100.0) ** 2

    def with_values(self, **changes: np.ndarray) -> Cohort:
        return replace(self, **changes)

    def subset(self, index: np.ndarray) -> Cohort:
        return replace(self, **{f.name: getattr(self, f.name)[index] for f in fields(self)})


def sample_cohort(rng: np.random.Generator, n: int, type1_fraction: float = 0.35) -> Cohort:
    """Draw n patients of an adult diabetes clinic."""
    t1 = rng.random(n) < type1_fraction
    dtype = np.where(t1, 1, 2)
    sex = np.where(rng.random(n) < np.where(t1, 0.5, 0.54), "M", "F")

    age_t1 = rng.uniform(18.0, 78.0, n)
    onset_t1 = rng.uniform(3.0, np.minimum(age_t1 - 1.0, 40.0))
    age_t2 = np.clip(rng.normal(62.0, 11.0, n), 32.0, 89.0)
    very_old = rng.random(n) < 0.02
    age_t2 = np.where(very_old, rng.uniform(90.0, 99.0, n), age_t2)
    duration_t2 = np.minimum(rng.gamma(2.0, 4.5, n) + 0.3, age_t2 - 28.0)
    age = np.where(t1, age_t1, age_t2)
    duration = np.where(t1, age_t1 - onset_t1, duration_t2)

    span = int((INDEX_LAST - INDEX_FIRST).astype(int))
    index_date = INDEX_FIRST + rng.integers(0, span, n).astype("timedelta64[D]")
    birth_date = index_date - np.round(age * DAYS_PER_YEAR).astype("timedelta64[D]")
    onset_date = index_date - np.round(duration * DAYS_PER_YEAR).astype("timedelta64[D]")

    hba1c = np.clip(np.where(t1, rng.normal(8.0, 1.2, n), rng.normal(7.4, 1.2, n)), 5.4, 13.5)
    male = sex == "M"
    height = np.where(male, rng.normal(176.0, 7.0, n), rng.normal(163.0, 6.5, n))
    bmi = np.clip(np.where(t1, rng.normal(26.0, 4.0, n), rng.normal(32.0, 6.0, n)), 17.0, 55.0)
    weight = bmi * (height / 100.0) ** 2

    p_htn = _logistic(-1.6 + 0.06 * (age - 55.0) + 0.08 * (bmi - 28.0) + 0.6 * (dtype == 2))
    hypertension = rng.random(n) < p_htn
    sbp = 122.0 + 12.0 * hypertension + 0.25 * (age - 55.0) + rng.normal(0.0, 10.0, n)
    dbp = 76.0 + 5.0 * hypertension - 0.1 * (age - 55.0) + rng.normal(0.0, 7.0, n)

    u = rng.random(n)
    smoking = np.where(u < 0.16, "current", np.where(u < 0.41, "former", "never"))

    ldl = np.clip(rng.normal(102.0, 30.0, n), 35.0, 260.0)
    hdl = np.clip(rng.normal(np.where(male, 44.0, 54.0) - 0.4 * (bmi - 28.0), 11.0), 20.0, 110.0)
    triglycerides = np.clip(rng.lognormal(np.log(np.where(t1, 95.0, 150.0)), 0.45), 30.0, 1200.0)

    # Established diabetic kidney disease, more likely with duration, glycaemia and hypertension: it
    # lowers eGFR and raises albuminuria, so that the index-date prevalence of nephropathy (eGFR < 45 or
    # UACR >= 300 mg/g) lands near what registries report (see the dataset card).
    p_dkd = _logistic(KIDNEY_DISEASE["intercept"] + KIDNEY_DISEASE["per_year"] * (duration - 10.0)
                      + KIDNEY_DISEASE["hba1c_per_pct"] * (hba1c - 7.5) + KIDNEY_DISEASE["hypertension"] * hypertension)
    dkd = rng.random(n) < p_dkd
    egfr = np.clip(125.0 - 0.85 * (age - 20.0) - 0.35 * duration - dkd * rng.uniform(15.0, 50.0, n)
                   + rng.normal(0.0, 13.0, n), 6.0, 145.0)
    log_uacr = (
        np.log(12.0) + 0.30 * (hba1c - 7.5) + 0.03 * duration + 0.015 * (sbp - 130.0) + rng.normal(0.0, 0.9, n)
        + dkd * rng.normal(KIDNEY_DISEASE["log_uacr_rise"], 0.8, n)
    )
    uacr = np.clip(np.exp(log_uacr), 1.0, 5000.0)

    frailty = rng.normal(0.0, 1.0, n)
    retino_lp = (
        PREVALENT_RETINOPATHY["intercept"] + PREVALENT_RETINOPATHY["hba1c_per_pct"] * (hba1c - 7.5)
        + PREVALENT_RETINOPATHY["log_duration_per_e"] * np.log(np.maximum(duration, 0.5) / 10.0)
        + PREVALENT_RETINOPATHY["hypertension"] * hypertension + PREVALENT_RETINOPATHY["type2"] * (dtype == 2)
    )
    prevalent_retinopathy = rng.random(n) < _logistic(retino_lp)
    prevalent_nephropathy = (egfr < 45.0) | (uacr >= 300.0)

    return Cohort(
        sex=sex,
        diabetes_type=dtype,
        age_at_index=age,
        duration_years=duration,
        index_date=index_date,
        birth_date=birth_date,
        onset_date=onset_date,
        hba1c=hba1c,
        sbp=sbp,
        dbp=dbp,
        hypertension=hypertension,
        smoking=smoking,
        ldl=ldl,
        hdl=hdl,
        triglycerides=triglycerides,
        egfr=egfr,
        uacr=uacr,
        height_cm=height,
        weight_kg=weight,
        prevalent_retinopathy=prevalent_retinopathy,
        prevalent_nephropathy=prevalent_nephropathy,
        frailty=frailty,
    )


def glucose_management_indicator(mean_glucose_mgdl: np.ndarray) -> np.ndarray:
    """HbA1c-equivalent (%) of a CGM mean glucose: GMI = 3.31 + 0.02392 x mean glucose (mg/dl).

    Bergenstal RM et al. "Glucose Management Indicator (GMI): a new term for estimating A1C
    from continuous glucose monitoring." Diabetes Care 2018;41(11):2275-2280.
    """
    return 3.31 + 0.02392 * np.asarray(mean_glucose_mgdl)
