"""The cohort's complication figures beside the published ones they are calibrated to (the dataset card's table).

Sources (figures only; definitions differ in detail and are named in each row):
- Yau JWY et al., Global prevalence and major risk factors of diabetic retinopathy (META-EYE, 35 population
  studies, 22,896 people), Diabetes Care 2012;35:556-564: any retinopathy 77.3 % in type 1, 25.2 % in type 2.
- Stratton IM et al., UKPDS 50: risk factors for incidence and progression of retinopathy in type II
  diabetes over 6 years from diagnosis, Diabetologia 2001;44:156-163: 22 % of those without retinopathy at
  diagnosis developed it within 6 years.
- Adler AI et al., UKPDS 64: development and progression of nephropathy in type 2 diabetes, Kidney Int
  2003;63:225-232: ten years after diagnosis macroalbuminuria 5.3 % and raised plasma creatinine or renal
  replacement 0.8 %; progression from micro- to macroalbuminuria 2.8 % a year.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .cohort import Cohort
from .outcomes import Outcomes

YAU_2012 = "Yau et al., Diabetes Care 2012;35:556-564"
UKPDS_50 = "UKPDS 50, Stratton et al., Diabetologia 2001;44:156-163"
UKPDS_64 = "UKPDS 64, Adler et al., Kidney Int 2003;63:225-232"


@dataclass(frozen=True)
class PopulationFigure:
    measure: str
    this_build: str
    published: str
    source: str

    def to_json(self) -> dict[str, str]:
        return asdict(self)


def _share(values: np.ndarray) -> str:
    return f"{100.0 * float(values.mean()):.1f} %" if values.size else "n/a"


def population_figures(cohort: Cohort, outcomes: Outcomes) -> list[PopulationFigure]:
    """Prevalence at the index date and five-year incidence by diabetes type, with their published counterparts."""
    t1, t2 = cohort.diabetes_type == 1, cohort.diabetes_type == 2
    at_risk_r, at_risk_n = outcomes.retinopathy >= 0, outcomes.nephropathy >= 0
    median_duration = {t: float(np.median(cohort.duration_years[m])) if m.any() else float("nan") for t, m in ((1, t1), (2, t2))}
    return [
        PopulationFigure(f"retinopathy at the index date, type 1 (median duration {median_duration[1]:.0f} y)",
                         _share(cohort.prevalent_retinopathy[t1]), "77.3 % (any retinopathy, pooled)", YAU_2012),
        PopulationFigure(f"retinopathy at the index date, type 2 (median duration {median_duration[2]:.0f} y)",
                         _share(cohort.prevalent_retinopathy[t2]), "25.2 % (any retinopathy, pooled)", YAU_2012),
        PopulationFigure("new retinopathy within 5 years, type 2, none at the index date",
                         _share(outcomes.retinopathy[t2 & at_risk_r] == 1), "22 % within 6 years of diagnosis", UKPDS_50),
        PopulationFigure("new retinopathy within 5 years, type 1, none at the index date",
                         _share(outcomes.retinopathy[t1 & at_risk_r] == 1), "not calibrated to one source", ""),
        PopulationFigure("nephropathy (eGFR < 45 or UACR >= 300 mg/g) at the index date, type 2",
                         _share(cohort.prevalent_nephropathy[t2]),
                         "6.1 % ten years after diagnosis (macroalbuminuria 5.3 %, raised creatinine or dialysis 0.8 %)", UKPDS_64),
        PopulationFigure("nephropathy (eGFR < 45 or UACR >= 300 mg/g) at the index date, type 1",
                         _share(cohort.prevalent_nephropathy[t1]), "not calibrated to one source", ""),
        PopulationFigure("new nephropathy within 5 years, type 2, none at the index date",
                         _share(outcomes.nephropathy[t2 & at_risk_n] == 1),
                         "about 13 % of the microalbuminuric (2.8 % a year to macroalbuminuria)", UKPDS_64),
        PopulationFigure("new nephropathy within 5 years, type 1, none at the index date",
                         _share(outcomes.nephropathy[t1 & at_risk_n] == 1), "not calibrated to one source", ""),
    ]
