"""`practicum submit` (a learner, in their sandbox), `practicum submissions`, and `practicum grading ...`
(the instructor: queue, regrade, attempt limits): thin wrappers over ``practicum.grading.client``."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from rich.console import Console

from practicum.lab.errors import LabError

console = Console(highlight=False, soft_wrap=True)


def add_grading_commands(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    submit = sub.add_parser(
        "submit",
        help="submit a project model for grading on the hidden test split (from your sandbox)",
        description="Send your MLflow model (and optionally your notebook) to the lab's grading service. It is stored "
        "before the answer comes, queued, run in the grading sandbox on the hidden test split and scored with the project's "
        "protocol; the feedback (targets met or missed, by how much, figures) appears on your feedback page and in the LMS. "
        "Each grading uses one of your attempts (per day and in total; the answer says how many are left).",
        epilog="Examples (in a sandbox terminal):\n  practicum submit glucose_cgm_forecasting ./my_model --notebook work.ipynb --wait\n"
        "  nbgrader submit welcome --course intro_medical_ai && practicum submit intro_medical_ai/welcome --wait",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    submit.add_argument("project", help="project id (e.g. glucose_cgm_forecasting), or COURSE/ASSIGNMENT of an nbgrader course")
    submit.add_argument("model", type=Path, nargs="?", help="a project's MLflow pyfunc model folder (mlflow.pyfunc.save_model); "
                        "none for an assignment: your newest `nbgrader submit` of it is graded")
    submit.add_argument("--notebook", type=Path, help="your notebook, kept with the submission")
    submit.add_argument("--wait", action="store_true", help="wait for the grading and print its feedback")
    _connection_options(submit)
    submit.set_defaults(func=cmd_submit)

    submissions = sub.add_parser("submissions", help="your submissions and their gradings (or one grading's feedback)")
    submissions.add_argument("grading", nargs="?", help="a grading id: show its feedback")
    _connection_options(submissions)
    submissions.set_defaults(func=cmd_submissions)

    grading = sub.add_parser("grading", parents=[common], help="instructor: the grading queue, regrades, redeliveries, attempt limits",
                             description="Manage the lab's grading service as its administrator (the lab's own token by default).")
    verbs = grading.add_subparsers(dest="grading_command", metavar="COMMAND", required=True)
    queue = verbs.add_parser("queue", parents=[common], help="gradings queued, running or failed, and undelivered results")
    queue.set_defaults(func=cmd_queue)
    regrade = verbs.add_parser("regrade", parents=[common], help="grade a submission again, or every learner's latest of a project")
    target = regrade.add_mutually_exclusive_group(required=True)
    target.add_argument("--submission", help="a submission id")
    target.add_argument("--project", help="a project id: each learner's latest submission")
    regrade.set_defaults(func=cmd_regrade)
    redeliver = verbs.add_parser(
        "redeliver", parents=[common], help="send results the LMS refused again (after fixing the LMS)",
        description="A result the LMS refuses (HTTP 4xx: e.g. the item is missing from its catalog, or the grading service's "
        "token was revoked) is held, not retried; `practicum grading queue` lists it with the LMS's answer. Fix the cause, then "
        "redeliver the named gradings, or all held ones.",
    )
    redeliver.add_argument("gradings", nargs="*", metavar="GRADING_ID", help="grading ids (none: every held result)")
    redeliver.set_defaults(func=cmd_redeliver)
    limit = verbs.add_parser("limit", parents=[common], help="set a project's attempt limit (overrides its project.yaml)")
    limit.add_argument("project")
    limit.add_argument("--total", type=int, help="attempts in total (omit: no limit)")
    limit.add_argument("--per-day", type=int, help="attempts per UTC day (omit: no limit)")
    limit.set_defaults(func=cmd_limit)
    for parser in (queue, regrade, redeliver, limit):
        _connection_options(parser, as_lab=True)


def _connection_options(parser: argparse.ArgumentParser, *, as_lab: bool = False) -> None:
    lab = ", else the running lab's" if as_lab else ""
    parser.add_argument("--url", help=f"the grading service (default: $PRACTICUM_GRADING_URL{lab})")
    parser.add_argument("--token", help=f"a hub API token (default: $JUPYTERHUB_API_TOKEN{', else the lab' + chr(39) + 's own' if as_lab else ''})")
    parser.add_argument("--json", action="store_true", help="print JSON")


def _client(args: argparse.Namespace, *, as_lab: bool = False):  # noqa: ANN202
    from practicum.grading.client import TOKEN_ENV, URL_ENV, GradingClient, GradingClientError

    url, token = args.url, args.token
    if as_lab:
        url = url or os.environ.get(URL_ENV) or _lab_url(args)
        token = token or os.environ.get(TOKEN_ENV) or _lab_token(args)
    try:
        return GradingClient(url, token)
    except GradingClientError as error:
        raise LabError(str(error)) from None


def _layout(args: argparse.Namespace):  # noqa: ANN202
    from practicum.lab.layout import StateLayout, default_state_dir

    return StateLayout(Path(args.state_dir) if getattr(args, "state_dir", None) else default_state_dir())


def _lab_url(args: argparse.Namespace) -> str:
    from practicum.lab.state import read_state

    state = read_state(_layout(args).lab_file)
    if state is None:
        raise LabError("no lab is running here (start one: practicum up), or give --url")
    return f"{state.public_url}/services/grading/"


def _lab_token(args: argparse.Namespace) -> str:
    from practicum.lab.secrets import load_or_create_secrets

    return load_or_create_secrets(_layout(args).secrets_file).lab_api_token


def _calling(verb, *args: Any, **kwargs: Any):  # noqa: ANN001, ANN202
    from practicum.grading.archives import BadSubmission
    from practicum.grading.client import GradingClientError

    try:
        return verb(*args, **kwargs)
    except GradingClientError as error:
        left = error.payload.get("attempts_left")
        raise LabError(f"{error}" + (f" (attempts left: {left})" if left else "")) from None
    except BadSubmission as error:
        raise LabError(str(error)) from None


def _print(args: argparse.Namespace, payload: Any, lines: list[str]) -> None:
    if args.json:
        print(json.dumps(payload, indent=2, default=str))
    else:
        for line in lines:
            console.print(line, markup=False)


def feedback_lines(view: dict[str, Any]) -> list[str]:
    feedback = view.get("feedback")
    if not feedback:
        return [f"grading {view['grading_id']}: {view['state']}"]
    verdict = "PASSED" if feedback["passed"] else "NOT PASSED"
    lines = [f"{feedback['title']}: {verdict} ({sum(t['met'] for t in feedback['targets'])}/{len(feedback['targets'])} targets)"]
    if feedback.get("error"):
        lines.append(f"  your model could not be scored: {feedback['error']}")
    for t in feedback["targets"]:
        lines.append(f"  {'met   ' if t['met'] else 'missed'} {t['metric']} = {t['value']:g} (target {t['rule']}, margin {t['margin']:+g})")
    return lines


def cmd_submit(args: argparse.Namespace) -> int:
    with _client(args) as client:
        if "/" in args.project:
            receipt = _calling(client.submit_assignment, args.project)
        elif args.model is None:
            raise LabError(f"give the model folder to submit for {args.project} (practicum submit {args.project} MODEL_DIR)")
        else:
            receipt = _calling(client.submit_project, args.project, args.model, args.notebook)
        left = receipt["attempts_left"]
        lines = [f"submitted {args.project}: grading {receipt['grading_id']} queued "
                 f"(attempts left today: {_count(left['today'])}, in total: {_count(left['total'])})",
                 f"feedback: {client.url}gradings/{receipt['grading_id']}"]
        if not args.wait:
            _print(args, receipt, lines)
            return 0
        if not args.json:
            for line in lines:
                console.print(line, markup=False)
        view = _calling(client.wait, receipt["grading_id"], on_state=None if args.json else _say_state)
    _print(args, {"receipt": receipt, "grading": view}, feedback_lines(view))
    return 0 if view.get("feedback") and view["feedback"]["passed"] else 1


def _say_state(state: str, seconds: float) -> None:
    console.print(f"  [{seconds:5.1f} s] {state}", markup=False)


def _count(value: int | None) -> str:
    return "unlimited" if value is None else str(value)


def cmd_submissions(args: argparse.Namespace) -> int:
    with _client(args) as client:
        if args.grading:
            view = _calling(client.grading, args.grading)
            _print(args, view, feedback_lines(view))
            return 0
        listed = _calling(client.submissions)
    lines = [f"{s['queued_at'][:19]}  {s['item_id']:<28} {s['state']:<8} {s['grading_id']}"
             + (f"  {'passed' if s['feedback']['passed'] else 'not passed'}" if s.get("feedback") else "") for s in listed]
    _print(args, listed, lines or ["no submissions yet"])
    return 0


def cmd_queue(args: argparse.Namespace) -> int:
    with _client(args, as_lab=True) as client:
        queue = _calling(client.queue)
    lines = [f"by state: {queue['counts']}; results not yet in the LMS: {queue['undelivered_results']}"]
    lines += [f"  {g['state']:<8} try {g['tries']}  {g['learner']:<16} {g['grading_id']}" + (f"  ({g['error']})" if g["error"] else "")
              for g in queue["gradings"]]
    if queue["refused_deliveries"]:
        lines.append("refused by the LMS (held; `practicum grading redeliver` once fixed):")
        lines += [f"  {d['learner']:<16} {d['grading_id']}  {d['error']}" for d in queue["refused_deliveries"]]
    _print(args, queue, lines)
    return 0


def cmd_regrade(args: argparse.Namespace) -> int:
    with _client(args, as_lab=True) as client:
        queued = _calling(client.regrade, submission_id=args.submission, item_id=args.project)
    _print(args, {"queued": queued}, [f"queued {len(queued)} regrade(s)"] + [f"  {g}" for g in queued])
    return 0


def cmd_redeliver(args: argparse.Namespace) -> int:
    with _client(args, as_lab=True) as client:
        chosen = _calling(client.redeliver, args.gradings or None)
    _print(args, {"redelivering": chosen}, [f"redelivering {len(chosen)} result(s)"] + [f"  {g}" for g in chosen])
    return 0


def cmd_limit(args: argparse.Namespace) -> int:
    with _client(args, as_lab=True) as client:
        answer = _calling(client.set_limit, args.project, total=args.total, per_day=args.per_day)
    _print(args, answer, [f"{args.project}: {_count(answer['total'])} attempts in total, {_count(answer['per_day'])} per day"])
    return 0
