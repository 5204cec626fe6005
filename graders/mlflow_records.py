"""Record an evaluation as an MLflow run: metrics, target verdicts, parameters, plots, provenance.

Graded runs live in one experiment per learner and project, ``grading/<project>/<learner>``, that
only the grader writes and no learner reads: on a tracking server with MLflow's basic-auth app the
grader signs in as MLflow's admin (``MLFLOW_TRACKING_USERNAME`` / ``MLFLOW_TRACKING_PASSWORD``), creates
the experiment and takes away any permission the learner's MLflow user holds on it. A graded run keeps
full-precision metrics, ``evaluation.json`` and per-point plots (the Clarke grid's points are the
hidden references): read across attempts that is an oracle of the hidden labels, so it is the
instructor's record; the learner's view is the grading service's rounded, aggregate-only feedback.
Learners (through the gateway, ``practicum.tracking``) can neither create a ``grading/`` experiment
nor read or write one.

A tracking URI without a server (``sqlite:///``, ``file:``) or a server without the auth app (its
``/api/2.0/mlflow/users/current`` answers 404) has no users: runs are recorded, permissions skipped.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from mlflow.entities import Experiment, Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from mlflow.utils.credentials import get_default_host_creds
from mlflow.utils.rest_utils import http_request, verify_rest_response

from practicum.contracts.grade_result import TargetOutcome
from practicum.contracts.tracking import GRADING_EXPERIMENTS, grading_experiment_name

from . import plots

# MLflow caps tag values; long texts (an error message) are cut to this.
TAG_LIMIT = 5000
# The grading a run records (the grading service's id): a retried grading replaces its earlier try's run.
GRADING_ID_TAG = "practicum.grading_id"
_GRADING_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,80}$")
# An experiment tag only the grader can compute: grading experiments made by anyone else are refused.
SEAL_TAG = "practicum.grading.seal"


class GradingRecordError(RuntimeError):
    """The graded run cannot be recorded where (or as) it must be."""


def grading_experiment(project_id: str, learner: str | None) -> str:
    """The experiment of ``learner``'s graded runs of ``project_id`` (``grading/<project>/<learner>``).

    Without a learner (a reference or CLI grading), ``grading/<project>``, which no learner reads.
    """
    return grading_experiment_name(project_id, learner)


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
    learner: str | None = None,
) -> str:
    """Create one finished run and return its id. Target verdicts are metrics ``target.<m>.met``
    (1/0) and ``target.<m>.margin``, plus a tag with the threshold and direction.

    With ``learner``, ``experiment`` must be that learner's (``grading_experiment(project, learner)``)
    and whatever permission the learner holds on it is taken away.
    """
    if learner is not None and not _names_learner(experiment, learner):
        raise ValueError(f"{experiment!r} is not {learner!r}'s grading experiment: use grading_experiment(project, learner)")
    client = MlflowClient(tracking_uri=tracking_uri)
    auth = _auth_api(tracking_uri)
    experiment_id = _experiment_id(client, experiment, seal_key=_seal_key(tracking_uri) if auth else None)
    if auth is not None and learner is not None:
        _withhold_from_learner(auth, learner, experiment_id)
    _delete_earlier_tries(client, experiment_id, tags.get(GRADING_ID_TAG))
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


def _delete_earlier_tries(client: MlflowClient, experiment_id: str, grading_id: str | None) -> None:
    """A grader killed after it created its run (before the grading was recorded) left a run behind: one
    run per grading, so the earlier try's goes."""
    if not grading_id:
        return
    if not _GRADING_ID.match(grading_id):
        raise ValueError(f"not a grading id: {grading_id!r}")
    for stale in client.search_runs([experiment_id], filter_string=f"tags.`{GRADING_ID_TAG}` = '{grading_id}'"):
        client.delete_run(stale.info.run_id)


def _names_learner(experiment: str, learner: str) -> bool:
    return experiment.startswith(GRADING_EXPERIMENTS) and experiment.rsplit("/", 1)[-1] == learner


