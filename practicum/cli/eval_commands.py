"""`practicum eval froc|glucose|risk` (score files in the field's formats), `practicum grade`
(score a project model on the hidden split) and `practicum reference` (train a project's reference
in the sandbox): thin wrappers over practicum.graders."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from rich.console import Console

from practicum.lab.errors import LabError

console = Console(highlight=False, soft_wrap=True)

EPILOG_FROC = """\
File formats (LUNA16):
  annotations, excluded   seriesuid,coordX,coordY,coordZ,diameter_mm   (world mm)
  candidates              seriesuid,coordX,coordY,coordZ,probability
  series                  seriesuid   (optional columns minX,maxX,minY,maxY,minZ,maxZ:
                          the volume in world mm; candidates outside it are refused)
Without --series the scans are those named in the files. Errors name the file's line.
"""

EPILOG_GLUCOSE = """\
File formats:
  truth   patient_id,timestamp,glucose_mg_dl     (the evaluated block; empty glucose = gap)
  pred    patient_id,timestamp,horizon_min,predicted_mg_dl
          timestamp is the forecast's origin (a reading time); the forecast is for
          timestamp + horizon. Origins from --warmup minutes into each patient's block with a
          reading at origin + horizon are scored; each needs a forecast.
Units: scores are in mg/dL. With --units auto (default) each file's unit is detected from its
values (any value over 55.5 is mg/dL; values under 20 are mmol/L; a file mixing both, values
<= 0 or over 1000 mg/dL are refused) and mmol/L is converted at 18.016 mg/dL per mmol/L
(molar mass of glucose, 180.156 g/mol); the output says which unit each file was read in.
Values all between 20 and 55.5 fit both units: give --units.
"""

EPILOG_RISK = """\
File formats:
  truth   patient_id,<label>      (0/1; empty = not at risk, not scored)
  pred    patient_id,probability  (one row per scored patient, in [0, 1])
