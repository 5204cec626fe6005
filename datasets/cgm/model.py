"""The glucose-insulin ODEs of a type-1 patient and a fixed-step RK4 integrator.

Structure of Dalla Man et al. 2007 (see ``parameters``) with subcutaneous insulin in place
of secretion (type-1 diabetes). Units: glucose masses mg/kg, concentrations mg/dl;
insulin masses pmol/kg, concentrations pmol/l; time in minutes.

    Gut       dQsto1 = -kgri Qsto1 + carbs(t)
              dQsto2 = -kempt(Qsto) Qsto2 + kgri Qsto1
              dQgut  = -kabs Qgut + kempt(Qsto) Qsto2,     Ra = f kabs Qgut / BW
              kempt  = kmin + (kmax - kmin)/2 [tanh(a (Qsto - b D)) - tanh(c (Qsto - d D)) + 2],
              a = 5 / (2 D (1 - b)), c = 5 / (2 D d), D = size of the last meal (mg)
    Glucose   dGp = EGP + Ra - Fcns - E - k1 Gp + k2 Gt
              dGt = -Uid + k1 Gp - k2 Gt,                  G = Gp / VG
              EGP = max(0, kp1 - kp2 Gp - kp3 Id)
              Uid = (Vm0 + Vmx X) Gt / (Km0 + Gt),         E = ke1 max(0, Gp - ke2)
    Insulin   dIsc1 = -(kd + ka1) Isc1 + u(t)
              dIsc2 = kd Isc1 - ka2 Isc2
              dIp = -(m2 + m4) Ip + m1 Il + ka1 Isc1 + ka2 Isc2
              dIl = -(m1 + m30) Il + m2 Ip,                I = Ip / VI
              dI1 = -ki (I1 - I),  dId = -ki (Id - I1),  dX = -p2U X + p2U (I - Ib)
    Sensor    dGs = (G - Gs) / Ts                          (interstitial glucose the CGM sees)

Two extensions of ours, named as such:

- exercise: a heart-rate excess state Y (dY = (HR - HRb - Y) / tau_HR, the form used by
  Breton MD, "Physical activity - the major unaccounted impediment to closed loop
  control", J Diabetes Sci Technol 2008;2(1):169-174) multiplies insulin-independent and
  insulin-dependent utilisation: Uid = (Vm0 (1 + alpha Y) + Vmx X (1 + beta Y)) Gt/(Km0 + Gt);
  alpha and beta are chosen here so 45 minutes at +40 bpm lowers glucose by roughly 30-60 mg/dl;
- daily variability: kp1 is scaled by ``egp_factor`` (dawn phenomenon) and Vmx by
  ``sens_factor`` (slow day-to-day insulin-sensitivity drift).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .parameters import (
    GP,
    GS,
    GT,
    I1,
    ID,
    IL,
    IP,
    ISC1,
    ISC2,
    N_STATES,
    QGUT,
    QSTO1,
    QSTO2,
    BasalState,
    CohortParameters,
    X,
    Y,
)

TAU_HR = 5.0  # min
EXERCISE_ALPHA = 0.015  # per bpm, insulin-independent uptake
EXERCISE_BETA = 0.015  # per bpm, insulin-dependent uptake


@dataclass(frozen=True)
class StepInputs:
    """Inputs held constant over one integration step (arrays of shape (n,))."""

    carbs_mg_per_min: np.ndarray
    insulin_pmol_per_kg_min: np.ndarray
    hr_excess_bpm: np.ndarray
    meal_size_mg: np.ndarray
    egp_factor: np.ndarray
    sens_factor: np.ndarray


def derivatives(s: np.ndarray, p: CohortParameters, basal: BasalState, u: StepInputs) -> np.ndarray:
    """Right-hand side of the ODEs for all patients at once; ``s`` has shape (N_STATES, n)."""
    gp, gt = s[GP], s[GT]
    qsto = s[QSTO1] + s[QSTO2]
    dmeal = u.meal_size_mg
    a = 5.0 / (2.0 * dmeal * (1.0 - p.b))
    c = 5.0 / (2.0 * dmeal * p.d)
    kempt = p.kmin + (p.kmax - p.kmin) / 2.0 * (np.tanh(a * (qsto - p.b * dmeal)) - np.tanh(c * (qsto - p.d * dmeal)) + 2.0)
    ra = p.f * p.kabs * s[QGUT] / p.BW

    insulin = s[IP] / p.VI
    egp = np.maximum(basal.kp1 * u.egp_factor - p.kp2 * gp - p.kp3 * s[ID], 0.0)
    y = s[Y]
    vm = basal.Vm0 * (1.0 + EXERCISE_ALPHA * y) + p.Vmx * u.sens_factor * s[X] * (1.0 + EXERCISE_BETA * y)
    uid = np.maximum(vm, 0.0) * gt / (p.Km0 + gt)
    renal = p.ke1 * np.maximum(gp - p.ke2, 0.0)

    ds = np.empty_like(s)
    ds[GP] = egp + ra - p.Fcns - renal - p.k1 * gp + p.k2 * gt
    ds[GT] = -uid + p.k1 * gp - p.k2 * gt
    ds[IP] = -(p.m2 + p.m4) * s[IP] + p.m1 * s[IL] + p.ka1 * s[ISC1] + p.ka2 * s[ISC2]
    ds[IL] = -(p.m1 + p.m30) * s[IL] + p.m2 * s[IP]
    ds[I1] = -p.ki * (s[I1] - insulin)
    ds[ID] = -p.ki * (s[ID] - s[I1])
    ds[X] = -p.p2U * s[X] + p.p2U * (insulin - basal.Ib)
    ds[QSTO1] = -p.kgri * s[QSTO1] + u.carbs_mg_per_min
    ds[QSTO2] = -kempt * s[QSTO2] + p.kgri * s[QSTO1]
    ds[QGUT] = -p.kabs * s[QGUT] + kempt * s[QSTO2]
    ds[ISC1] = -(p.kd + p.ka1) * s[ISC1] + u.insulin_pmol_per_kg_min
    ds[ISC2] = p.kd * s[ISC1] - p.ka2 * s[ISC2]
    ds[Y] = (u.hr_excess_bpm - y) / TAU_HR
    ds[GS] = (gp / p.VG - s[GS]) / p.Ts
    return ds


def rk4_step(s: np.ndarray, p: CohortParameters, basal: BasalState, u: StepInputs, dt: float = 1.0) -> np.ndarray:
    """One classical Runge-Kutta step; states are kept non-negative."""
    k1 = derivatives(s, p, basal, u)
    k2 = derivatives(s + 0.5 * dt * k1, p, basal, u)
    k3 = derivatives(s + 0.5 * dt * k2, p, basal, u)
    k4 = derivatives(s + dt * k3, p, basal, u)
    out = s + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    # X (insulin action relative to basal) may be negative; every other state is a mass.
    x = out[X].copy()
    np.maximum(out, 0.0, out=out)
    out[X] = x
    return out


def plasma_glucose(s: np.ndarray, p: CohortParameters) -> np.ndarray:
    """Plasma glucose concentration G = Gp / VG, mg/dl."""
    return s[GP] / p.VG


__all__ = ["N_STATES", "StepInputs", "derivatives", "plasma_glucose", "rk4_step"]
