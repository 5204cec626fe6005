"""Hub services (LMS, MLflow gateway, idle culler, formgraders), their roles and groups.

Shared by the local lab and the Kubernetes deployment: each function sets values
on a traitlets ``Config`` and returns nothing else.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from traitlets.config import Config

from practicum.contracts.tracking import MLFLOW_ADMIN_USERNAME, MLFLOW_SERVICE, learner_experiment

from .settings import CourseService

LMS_SERVICE = "lms"
# The hub-authenticated MLflow gateway (practicum.tracking): learners' only way to MLflow.
MLFLOW_GATEWAY_SERVICE = MLFLOW_SERVICE
CULLER_SERVICE = "idle-culler"
# The grading service (practicum.grading): intake, queue, feedback pages.
GRADING_SERVICE = "grading"
GRADING_PREFIX = f"/services/{GRADING_SERVICE}/"
# Where `practicum submit` in a sandbox sends submissions (the service, directly: the sandbox reaches its port).
GRADING_URL_ENV = "PRACTICUM_GRADING_URL"
LAB_SERVICE = "practicum-lab"

# What a learner's server token may do: report activity, be reached, let
# nbgrader's JupyterHubAuthPlugin read the learner's course groups, and sign
# the learner's kernels in to MLflow (MLFLOW_TRACKING_TOKEN) through the gateway.
SERVER_TOKEN_SCOPES = [
    "users:activity!user",
    "access:servers!server",
    "read:users:name!user",
    "read:users:groups!user",
    f"access:services!service={MLFLOW_GATEWAY_SERVICE}",
    f"access:services!service={GRADING_SERVICE}",
]

CULLER_SCOPES = ["list:users", "read:users:activity", "read:servers", "delete:servers"]
LMS_SCOPES = ["list:users", "read:users", "list:groups", "read:groups"]
LAB_SCOPES = [
    "admin:users",
    "admin:servers",
    "admin:groups",
    "access:servers",
    "tokens",
    "list:services",
    "read:services",
    "access:services",
    "read:hub",
]


def add_service(c: Config, service: dict) -> None:
    """Add a service, or update the one of that name (keeping keys set before, e.g. a chart's api_token)."""
    services = list(c.JupyterHub.services) if "services" in c.JupyterHub else []
    existing = next((s for s in services if s["name"] == service["name"]), {})
    others = [s for s in services if s["name"] != service["name"]]
    c.JupyterHub.services = others + [{**existing, **service}]


def add_role(c: Config, role: dict) -> None:
    roles = list(c.JupyterHub.load_roles) if "load_roles" in c.JupyterHub else []
    roles = [r for r in roles if r["name"] != role["name"]]
    c.JupyterHub.load_roles = roles + [role]


def add_group(c: Config, name: str, users: Sequence[str] = ()) -> None:
    groups = dict(c.JupyterHub.load_groups) if "load_groups" in c.JupyterHub else {}
    members = list(groups.get(name, {}).get("users", []))
    groups[name] = {"users": sorted(set(members) | set(users))}
    c.JupyterHub.load_groups = groups


def configure_user_role(c: Config) -> None:
    """Every user may open the LMS and MLflow (through hub OAuth) besides their own server."""
    add_role(
        c,
        {
            "name": "user",
            "scopes": [
                "self",
                f"access:services!service={LMS_SERVICE}",
                f"access:services!service={MLFLOW_GATEWAY_SERVICE}",
                f"access:services!service={GRADING_SERVICE}",
            ],
        },
    )
    c.Spawner.server_token_scopes = list(SERVER_TOKEN_SCOPES)


def configure_lms_service(
    c: Config, *, command: Sequence[str] | None, url: str, environment: dict[str, str] | None = None
) -> None:
    """The LMS API as a hub service: managed (``command`` given) or external.

    ``display`` puts it in the hub's Services menu, which links to the service prefix
    (``/services/lms/``); the LMS sends a signed-in person from there to their own page.
    """
    service: dict = {"name": LMS_SERVICE, "url": url, "oauth_no_confirm": True, "display": True}
    if command:
        service["command"] = list(command)
        service["environment"] = dict(environment or {})
    add_service(c, service)
    add_role(c, {"name": "lms-service", "services": [LMS_SERVICE], "scopes": list(LMS_SCOPES)})


def configure_mlflow_gateway(
    c: Config, *, command: Sequence[str] | None, url: str, environment: dict[str, str] | None = None
) -> None:
    """The MLflow gateway as a hub service at /services/mlflow/: managed (``command`` given) or external.

    It needs no scopes of its own: it identifies each request's user with that user's token (or
    its OAuth cookie), which must carry ``access:services!service=mlflow`` (the user role and the
    server token scopes above grant it).
    """
    service: dict = {"name": MLFLOW_GATEWAY_SERVICE, "url": url, "oauth_no_confirm": True, "display": True}
    if command:
        service["command"] = list(command)
        service["environment"] = dict(environment or {})
    add_service(c, service)


def configure_grading_service(
    c: Config, *, command: Sequence[str] | None, url: str, environment: dict[str, str] | None = None
) -> None:
    """The grading service at /services/grading/: managed (``command`` given) or external. It needs no
    scopes of its own: it identifies each caller with their token or OAuth cookie."""
    service: dict = {"name": GRADING_SERVICE, "url": url, "oauth_no_confirm": True, "display": True}
    if command:
        service["command"] = list(command)
        service["environment"] = dict(environment or {})
    add_service(c, service)


def mlflow_gateway_environment(*, upstream: str, users_file: str, admin_password: str) -> dict[str, str]:
    """The gateway's own settings (practicum.tracking.settings), besides what JupyterHub gives a service."""
    return {
        "PRACTICUM_TRACKING_UPSTREAM": upstream,
        "PRACTICUM_TRACKING_USERS_FILE": users_file,
        "MLFLOW_TRACKING_USERNAME": MLFLOW_ADMIN_USERNAME,
        "MLFLOW_TRACKING_PASSWORD": admin_password,
    }


def mlflow_sandbox_environment(tracking_uri: str) -> dict[str, str | Callable[[Any], str]]:
    """What a learner's server (and so every kernel) needs for ``mlflow.start_run()`` to just work.

    The gateway at ``tracking_uri`` takes the server's own hub token as ``Bearer`` (MLflow's client
    sends ``MLFLOW_TRACKING_TOKEN``); the personal experiment ``learners/<name>`` is the learner's
    (the gateway creates it on first sight, and MLflow creates it on first use otherwise).
    Callables are JupyterHub's per-spawn environment values (``Spawner.environment``).
    """
    return {"MLFLOW_TRACKING_URI": tracking_uri, "MLFLOW_TRACKING_TOKEN": _server_token, "MLFLOW_EXPERIMENT_NAME": _personal_experiment}


# Named functions rather than lambdas: the same settings then make equal configurations.
def _server_token(spawner: Any) -> str:
    return spawner.api_token


def _personal_experiment(spawner: Any) -> str:
    return learner_experiment(spawner.user.name)


def configure_idle_culler(c: Config, *, python: str, timeout_seconds: int, environment: dict[str, str] | None = None) -> None:
    add_service(
        c,
        {
            "name": CULLER_SERVICE,
            "command": [python, "-m", "jupyterhub_idle_culler", f"--timeout={timeout_seconds}"],
            "environment": dict(environment or {}),
        },
    )
    add_role(c, {"name": "idle-culler", "services": [CULLER_SERVICE], "scopes": list(CULLER_SCOPES)})


def configure_lab_service(c: Config, *, api_token: str) -> None:
    """The token the lab's own CLI uses (status, demo) to manage users and servers."""
    add_service(c, {"name": LAB_SERVICE, "api_token": api_token})
    add_role(c, {"name": LAB_SERVICE, "services": [LAB_SERVICE], "scopes": list(LAB_SCOPES)})


def formgrader_command(singleuser: str) -> list[str]:
    command = [singleuser]
    if os.geteuid() == 0:
        command.append("--ServerApp.allow_root=True")
    return command


def configure_formgrader(
    c: Config, course: CourseService, *, singleuser: str, python: str = "", environment: dict[str, str] | None = None
) -> None:
    """nbgrader's formgrader for one course, reachable by the course's instructors only; in its
    sandbox (as the course's unprivileged uid) when the course has a launch spec."""
    if course.launch_spec:
        command = [python, "-m", "practicum.sandbox.serve", course.launch_spec]
    else:
        command = formgrader_command(singleuser)
    add_service(
        c,
        {
            "name": course.service_name,
            "url": f"http://127.0.0.1:{course.port}",
            "command": command,
            "cwd": course.root,
            "environment": {
                "JUPYTERHUB_DEFAULT_URL": "/lab",
                **({"JUPYTER_CONFIG_DIR": course.config_dir} if course.config_dir and not course.launch_spec else {}),
                **(environment or {}),
            },
            "oauth_no_confirm": True,
        },
    )
    add_role(
        c,
        {
            "name": f"formgrade-{course.course_id}",
            "groups": [course.instructor_group],
            "scopes": [f"access:services!service={course.service_name}"],
        },
    )
    add_group(c, course.instructor_group, course.instructors)
    add_group(c, course.student_group, course.roster)
    if course.self_enrolment:
        # The LMS's self-enrolment adds a learner to this course's group, and to no other group.
        add_role(c, {"name": f"lms-enrol-{course.course_id}", "services": [LMS_SERVICE], "scopes": [f"groups!group={course.student_group}"]})


def configure_gpu_groups(c: Config, groups: Sequence[str]) -> None:
    for group in groups:
        add_group(c, group)