"""


def add_eval_commands(sub: argparse._SubParsersAction) -> None:
    evaluate = sub.add_parser(
        "eval",
        help="score prediction files with the field's protocol (FROC/CPM, glucose, risk)",
        description="Score prediction files outside the lab, with the same code the grader uses.",
    )
    commands = evaluate.add_subparsers(dest="eval_command", metavar="PROTOCOL", required=True)
    raw = argparse.RawDescriptionHelpFormatter

    froc = commands.add_parser(
        "froc",
        help="nodule detection: LUNA16 FROC, CPM and its bootstrap confidence interval",
        description="LUNA16 protocol: a candidate is a hit within the nodule's radius; at most 100 candidates "
        "per scan; candidates on excluded findings are ignored; CPM = mean sensitivity at 1/8..8 false "
        "positives per scan, with a 95 % bootstrap interval over scans.",
        epilog=EPILOG_FROC,
        formatter_class=raw,
    )
    froc.add_argument("--annotations", required=True, type=Path, help="reference nodules (CSV)")
    froc.add_argument("--candidates", required=True, type=Path, help="detector output (CSV)")
    froc.add_argument("--excluded", type=Path, help="findings to ignore (CSV, annotations format)")
    froc.add_argument("--series", type=Path, help="the evaluated scans (CSV with a seriesuid column)")
    froc.add_argument("--bootstrap", type=int, default=1000, metavar="N", help="bootstrap samples (default 1000; 0: none)")
    froc.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    froc.add_argument("--plot", type=Path, metavar="PNG", help="write the FROC curve to this file")
    froc.add_argument("--json", action="store_true", help="print one JSON object")
    froc.set_defaults(func=cmd_froc)

    glucose = commands.add_parser(
        "glucose",
        help="glucose forecasting: RMSE/MAE per patient, persistence, Clarke error grid",
        description="Score forecasts against the readings of a block: RMSE and MAE (overall and per patient), "
        "the persistence forecast beside them, and Clarke error-grid zones.",
        epilog=EPILOG_GLUCOSE,
        formatter_class=raw,
    )
    glucose.add_argument("--truth", required=True, type=Path, help="readings of the evaluated block (CSV)")
    glucose.add_argument("--pred", required=True, type=Path, help="forecasts (CSV)")
    glucose.add_argument("--horizon", type=int, default=30, help="minutes ahead (default 30)")
    glucose.add_argument("--warmup", type=int, default=60, help="minutes of each block not scored (default 60)")
    glucose.add_argument(
        "--units", choices=["auto", "mg/dL", "mmol/L"], default="auto",
        help="unit of both files' glucose values (default auto: detected per file, mmol/L converted to mg/dL)",
    )
    glucose.add_argument("--plot", type=Path, metavar="PNG", help="write the Clarke error grid to this file")
    glucose.add_argument("--json", action="store_true", help="print one JSON object")
    glucose.set_defaults(func=cmd_glucose)

    risk = commands.add_parser(
        "risk",
        help="risk prediction: AUROC, AUPRC, Brier score, calibration",
        description="Score predicted probabilities against 0/1 outcomes.",
        epilog=EPILOG_RISK,
        formatter_class=raw,
    )
    risk.add_argument("--truth", required=True, type=Path, help="outcomes (CSV)")
    risk.add_argument("--pred", required=True, type=Path, help="predicted probabilities (CSV)")
    risk.add_argument("--label", help="outcome column of --truth (needed when it has several)")
    risk.add_argument("--plot", type=Path, metavar="PNG", help="write ROC and calibration plots to this file")
    risk.add_argument("--json", action="store_true", help="print one JSON object")
    risk.set_defaults(func=cmd_risk)


def add_grade_command(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    grade = sub.add_parser(
        "grade",
        parents=[common],
        help="grade a project model (MLflow pyfunc) on the hidden test split",
        description="Run the model in the grading sandbox (no network, no labels) on the project's hidden "
        "inputs, score it with the project's protocol and compare it with the project's targets.",
    )
    grade.add_argument("project", help="project id (a folder of projects/) or a project.yaml path")
    grade.add_argument("model", type=Path, help="an MLflow pyfunc model folder (mlflow.pyfunc.save_model)")
    grade.add_argument("--datasets", type=Path, default=None, help="dataset build folder with public/ and hidden/ (default: datasets/ of the lab's state folder)")
    grade.add_argument("--sandbox", choices=["bubblewrap", "none"], default="bubblewrap", help="confinement (default bubblewrap)")
    grade.add_argument("--mlflow", metavar="URI", help="record the evaluation in this MLflow tracking server")
    grade.add_argument("--learner", help="whose submission this is (for the MLflow record)")
    grade.add_argument("--json", action="store_true", help="print one JSON object")
    grade.set_defaults(func=cmd_grade)


def add_reference_command(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    reference = sub.add_parser(
        "reference",
        parents=[common],
        help="train a project's reference (or baseline) in the sandbox, save it, optionally grade it",
        description="Train the instructor reference of a project from a clean start inside the sandbox a "
        "learner's work runs in (public splits only, no network, no labels; the project's CPU, memory and GPU "
        "allowance), save it as an MLflow model and, with --grade, grade it like a submission.",
        epilog="Example: practicum reference lung_nodule_ct_detection --out /tmp/nodule-ref --option max_epochs=12 --grade",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    reference.add_argument("project", help="project id (a folder of projects/) or a project.yaml path")
    reference.add_argument("--out", type=Path, required=True, help="folder for the MLflow model (replaced if it exists)")
    reference.add_argument("--baseline", action="store_true", help="build the naive baseline instead of the reference")
    reference.add_argument(
        "--option", action="append", default=[], metavar="NAME=VALUE",
        help="keyword argument of train_reference, VALUE as JSON (e.g. max_epochs=12, seed=1); repeatable",
    )
    reference.add_argument("--datasets", type=Path, default=None, help="dataset build folder with public/ and hidden/ (default: datasets/ of the lab's state folder)")
    reference.add_argument("--sandbox", choices=["bubblewrap", "none"], default="bubblewrap", help="confinement (default bubblewrap)")
    reference.add_argument("--time-limit", type=int, default=1800, metavar="SECONDS", help="training wall-time limit (default 1800)")
    reference.add_argument("--grade", action="store_true", help="then grade the saved model on the hidden split (exit 1 if a target is missed)")
    reference.add_argument("--json", action="store_true", help="print one JSON object")
    reference.set_defaults(func=cmd_reference)


def add_autograde_command(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    autograde = sub.add_parser(
        "autograde",
        parents=[common],
        help="autograde a learner's nbgrader submission in the lab, the notebook in the grading sandbox",
        description="Collect the learner's latest submission of an assignment from their own inbound, run the "
        "notebook (hidden tests included) in the sandboxed grading kernel (no network, unprivileged, the lab's state "
        "absent), and record the score in the course's gradebook. Formgraders do not autograde: this is the grader's job.",
        epilog="Example: practicum autograde intro_medical_ai welcome --student ada",
    )
    autograde.add_argument("course", help="course id (courses/catalog.yaml)")
    autograde.add_argument("assignment", help="assignment name")
    autograde.add_argument("--student", required=True, help="the learner's hub name")
    autograde.add_argument("--json", action="store_true", help="print one JSON object")
    autograde.set_defaults(func=cmd_autograde)


def _emit(args: argparse.Namespace, payload: dict[str, Any], lines: list[str]) -> None:
    if args.json:
        print(json.dumps(payload, indent=2, default=str))
    else:
        for line in lines:
            console.print(line, markup=False)


def _save_plot(evaluation: object, path: Path | None) -> None:
    if path is None:
        return
    from practicum.graders import plots

    figures = plots.figures_for(evaluation)
    try:
        next(iter(figures.values())).savefig(path, dpi=120)
    finally:
        plots.close(figures)


def _scored(verb, *args: Any, **kwargs: Any):  # noqa: ANN001, ANN202 - a thin error boundary
    from practicum.graders.tables import TableError

    try:
        return verb(*args, **kwargs)
    except TableError as error:
        raise LabError(str(error)) from None
    except ValueError as error:
        raise LabError(str(error)) from None


def cmd_froc(args: argparse.Namespace) -> int:
    from practicum.graders.protocols.nodule_detection import evaluate_froc_files

    evaluation = _scored(
        evaluate_froc_files,
        annotations=args.annotations,
        candidates=args.candidates,
        excluded=args.excluded,
        series=args.series,
        n_bootstrap=args.bootstrap,
        seed=args.seed,
    )
    _save_plot(evaluation, args.plot)
    payload = evaluation.to_json()
    payload["sensitivities"] = dict(zip((f"{r:g}" for r in evaluation.fp_rates), evaluation.sensitivities, strict=True))
    payload["cpm_ci"] = [evaluation.cpm_ci_lower, evaluation.cpm_ci_upper]
    lines = [
        f"{evaluation.n_scans} scans, {evaluation.n_nodules} nodules, {evaluation.n_detected} detected, "
        f"{evaluation.n_false_positives} false positives ({evaluation.n_candidates_used} candidates used, "
        f"{evaluation.n_dropped_over_limit} over the per-scan limit, {evaluation.n_ignored_excluded} on excluded findings)",
        "FP/scan   " + "  ".join(f"{r:>6g}" for r in evaluation.fp_rates),
        "sens.     " + "  ".join(f"{s:6.3f}" for s in evaluation.sensitivities),
        f"CPM {evaluation.cpm:.4f}" + (f"  (95 % CI {evaluation.cpm_ci_lower:.4f}-{evaluation.cpm_ci_upper:.4f}, {args.bootstrap} bootstrap samples)" if args.bootstrap else ""),
    ]
    _emit(args, payload, lines)
    return 0


def cmd_glucose(args: argparse.Namespace) -> int:
    from practicum.graders.protocols.glucose_forecasting import evaluate_forecast_files

    evaluation = _scored(
        evaluate_forecast_files, truth=args.truth, predictions=args.pred, horizon=args.horizon, warmup_min=args.warmup,
        units=args.units,
    )
    _save_plot(evaluation, args.plot)
    scores = evaluation.horizons[0]
    lines = [
        "units: " + ", ".join(
            f"{name} in {unit}" + (" (converted to mg/dL at 18.016 per mmol/L)" if unit == "mmol/L" else "")
            for name, unit in evaluation.units.items()
        ),
        f"{scores.n_points} forecasts {scores.horizon_min} min ahead (first {evaluation.warmup_min} min of each block not scored)",
        f"RMSE {scores.rmse:.2f} mg/dL, MAE {scores.mae:.2f} mg/dL; persistence RMSE {scores.persistence_rmse:.2f}, "
        f"MAE {scores.persistence_mae:.2f}; ratio {scores.rmse_vs_persistence:.3f}",
        "Clarke zones (%): " + ", ".join(f"{z} {v:.1f}" for z, v in scores.clarke.items()),
        "per patient RMSE: " + ", ".join(f"{p['patient_id']} {p['rmse']:.1f}" for p in scores.per_patient),
    ]
    _emit(args, evaluation.to_json(), lines)
    return 0


def cmd_risk(args: argparse.Namespace) -> int:
    from practicum.graders.protocols.complication_risk import evaluate_risk_files

    evaluation = _scored(evaluate_risk_files, truth=args.truth, predictions=args.pred, label=args.label)
    _save_plot(evaluation, args.plot)
    lines = [
        f"{evaluation.n_patients} patients, {evaluation.n_positive} with {evaluation.label} (prevalence {evaluation.prevalence:.3f})",
        f"AUROC {evaluation.auroc:.4f}, AUPRC {evaluation.auprc:.4f}, Brier {evaluation.brier:.4f}, ECE {evaluation.ece:.4f}",
    ]
    _emit(args, evaluation.to_json(), lines)
    return 0


def _project_and_build(args: argparse.Namespace) -> tuple[Path, Path]:
    from practicum.lab.layout import REPO_ROOT, default_state_dir

    spec = Path(args.project)
    if not spec.suffix:
        spec = REPO_ROOT / "projects" / args.project / "project.yaml"
    if not spec.is_file():
        raise LabError(f"no project spec at {spec}")
    state_dir = Path(args.state_dir) if getattr(args, "state_dir", None) else default_state_dir()
    build = args.datasets or state_dir / "datasets"
    if not (build / "hidden").is_dir():
        raise LabError(f"{build} is not a dataset build with hidden labels (build one: practicum datasets build --out {build})")
    return spec, build


def _options(pairs: list[str]) -> dict[str, Any]:
    options = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.isidentifier():
            raise LabError(f"--option wants NAME=VALUE, not {pair!r}")
        try:
            options[name] = json.loads(value)
        except json.JSONDecodeError:
            options[name] = value  # a bare word is a string
    return options


def cmd_grade(args: argparse.Namespace) -> int:
    from practicum.graders.project_grading import grade_model
    from practicum.sandbox.command import IN_SANDBOX

    if os.environ.get(IN_SANDBOX):
        raise LabError("grading runs outside your sandbox, on the hidden split: submit instead (practicum submit PROJECT MODEL_DIR --wait)")

    spec, build = _project_and_build(args)
    result = _scored(grade_model, spec, args.model, build, sandbox=args.sandbox, tracking_uri=args.mlflow, learner=args.learner)
    _emit(args, result.to_json(), [result.summary()] + ([f"MLflow run {result.mlflow_run_id}"] if result.mlflow_run_id else []))
    return 0 if result.passed else 1


def cmd_reference(args: argparse.Namespace) -> int:
    from practicum.graders.grading_sandbox import SandboxFailure
    from practicum.graders.project_grading import grade_model
    from practicum.graders.reference_runs import train_in_sandbox

    spec, build = _project_and_build(args)
    kind = "baseline" if args.baseline else "reference"
    if not args.json:
        console.print(f"training the {kind} of {spec.parent.name} in the sandbox ({args.sandbox}) ...", markup=False)
    try:
        run = train_in_sandbox(
            spec, build, args.out, kind=kind, options=_options(args.option), sandbox=args.sandbox, time_limit_seconds=args.time_limit
        )
    except SandboxFailure as failure:
        raise LabError(str(failure)) from None
    payload: dict[str, Any] = {
        "project": run.project_id,
        "kind": run.kind,
        "model_dir": str(run.model_dir),
        "train_seconds": round(run.train_seconds, 1),
        "wall_seconds": round(run.wall_seconds, 1),
        "options": run.options,
    }
    lines = [f"{kind} saved to {run.model_dir}: trained in {run.train_seconds:.1f} s ({run.wall_seconds:.1f} s in the sandbox)"]
    passed = True
    if args.grade:
        result = _scored(grade_model, spec, run.model_dir, build, sandbox=args.sandbox, learner=f"{kind} (practicum reference)")
        payload["grade"] = result.to_json()
        lines.append(result.summary())
        passed = result.passed
    _emit(args, payload, lines)
    return 0 if passed else 1


def cmd_autograde(args: argparse.Namespace) -> int:
    from practicum.graders.autograde import AutogradeError
    from practicum.lab.autograding import autograde_in_lab
    from practicum.lab.layout import StateLayout, default_state_dir
    from practicum.lab.preflight import resolve_sandbox_mode

    layout = StateLayout(Path(args.state_dir) if args.state_dir else default_state_dir())
    if not (layout.courses / args.course).is_dir():
        raise LabError(f"no course {args.course!r} in {layout.courses} (start the lab once: practicum up)")
    try:
        outcome = autograde_in_lab(layout, args.course, args.assignment, args.student, sandboxed=resolve_sandbox_mode("auto") == "bubblewrap")
    except AutogradeError as error:
        raise LabError(str(error)) from None
    payload = {"course": outcome.course_id, "assignment": outcome.assignment, "student": outcome.student,
               "score": outcome.score, "max_score": outcome.max_score, "code_hash": outcome.code_hash}
    _emit(args, payload, [f"{outcome.student}: {outcome.score:g}/{outcome.max_score:g} points on {outcome.course_id}/{outcome.assignment}"])
    return 0
