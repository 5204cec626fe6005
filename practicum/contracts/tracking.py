"""MLflow names shared by the gateway (``practicum.tracking``), the grader and the hub configuration.

MLflow runs with its basic-auth app behind a hub-authenticated gateway. Everything under
``MLFLOW_PREFIX`` (MLflow's ``--static-prefix``, and the hub service's URL prefix) is served by
MLflow itself; the gateway passes paths through unchanged.

Experiment names are a namespace with two reserved parts: ``learners/<name>`` (and below it) belongs
to that learner, ``grading/...`` to the grader. The gateway refuses learners any other reserved name,
so nobody can create another learner's personal experiment or a grading experiment before its owner.
"""

from __future__ import annotations

# The hub service's name; JupyterHub routes /services/<name>/ to the gateway.
MLFLOW_SERVICE = "mlflow"
# MLflow's --static-prefix: its UI, REST API, artifacts and health live below it.
MLFLOW_PREFIX = f"/services/{MLFLOW_SERVICE}"
# MLflow's administrator (the grader, the LMS and the gateway sign in as it). JupyterHub never
# accepts "/" in a user name, so no hub user can be mapped onto this MLflow user.
MLFLOW_ADMIN_USERNAME = "practicum/admin"

LEARNER_EXPERIMENTS = "learners/"
GRADING_EXPERIMENTS = "grading/"


def learner_experiment(learner: str) -> str:
    """The learner's personal experiment (MLFLOW_EXPERIMENT_NAME in their sandbox)."""
    return LEARNER_EXPERIMENTS + _checked_part(learner, "learner")


def grading_experiment_name(project_id: str, learner: str | None) -> str:
    """``grading/<project>/<learner>``, or ``grading/<project>`` for grading without a learner."""
    name = GRADING_EXPERIMENTS + _checked_part(project_id, "project id")
    return name if learner is None else f"{name}/{_checked_part(learner, 'learner')}"


def _checked_part(value: str, what: str) -> str:
    if not value or value != value.strip() or "/" in value:
        raise ValueError(f"{what} {value!r} cannot name an experiment (empty, padded or containing '/')")
    return value
