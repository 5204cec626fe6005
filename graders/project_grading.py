"""Grade a submitted project model: sandboxed predictions on the hidden split, protocol, targets, MLflow.

One verb, ``grade_model``, shared by the CLI (``practicum grade``), the lab and the tests.
The learner's model runs in the grading sandbox (no network, no labels); its outputs are
checked and scored here, outside it, with the project's protocol.
"""

from __future__ import annotations

import json
import random
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from practicum import __version__
from practicum.contracts.grade_result import GradeResult, ItemKind, TargetOutcome
from practicum.contracts.project_spec import ProjectSpec, load_project_spec
from practicum.datasets.splits import unreadable_by_others

from .bounded_call import LimitExceeded, Refused, call_bounded
from .grading_sandbox import Limits, Predictions, SandboxFailure, SandboxKind, parse_memory, run_model, stage_model
from .mlflow_records import grading_experiment, record_evaluation
from .protocols import protocol_for
from .protocols.glucose_forecasting import FutureLeakage
from .tables import TableError
from .targets import check_targets, describe


@dataclass(frozen=True)
class ProjectEvaluation:
    """Everything a grading produced; ``error`` is set when the model could not be scored."""

    project_id: str
    task: str
    metrics: dict[str, float]
    targets: tuple[TargetOutcome, ...]
    passed: bool
    score: float
    dataset_version: str | None
    code_hash: str
    prediction_seconds: float | None
    started_at: datetime
    finished_at: datetime
    error: str | None = None
    mlflow_run_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict, repr=False)
    evaluation: object | None = field(default=None, repr=False, compare=False)

    def summary(self) -> str:
        if self.error:
            return f"{self.project_id}: not scored: {self.error}"
        lines = [f"{self.project_id}: {'PASSED' if self.passed else 'FAILED'} ({sum(t.met for t in self.targets)}/{len(self.targets)} targets)"]
        lines += [f"  {describe(t)}" for t in self.targets]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "task": self.task,
            "passed": self.passed,
            "score": self.score,
            "metrics": self.metrics,
            "targets": [t.model_dump(mode="json") for t in self.targets],
            "dataset_version": self.dataset_version,
            "code_hash": self.code_hash,
            "prediction_seconds": self.prediction_seconds,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "error": self.error,
            "mlflow_run_id": self.mlflow_run_id,
            "details": self.details,
        }

    def to_grade_result(
        self, *, learner: str, submission_id: str | None = None, course_id: str | None = None, feedback_url: str | None = None
    ) -> GradeResult:
        return GradeResult(
            submission_id=submission_id or f"{self.project_id}/{learner}/{uuid.uuid4().hex}",
            learner=learner,
            kind=ItemKind.PROJECT,
            item_id=self.project_id,
            course_id=course_id,
            metrics=self.metrics,
            targets=list(self.targets),
            passed=self.passed,
            score=self.score,
            mlflow_run_id=self.mlflow_run_id,
            dataset_version=self.dataset_version,
            code_hash=self.code_hash,
            grader_version=__version__,
            started_at=self.started_at,
            finished_at=self.finished_at,
            feedback_url=feedback_url,
        )


def project_limits(project: ProjectSpec, time_limit_seconds: int | None = None) -> Limits:
    """The spec's CPU, memory and GPU allowance; its time limit unless another is given."""
    return Limits(
        cpus=project.resources.cpus,
        memory_bytes=parse_memory(project.resources.memory),
        time_limit_seconds=time_limit_seconds or project.resources.time_limit_seconds,
        gpu=project.resources.gpu != "none",
    )


