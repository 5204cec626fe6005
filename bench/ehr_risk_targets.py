"""How often the generator's own risk passes the ehr_complication_risk targets on a test split of the build's size.

Draws ``--splits`` fresh cohorts of ``--patients`` (default: the small build's test split, 488 patients) from
the EHR generator, keeps the patients at risk (no retinopathy at the index date) and scores, against the
drawn five-year labels: the true risk, the recorded features alone (the unobserved frailty left out), HbA1c
alone and diabetes duration alone. Prints their AUROC and Brier (mean, 5th and 95th percentiles) and the share
of splits where each passes the project's targets. The targets are set from these figures
(projects/ehr_complication_risk/project.yaml).

    .venv/bin/python bench/ehr_risk_targets.py [--patients 488] [--splits 1000] [--seed 5]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score

from practicum.contracts.project_spec import load_project_spec
from practicum.datasets.ehr.cohort import sample_cohort
from practicum.datasets.ehr.outcomes import RETINOPATHY_COEF, _linear_predictor, draw_outcomes

SPEC = Path(__file__).resolve().parents[1] / "projects" / "ehr_complication_risk" / "project.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=488, help="test split size (patients, at risk or not)")
    parser.add_argument("--splits", type=int, default=1000, help="simulated test splits")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    targets = {t.metric: t.threshold for t in load_project_spec(SPEC).targets}
    rng = np.random.default_rng(args.seed)
    rows = []
    for _ in range(args.splits):
        cohort = sample_cohort(rng, args.patients)
        outcomes = draw_outcomes(rng, cohort)
        at_risk = outcomes.retinopathy >= 0
        y = outcomes.retinopathy[at_risk]
        scores = {
            "true risk": outcomes.retinopathy_risk[at_risk],
            "recorded features": _linear_predictor(cohort, {**RETINOPATHY_COEF, "frailty": 0.0})[at_risk],
            "HbA1c alone": cohort.hba1c[at_risk],
            "duration alone": cohort.duration_years[at_risk],
        }
        rows.append({"at_risk": at_risk.sum(), "cases": y.sum(), "brier": brier_score_loss(y, scores["true risk"]),
                     "prevalence brier": y.mean() * (1 - y.mean()), **{name: roc_auc_score(y, s) for name, s in scores.items()}})
    table = {key: np.array([row[key] for row in rows], dtype=float) for key in rows[0]}
    print(f"{args.splits} simulated test splits of {args.patients} patients; targets {targets}")
    for key, values in table.items():
        passes = ""
        if key in ("true risk", "recorded features", "HbA1c alone", "duration alone"):
            passes = f"  passes AUROC >= {targets['auroc']:g}: {100 * (values >= targets['auroc']).mean():5.1f} %"
        elif key in ("brier", "prevalence brier"):
            passes = f"  passes Brier <= {targets['brier']:g}: {100 * (values <= targets['brier']).mean():5.1f} %"
        label = {"brier": "Brier (true risk)", "prevalence brier": "Brier (prevalence for all)"}.get(key, key)
        print(f"  {label:28s} mean {values.mean():7.3f}  p5 {np.percentile(values, 5):7.3f}  p95 {np.percentile(values, 95):7.3f}{passes}")
    both = (table["true risk"] >= targets["auroc"]) & (table["brier"] <= targets["brier"])
    print(f"  the true risk passes both targets in {100 * both.mean():.1f} % of the splits (goal >= 95 %)")


if __name__ == "__main__":
    main()
