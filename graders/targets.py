"""Compare an evaluation's metrics with a project's targets."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from practicum.contracts.grade_result import TargetOutcome
from practicum.contracts.project_spec import Target


def check_targets(targets: Sequence[Target], metrics: Mapping[str, float]) -> tuple[TargetOutcome, ...]:
    """Per target: the value, whether it is met, and by how much (positive = past the threshold)."""
    outcomes = []
    for target in targets:
        if target.metric not in metrics:
            raise KeyError(f"the evaluation reports no {target.metric!r} (it has {', '.join(sorted(metrics))})")
        value = float(metrics[target.metric])
        if not math.isfinite(value):
            raise ValueError(f"{target.metric} is {value}: a target needs a finite value")
        outcomes.append(
            TargetOutcome(
                metric=target.metric,
                threshold=target.threshold,
                direction=target.direction,
                value=value,
                met=target.met_by(value),
                margin=target.margin(value),
            )
        )
    return tuple(outcomes)


def describe(outcome: TargetOutcome) -> str:
    """'cpm 0.842 >= 0.800: met (+0.042)'."""
    sign = ">=" if outcome.direction.value == "at_least" else "<="
    verdict = "met" if outcome.met else "missed"
    return f"{outcome.metric} {outcome.value:.4g} {sign} {outcome.threshold:.4g}: {verdict} ({outcome.margin:+.4g})"