def grade_model(
    spec: ProjectSpec | Path,
    model_dir: Path,
    build_dir: Path,
    *,
    sandbox: SandboxKind = "bubblewrap",
    tracking_uri: str | None = None,
    learner: str | None = None,
    extra_hidden: tuple[Path, ...] = (),
    run_tags: Mapping[str, str] | None = None,
) -> ProjectEvaluation:
    """Score ``model_dir`` (an MLflow pyfunc model) on the hidden test split of ``build_dir``.

    ``build_dir`` is a dataset build (``public/`` and ``hidden/``). Learner errors (the model
    crashes, times out, returns a malformed or leaking table) give an evaluation with
    ``error`` set and no target met; they are recorded like any other result. ``run_tags`` go on the
    MLflow run besides the grader's own (e.g. the grading service's grading id).
    """
    project = spec if isinstance(spec, ProjectSpec) else load_project_spec(spec)
    protocol = protocol_for(project.task)
    build_dir = build_dir.resolve()  # inputs name files by absolute path: the sandbox has another working folder
    public_dir, hidden_dir = build_dir / "public", build_dir / "hidden"
    unreadable = unreadable_by_others(public_dir / project.dataset.name)
    if unreadable:  # the build's fault, not the learner's: say so before anything runs
        raise ValueError(f"{build_dir} is not readable by the grading sandbox (e.g. {unreadable[0]}): chmod -R a+rX {public_dir}")
    started = datetime.now(UTC)
    options = dict(project.evaluation)
    # Protocol secrets (cut points, orders) are drawn for this grading only, from the OS's randomness.
    inputs = protocol.model_inputs(public_dir, hidden_dir, options, rng=random.SystemRandom())
    limits = project_limits(project)
    evaluation, seconds, error, code_hash = None, None, None, ""
    with tempfile.TemporaryDirectory(prefix="practicum-grading-") as tmp:
        work = Path(tmp)
        try:
            code_hash = stage_model(model_dir, work / "model")
            predictions = run_model(
                work / "model",
                inputs,
                read_only=[public_dir],
                hidden=[hidden_dir, build_dir / "sources", build_dir / "secrets", *extra_hidden],
                limits=limits,
                sandbox=sandbox,
                max_rows=lambda name, frame: protocol.max_output_rows(name, frame, options),
                work_dir=work,
                code_hash=code_hash,
            )
            seconds = predictions.seconds
            evaluation = call_bounded(
                _score, protocol, predictions, inputs, hidden_dir, options, refusals=(TableError, FutureLeakage), what="scoring"
            )
        except (SandboxFailure, TableError, Refused, LimitExceeded) as failure:
            error = str(failure)
    metrics = dict(evaluation.metrics) if evaluation is not None else {}
    targets = check_targets(project.targets, metrics) if evaluation is not None else ()
    passed = bool(targets) and all(t.met for t in targets)
    result = ProjectEvaluation(
        project_id=project.id,
        task=project.task,
        metrics=metrics,
        targets=targets,
        passed=passed,
        score=sum(t.met for t in targets) / len(project.targets) if targets else 0.0,
        dataset_version=_dataset_version(public_dir / project.dataset.name),
        code_hash=code_hash,
        prediction_seconds=seconds,
        started_at=started,
        finished_at=datetime.now(UTC),
        error=error,
        details=evaluation.to_json() if evaluation is not None else {"error": error},
        evaluation=evaluation,
    )
    if tracking_uri:
        run_id = record_evaluation(
            tracking_uri=tracking_uri,
            experiment=grading_experiment(project.id, learner),
            learner=learner,
            run_name=f"{learner or 'submission'} {started:%Y-%m-%d %H:%M:%S}",
            metrics=metrics,
            targets=targets,
            params={"project": project.id, "task": project.task, "sandbox": sandbox, **{f"evaluation.{k}": v for k, v in options.items()}},
            tags={
                "practicum.learner": learner or "",
                "practicum.passed": str(passed),
                "practicum.dataset_version": result.dataset_version or "",
                "practicum.code_hash": code_hash,
                "practicum.grader_version": __version__,
                "practicum.error": error or "",
                **(run_tags or {}),
            },
            evaluation=evaluation,
            details=result.to_json(),
        )
        result = _with_run(result, run_id)
    return result


def _score(protocol, predictions: Predictions, inputs, hidden_dir: Path, options) -> object:
    outputs = {name: predictions.frame(name) for name in predictions.files}
    return protocol.score_predictions(outputs, inputs=inputs, hidden_dir=hidden_dir, options=options)


def _with_run(result: ProjectEvaluation, run_id: str) -> ProjectEvaluation:
    return replace(result, mlflow_run_id=run_id)


def _dataset_version(dataset_dir: Path) -> str | None:
    card = dataset_dir / "card.json"
    if not card.exists():
        return None
    return str(json.loads(card.read_text()).get("version"))