# --- the tracking server's users -------------------------------------------------------------


class _AdminApi:
    """The few calls of MLflow's auth REST API the grader makes (mlflow.server.auth.client's, without
    importing MLflow's server)."""

    def __init__(self, tracking_uri: str) -> None:
        self.creds = get_default_host_creds(tracking_uri)

    def call(self, method: str, endpoint: str, **kwargs: Any) -> dict[str, Any]:
        response = verify_rest_response(http_request(self.creds, endpoint, method, **kwargs), endpoint)
        return response.json() if response.content else {}

    def revoke_user_permission(self, username: str, resource_type: str, resource_id: str) -> None:
        body = {"username": username, "resource_type": resource_type, "resource_id": resource_id}
        self.call("POST", "/api/3.0/mlflow/users/permissions/revoke", json=body)

    def user_permission(self, username: str, resource_type: str, resource_id: str) -> str:
        params = {"username": username, "resource_type": resource_type, "resource_id": resource_id}
        return str(self.call("GET", "/api/3.0/mlflow/users/permissions/get", params=params).get("permission", ""))


def _auth_api(tracking_uri: str) -> _AdminApi | None:
    """MLflow's auth API as the admin, or None where the tracking store has no users."""
    if urlsplit(tracking_uri).scheme not in ("http", "https"):
        return None
    response = http_request(get_default_host_creds(tracking_uri), "/api/2.0/mlflow/users/current", "GET")
    if response.status_code == 404:
        return None  # a tracking server without the basic-auth app
    if response.status_code in (401, 403):
        raise GradingRecordError(
            f"{tracking_uri} asks for credentials: set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD to its admin"
        )
    response.raise_for_status()
    user = response.json().get("user", {})
    if not user.get("is_admin"):
        raise GradingRecordError(f"the grader signs in to {tracking_uri} as {user.get('username')!r}, not as its admin")
    return _AdminApi(tracking_uri)


def _seal_key(tracking_uri: str) -> bytes:
    password = get_default_host_creds(tracking_uri).password or ""
    return hashlib.sha256(b"practicum grading seal\0" + password.encode()).digest()


def _seal(key: bytes, name: str) -> str:
    return hmac.new(key, name.encode(), hashlib.sha256).hexdigest()


def _experiment_id(client: MlflowClient, name: str, *, seal_key: bytes | None) -> str:
    """The grading experiment, created by the grader if missing; with auth, only one the grader made."""
    found = client.get_experiment_by_name(name)
    if found is None:
        tags = {SEAL_TAG: _seal(seal_key, name)} if seal_key is not None else None
        try:
            return client.create_experiment(name, tags=tags)
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
            found = client.get_experiment_by_name(name)  # another grading created it meanwhile
            if found is None:
                raise
    if seal_key is not None:
        _check_seal(found, seal_key)
    if found.lifecycle_stage == "deleted":
        client.restore_experiment(found.experiment_id)
    return found.experiment_id


def _check_seal(experiment: Experiment, key: bytes) -> None:
    seal = experiment.tags.get(SEAL_TAG, "")
    if not hmac.compare_digest(seal, _seal(key, experiment.name)):
        raise GradingRecordError(
            f"experiment {experiment.name!r} ({experiment.experiment_id}) was not created by the grader: "
            "refusing to record grades in it"
        )


def _withhold_from_learner(auth: _AdminApi, learner: str, experiment_id: str) -> None:
    """No permission for ``learner`` on their grading experiment (the server's default is NO_PERMISSIONS):
    a grant made by hand, or by an earlier version of the grader, is revoked."""
    try:
        held = auth.user_permission(learner, "experiment", experiment_id)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":  # no such user, or no permission row: nothing to take
            return
        raise
    if held and held != "NO_PERMISSIONS":
        auth.revoke_user_permission(learner, "experiment", experiment_id)
