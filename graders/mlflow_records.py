"""Record an evaluation as an MLflow run: metrics, target verdicts, parameters, plots, provenance."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient

from practicum.contracts.grade_result import TargetOutcome

from . import plots

# MLflow caps tag values; long texts (an error message) are cut to this.
TAG_LIMIT = 5000


def record_evaluation(
    *,
    tracking_uri: str,
    experiment: str,
    run_name: str,
    metrics: Mapping[str, float],
    targets: Sequence[TargetOutcome],
    params: Mapping[str, Any],
    tags: Mapping[str, str],
    evaluation: object | None,
    details: Mapping[str, Any],
) -> str:
    """Create one finished run and return its id. Target verdicts are metrics ``target.<m>.met``
    (1/0) and ``target.<m>.margin``, plus a tag with the threshold and direction."""
    client = MlflowClient(tracking_uri=tracking_uri)
    found = client.get_experiment_by_name(experiment)
    experiment_id = found.experiment_id if found is not None else client.create_experiment(experiment)
    run = client.create_run(experiment_id, run_name=run_name, tags={k: str(v)[:TAG_LIMIT] for k, v in tags.items()})
    run_id = run.info.run_id
    now = int(time.time() * 1000)
    logged = [Metric(name, float(value), now, 0) for name, value in metrics.items()]
    target_tags = []
    for outcome in targets:
        logged.append(Metric(f"target.{outcome.metric}.met", 1.0 if outcome.met else 0.0, now, 0))
        logged.append(Metric(f"target.{outcome.metric}.margin", outcome.margin, now, 0))
        rule = f"{outcome.direction.value} {outcome.threshold:g}"
        target_tags.append(RunTag(f"target.{outcome.metric}", rule))
    client.log_batch(
        run_id,
        metrics=logged,
        params=[Param(k, str(v)[:6000]) for k, v in params.items()],
        tags=target_tags,
    )
    client.log_dict(run_id, dict(details), "evaluation.json")
    figures = plots.figures_for(evaluation) if evaluation is not None else {}
    try:
        for name, figure in figures.items():
            client.log_figure(run_id, figure, name)
    finally:
        plots.close(figures)
    client.set_terminated(run_id, status="FINISHED")
    return run_id
