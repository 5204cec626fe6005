"""What a learner is shown about a grading: scores, each target met or missed by how much, figures.

Built only from aggregates of the hidden split (headline metrics rounded to three significant
digits, target verdicts, curves over the whole split), never from its rows: no labels, no patient
ids, no per-point scatter (the Clarke grid's points are the hidden references; it goes to the
instructor's MLflow record only). A grading the model failed says why in one line; the model's own
output during grading (which saw the hidden inputs) is not shown.
"""

from __future__ import annotations

import base64
import io
import math
from datetime import datetime
from typing import Any

from matplotlib.figure import Figure
from pydantic import BaseModel, ConfigDict

from practicum.graders import plots
from practicum.graders.project_grading import ProjectEvaluation
from practicum.graders.protocols.glucose_forecasting import GlucoseEvaluation

SIGNIFICANT_DIGITS = 3


class TargetFeedback(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str
    rule: str  # "at_least 0.8"
    value: float
    met: bool
    margin: float


class Feedback(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    grading_id: str
    item_id: str
    title: str
    passed: bool
    score: float
    metrics: dict[str, float]
    targets: list[TargetFeedback]
    error: str | None
    figures: dict[str, str]  # file name -> PNG, base64
    graded_at: datetime
    grader_version: str

    def to_json(self) -> str:
        return self.model_dump_json()


def rounded(value: float, digits: int = SIGNIFICANT_DIGITS) -> float:
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def learner_feedback(grading_id: str, title: str, evaluation: ProjectEvaluation, grader_version: str) -> Feedback:
    return Feedback(
        grading_id=grading_id,
        item_id=evaluation.project_id,
        title=title,
        passed=evaluation.passed,
        score=evaluation.score,
        metrics={name: rounded(value) for name, value in evaluation.metrics.items()},
        targets=[
            TargetFeedback(
                metric=t.metric, rule=f"{t.direction.value} {t.threshold:g}", value=rounded(t.value), met=t.met, margin=rounded(t.margin)
            )
            for t in evaluation.targets
        ],
        error=_one_line(evaluation.error),
        figures=_png_figures(evaluation.evaluation),
        graded_at=evaluation.finished_at,
        grader_version=grader_version,
    )


def _one_line(error: str | None) -> str | None:
    if not error:
        return None
    first = error.strip().splitlines()[0] if error.strip() else "the grading failed"
    return first.rstrip(":")[:300]


def _png_figures(evaluation: object | None) -> dict[str, str]:
    figures: dict[str, Figure] = {}
    if isinstance(evaluation, GlucoseEvaluation):
        figures["clarke_zones.png"] = clarke_zone_shares(evaluation)
    elif evaluation is not None:
        figures = plots.figures_for(evaluation)
    encoded = {}
    try:
        for name, figure in figures.items():
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", dpi=90)
            encoded[name] = base64.b64encode(buffer.getvalue()).decode()
    finally:
        plots.close(figures)
    return encoded


def clarke_zone_shares(evaluation: GlucoseEvaluation) -> Figure:
    """Stacked shares of Clarke zones A-E per horizon: the grid's verdict without its points."""
    figure = Figure(figsize=(6, 3.8))
    axes = figure.subplots()
    labels = [f"{h.horizon_min} min" for h in evaluation.horizons]
    bottom = [0.0] * len(labels)
    for zone, colour in plots.ZONE_COLOURS.items():
        shares = [100 * h.clarke.get(zone, 0.0) for h in evaluation.horizons]
        axes.bar(labels, shares, bottom=bottom, color=colour, label=f"zone {zone}")
        bottom = [b + s for b, s in zip(bottom, shares, strict=True)]
    axes.set_ylabel("% of forecasts")
    axes.set_ylim(0, 100)
    axes.set_title("Clarke error grid zones by horizon")
    axes.legend(loc="lower right", fontsize="small")
    figure.tight_layout()
    return figure


def feedback_summary(feedback: Feedback) -> dict[str, Any]:
    """The feedback without its figures (for listings)."""
    return feedback.model_dump(mode="json", exclude={"figures"})
