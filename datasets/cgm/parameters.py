"""Virtual type-1 diabetes patients: nominal model parameters, their variability, the basal state.

Nominal values are those of the meal simulation model of Dalla Man C, Rizza RA, Cobelli C.
"Meal simulation model of the glucose-insulin system." IEEE Trans Biomed Eng 2007;
54(10):1740-1749 (Table 1, normal subjects), with the subcutaneous insulin absorption
rates kd, ka1, ka2 of the type-1 simulator built on it (Dalla Man C et al., "GIM,
simulation software of meal glucose-insulin model", J Diabetes Sci Technol 2007;1(3):323-330;
Kovatchev BP et al., "In silico preclinical trials", J Diabetes Sci Technol 2009;3(1):44-55)
and the 10-minute plasma-to-interstitium sensor delay of the latter.

Inter-patient variability is ours: log-normal multipliers with the coefficients of
variation in ``VARIABILITY`` (the simulator's own joint distribution is not public).
Basal glucose Gb and basal endogenous production EGPb are drawn per patient; kp1 and Vm0
then follow from the steady state (as in the simulator), so every patient starts at rest.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

PMOL_PER_UNIT = 6000.0  # 1 U of insulin = 6000 pmol

NOMINAL: dict[str, float] = {
    # glucose kinetics
    "VG": 1.88, "k1": 0.065, "k2": 0.079,  # dl/kg, 1/min, 1/min
    # insulin kinetics
    "VI": 0.05, "m1": 0.190, "m2": 0.484, "m4": 0.194, "HEb": 0.6,  # l/kg, 1/min ...
    # rate of appearance (gut)
    "kmax": 0.0558, "kmin": 0.0080, "kabs": 0.057, "kgri": 0.0558, "f": 0.90, "b": 0.82, "d": 0.010,
    # endogenous glucose production
    "kp2": 0.0021, "kp3": 0.009, "ki": 0.0079,
    # utilisation
    "Fcns": 1.0, "Vmx": 0.047, "Km0": 225.59, "p2U": 0.0331,
    # renal excretion
    "ke1": 0.0005, "ke2": 339.0,
    # subcutaneous insulin (type-1 simulator)
    "kd": 0.0164, "ka1": 0.0018, "ka2": 0.0182,
    # interstitial (sensor) glucose delay, minutes
    "Ts": 10.0,
}

# Coefficient of variation of the log-normal multiplier applied to each nominal value (ours).
VARIABILITY: dict[str, float] = {
    "VG": 0.10, "k1": 0.15, "k2": 0.15, "VI": 0.10, "m1": 0.10, "m2": 0.10, "m4": 0.10,
    "kmax": 0.20, "kmin": 0.20, "kabs": 0.30, "kgri": 0.20, "kp2": 0.20, "kp3": 0.25, "ki": 0.15,
    "Vmx": 0.35, "Km0": 0.15, "p2U": 0.25, "kd": 0.20, "ka1": 0.25, "ka2": 0.25,
}


@dataclass(frozen=True)
class CohortParameters:
    """Model parameters of n virtual patients, one array entry per patient."""

    BW: np.ndarray  # body weight, kg
    Gb: np.ndarray  # basal plasma glucose, mg/dl
    EGPb: np.ndarray  # basal endogenous glucose production, mg/kg/min
    u_basal: np.ndarray  # basal insulin infusion, pmol/kg/min
    VG: np.ndarray
    k1: np.ndarray
    k2: np.ndarray
    VI: np.ndarray
    m1: np.ndarray
    m2: np.ndarray
    m4: np.ndarray
    HEb: np.ndarray
    kmax: np.ndarray
    kmin: np.ndarray
    kabs: np.ndarray
    kgri: np.ndarray
    f: np.ndarray
    b: np.ndarray
    d: np.ndarray
    kp2: np.ndarray
    kp3: np.ndarray
    ki: np.ndarray
    Fcns: np.ndarray
    Vmx: np.ndarray
    Km0: np.ndarray
    p2U: np.ndarray
    ke1: np.ndarray
    ke2: np.ndarray
    kd: np.ndarray
    ka1: np.ndarray
    ka2: np.ndarray
    Ts: np.ndarray

    @property
    def n(self) -> int:
        return int(self.BW.size)

    @property
    def m30(self) -> np.ndarray:
        """Hepatic insulin extraction rate at basal (Dalla Man 2007: m30 = HEb m1 / (1 - HEb))."""
        return self.HEb * self.m1 / (1.0 - self.HEb)

    def subset(self, index: np.ndarray | slice) -> CohortParameters:
        return replace(self, **{f.name: getattr(self, f.name)[index] for f in fields(self)})


def sample_cohort(
    rng: np.random.Generator,
    body_weight_kg: np.ndarray,
    basal_units_per_kg_day: np.ndarray | None = None,
) -> CohortParameters:
    """Draw one parameter set per patient (weights come from the EHR so both sides agree)."""
    bw = np.asarray(body_weight_kg, dtype=np.float64)
    n = bw.size
    values: dict[str, np.ndarray] = {}
    for name, nominal in NOMINAL.items():
        cv = VARIABILITY.get(name, 0.0)
        if cv:
            sigma = np.sqrt(np.log1p(cv**2))
            values[name] = nominal * rng.lognormal(-sigma**2 / 2, sigma, n)
        else:
            values[name] = np.full(n, nominal)
    if basal_units_per_kg_day is None:
        basal_units_per_kg_day = rng.uniform(0.22, 0.40, n)
    u_basal = np.asarray(basal_units_per_kg_day) * PMOL_PER_UNIT / 1440.0
    # Dalla Man's renal threshold ke2 = 339 mg/kg is 180 mg/dl at VG = 1.88 dl/kg; keep it at
    # 180 mg/dl whatever the patient's distribution volume.
    values["ke2"] = values["ke2"] * values["VG"] / NOMINAL["VG"]
    return CohortParameters(
        BW=bw,
        Gb=rng.uniform(115.0, 165.0, n),
        EGPb=np.clip(rng.normal(1.92, 0.15, n), 1.5, 2.4),
        u_basal=u_basal,
        **values,
    )


@dataclass(frozen=True)
class BasalState:
    """Steady state at basal insulin and no meal, plus the parameters it fixes."""

    state: np.ndarray  # (N_STATES, n)
    Ib: np.ndarray  # basal plasma insulin, pmol/l
    kp1: np.ndarray  # mg/kg/min
    Vm0: np.ndarray  # mg/kg/min


N_STATES = 14
(GP, GT, IP, IL, I1, ID, X, QSTO1, QSTO2, QGUT, ISC1, ISC2, Y, GS) = range(N_STATES)


def basal_state(p: CohortParameters) -> BasalState:
    """Solve the model's equations at rest for the insulin, glucose and the derived kp1, Vm0."""
    isc1 = p.u_basal / (p.kd + p.ka1)
    isc2 = p.kd * isc1 / p.ka2
    ip = p.u_basal / (p.m2 + p.m4 - p.m1 * p.m2 / (p.m1 + p.m30))
    il = p.m2 * ip / (p.m1 + p.m30)
    ib = ip / p.VI
    gpb = p.Gb * p.VG
    # dGp/dt = 0 with no meal and Gp below the renal threshold: EGPb = Fcns + k1 Gp - k2 Gt
    gtb = (p.Fcns - p.EGPb + p.k1 * gpb) / p.k2
    # dGt/dt = 0 with X = 0: Uid = Vm0 Gt/(Km0 + Gt) = EGPb - Fcns
    vm0 = (p.EGPb - p.Fcns) * (p.Km0 + gtb) / gtb
    kp1 = p.EGPb + p.kp2 * gpb + p.kp3 * ib
    state = np.zeros((N_STATES, p.n))
    state[GP], state[GT] = gpb, gtb
    state[IP], state[IL], state[I1], state[ID] = ip, il, ib, ib
    state[ISC1], state[ISC2] = isc1, isc2
    state[GS] = p.Gb
    return BasalState(state=state, Ib=ib, kp1=kp1, Vm0=vm0)
