"""The Kubernetes deployment's hub: what zero-to-jupyterhub's ``hub.extraConfig`` adds.

The chart (``hub_config/k8s/values.yaml``) sets what it knows: the PostgreSQL hub
database, the single-user image, volumes, network policy and the idle culler.
``configure_kubernetes`` adds the practicum part from the chart's
``custom.practicum`` values with the same functions the embedded lab uses
(profiles, services, roles, SSO), so only configuration differs between the paths.

Nothing here imports kubespawner: a profile list is plain dicts and a callable.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from traitlets.config import Config

from practicum.contracts.tracking import MLFLOW_PREFIX

from . import services
from .auth import configure_sso
from .profiles import Profile, ProfileLimits, build_profiles, profiles_for
from .sandbox import SANDBOX_DATASETS, SANDBOX_EXCHANGE
from .settings import CourseService, SSOSettings
from .singleuser import write_singleuser_config

GPU_RESOURCE = "nvidia.com/gpu"
# Set by NVIDIA GPU feature discovery (GPU operator) on every GPU node.
DEFAULT_GPU_NODE_SELECTOR: Mapping[str, str] = {"nvidia.com/gpu.present": "true"}
# GPU node pools are usually tainted so that CPU sandboxes stay off them.
DEFAULT_GPU_TOLERATIONS: tuple[Mapping[str, str], ...] = (
    {"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"},
)
# CPU is compressible, so a sandbox reserves only part of its limit; memory is
# reserved in full (see kubespawner_profile).
DEFAULT_CPU_GUARANTEE_FRACTION = 0.25

# Where the single-user image keeps the learner's Jupyter configuration
# (nbgrader assignment list on, formgrader off); see Dockerfile.singleuser.
IMAGE_JUPYTER_CONFIG_DIR = "/srv/practicum/jupyter-config"
# OAuthenticator's own variable for the client secret; the chart sets it on the
# hub pod from a Kubernetes Secret (hub.extraEnv).
SSO_CLIENT_SECRET_ENV = "OAUTH_CLIENT_SECRET"

T = TypeVar("T")


@dataclass(frozen=True)
class GpuSandbox:
    """Where a GPU sandbox runs and with which image (the CUDA build of torch)."""

    node_selector: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_GPU_NODE_SELECTOR))
    tolerations: tuple[Mapping[str, Any], ...] = DEFAULT_GPU_TOLERATIONS
    image: str = ""


@dataclass(frozen=True)
class ExternalCourse:
    """One course's formgrader, running in its own pod and reached at ``url``."""

    course_id: str
    url: str
    instructors: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _port_of(self.url)  # refuses what is not an http(s) URL

    @property
    def service(self) -> CourseService:
        # Only its names (service, role, groups) are used here: the course folder
        # and the port belong to the formgrader's pod (k8s/formgrader.yaml).
        return CourseService(
            course_id=self.course_id, root="", port=_port_of(self.url), instructors=self.instructors
        )


@dataclass(frozen=True)
class KubernetesSettings:
    """The chart's ``custom.practicum`` values, typed. Keys are the field names."""

    lms_url: str
    # MLflow itself (basic-auth app, --static-prefix /services/mlflow): for its admin only, the
    # grader and the gateway. Sandboxes may not reach it (network policy) and have no password.
    mlflow_url: str
    # The MLflow gateway (k8s/mlflow-gateway.yaml), the hub service "mlflow": the hub's proxy sends
    # /services/mlflow/ there, and sandboxes track to it with their server's hub token.
    mlflow_gateway_url: str
    gpus_available: bool = True
    profiles: ProfileLimits = ProfileLimits()
    cpu_guarantee_fraction: float = DEFAULT_CPU_GUARANTEE_FRACTION
    gpu_image: str = ""
    gpu_node_selector: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_GPU_NODE_SELECTOR))
    gpu_tolerations: tuple[Mapping[str, Any], ...] = DEFAULT_GPU_TOLERATIONS
    courses: tuple[ExternalCourse, ...] = ()
    sso: SSOSettings | None = None

    @classmethod
    def from_values(
        cls, values: Mapping[str, Any], environ: Mapping[str, str] | None = None
    ) -> KubernetesSettings:
        where = "custom.practicum"
        _check_keys(cls, values, where)
        return _from_values(
            cls,
            values,
            where,
            profiles=_profile_limits_from_values(values.get("profiles", {})),
            gpu_node_selector=dict(values.get("gpu_node_selector", DEFAULT_GPU_NODE_SELECTOR)),
            gpu_tolerations=tuple(values.get("gpu_tolerations", DEFAULT_GPU_TOLERATIONS)),
            courses=tuple(
                _course_from_values(course, f"{where}.courses[{i}]")
                for i, course in enumerate(values.get("courses") or ())
            ),
            sso=_sso_from_values(values["sso"], environ) if values.get("sso") else None,
        )

    def gpu_sandbox(self, chart_tolerations: Sequence[Mapping[str, Any]] = ()) -> GpuSandbox:
        return GpuSandbox(
            node_selector=dict(self.gpu_node_selector),
            tolerations=tuple(chart_tolerations) + tuple(self.gpu_tolerations),
            image=self.gpu_image,
        )


def kubespawner_profile(
    profile: Profile,
    *,
    gpu: GpuSandbox = GpuSandbox(),
    cpu_guarantee_fraction: float = DEFAULT_CPU_GUARANTEE_FRACTION,
) -> dict[str, Any]:
    """One entry of KubeSpawner's ``profile_list``."""
    if not 0 < cpu_guarantee_fraction <= 1:
        raise ValueError(f"cpu_guarantee_fraction must be in (0, 1], not {cpu_guarantee_fraction}")
    override: dict[str, Any] = {
        "cpu_limit": float(profile.cpu_limit),
        "cpu_guarantee": round(profile.cpu_limit * cpu_guarantee_fraction, 3),
        "mem_limit": profile.mem_limit,
        # Memory is not compressible: on an overcommitted node the kernel
        # OOM-kills some learner's training run, so it is reserved in full.
        "mem_guarantee": profile.mem_limit,
    }
    if profile.gpus:
        # Kubernetes sets the request of an extended resource to its limit.
        override["extra_resource_limits"] = {GPU_RESOURCE: str(profile.gpus)}
        override["node_selector"] = dict(gpu.node_selector)
        # A list in kubespawner_override replaces the spawner's list (dicts are
        # merged), so gpu.tolerations must already hold the chart's own.
        override["tolerations"] = [dict(t) for t in gpu.tolerations]
        if gpu.image:
            override["image"] = gpu.image
    return {
        "display_name": profile.display_name,
        "slug": profile.slug,
        "description": profile.description,
        "default": profile.default,
        "kubespawner_override": override,
    }


def kubespawner_profile_list(
    profiles: Sequence[Profile],
    *,
    gpu: GpuSandbox = GpuSandbox(),
    cpu_guarantee_fraction: float = DEFAULT_CPU_GUARANTEE_FRACTION,
) -> list[dict[str, Any]]:
    return [
        kubespawner_profile(p, gpu=gpu, cpu_guarantee_fraction=cpu_guarantee_fraction)
        for p in profiles
    ]


def profile_list_by_group(
    profiles: Sequence[Profile],
    *,
    gpu: GpuSandbox = GpuSandbox(),
    cpu_guarantee_fraction: float = DEFAULT_CPU_GUARANTEE_FRACTION,
) -> Callable[[Any], list[dict[str, Any]]]:
    """KubeSpawner ``profile_list`` callable: the profiles the spawning user's groups allow.

    KubeSpawner calls it both to render the form and to look up the submitted
    slug, so a profile left out here cannot be requested by a crafted form.
    """
    all_profiles = list(profiles)

    def profile_list(spawner: Any) -> list[dict[str, Any]]:
        groups = [group.name for group in spawner.user.groups]
        allowed = profiles_for(all_profiles, groups)
        if not allowed:
            # An empty list would make KubeSpawner start the chart's defaults instead.
            raise PermissionError("no sandbox profile is available to this user")
        return kubespawner_profile_list(allowed, gpu=gpu, cpu_guarantee_fraction=cpu_guarantee_fraction)

    return profile_list


def singleuser_environment(s: KubernetesSettings) -> dict[str, Any]:
    """KubeSpawner's environment: values, and callables of the spawner (MLflow's token and experiment)."""
    return {
        **services.mlflow_sandbox_environment(s.mlflow_gateway_url.rstrip("/") + MLFLOW_PREFIX),
        "PRACTICUM_DATA_DIR": SANDBOX_DATASETS,
        "JUPYTER_CONFIG_PATH": IMAGE_JUPYTER_CONFIG_DIR,
    }


def configure_external_formgrader(c: Config, course: ExternalCourse, *, hub_manages_groups: bool) -> None:
    """A course's formgrader as an external service, for the course's instructors only.

    Same service, role and group names as ``services.configure_formgrader`` (the
    embedded lab's managed formgrader); here it runs in its own pod.
    """
    names = course.service
    services.add_service(c, {"name": names.service_name, "url": course.url, "oauth_no_confirm": True})
    services.add_role(
        c,
        {
            "name": f"formgrade-{names.course_id}",
            "groups": [names.instructor_group],
            "scopes": [f"access:services!service={names.service_name}"],
        },
    )
    if hub_manages_groups:
        services.add_group(c, names.instructor_group, names.instructors)
        services.add_group(c, names.student_group)


def configure_kubernetes(
    c: Config, custom: Mapping[str, Any], *, environ: Mapping[str, str] | None = None
) -> None:
    """Apply the chart's ``custom.practicum`` values on top of what the chart configured.

    ``environ`` (default: this process's environment) supplies the SSO client
    secret when the values leave it out.
    """
    s = KubernetesSettings.from_values(custom, environ)

    profiles = build_profiles(s.gpus_available, s.profiles)
    chart_tolerations = list(c.KubeSpawner.tolerations) if "tolerations" in c.KubeSpawner else []
    c.KubeSpawner.profile_list = profile_list_by_group(
        profiles,
        gpu=s.gpu_sandbox(chart_tolerations),
        cpu_guarantee_fraction=s.cpu_guarantee_fraction,
    )
    chart_env = dict(c.KubeSpawner.environment) if "environment" in c.KubeSpawner else {}
    c.KubeSpawner.environment = {**chart_env, **singleuser_environment(s)}

    services.configure_user_role(c)
    services.configure_lms_service(c, command=None, url=s.lms_url)
    services.configure_mlflow_gateway(c, command=None, url=s.mlflow_gateway_url)
    # The idle culler is the chart's (values.yaml `cull`): it runs in the hub pod
    # with its own role. services.configure_idle_culler would start a second one.

    # With SSO the identity provider owns group membership (manage_groups), and
    # JupyterHub refuses load_groups then; roles still name the groups.
    hub_manages_groups = s.sso is None
    for course in s.courses:
        configure_external_formgrader(c, course, hub_manages_groups=hub_manages_groups)
    if s.sso is not None:
        configure_sso(c, s.sso)
    else:
        services.configure_gpu_groups(c, s.profiles.gpu_groups)

    _require_api_tokens(c)


def write_image_jupyter_config(folder: str = IMAGE_JUPYTER_CONFIG_DIR) -> None:
    """Write the learner's Jupyter configuration into the single-user image (build time)."""
    write_singleuser_config(Path(folder), SANDBOX_EXCHANGE)


# --- values parsing -----------------------------------------------------------------


def _check_keys(cls: type, raw: Any, where: str) -> None:
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where} must be a mapping, not {type(raw).__name__}")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")


def _from_values(cls: type[T], raw: Mapping[str, Any], where: str, **converted: Any) -> T:
    """``cls(**raw)`` with readable errors; ``converted`` replaces raw values of those keys."""
    _check_keys(cls, raw, where)
    required = {f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING}
    missing = sorted(required - set(raw) - set(converted))
    if missing:
        raise ValueError(f"{where}: missing key(s) {', '.join(missing)}")
    return cls(**{**raw, **converted})


def _profile_limits_from_values(raw: Mapping[str, Any]) -> ProfileLimits:
    where = "custom.practicum.profiles"
    _check_keys(ProfileLimits, raw, where)
    converted: dict[str, Any] = {
        key: float(raw[key]) for key in ("cpu_cpu_limit", "gpu_cpu_limit") if key in raw
    }
    if "gpu_groups" in raw:
        converted["gpu_groups"] = tuple(raw["gpu_groups"])
    return _from_values(ProfileLimits, raw, where, **converted)


def _course_from_values(raw: Mapping[str, Any], where: str) -> ExternalCourse:
    _check_keys(ExternalCourse, raw, where)
    return _from_values(ExternalCourse, raw, where, instructors=tuple(raw.get("instructors", ())))


def _sso_from_values(raw: Mapping[str, Any], environ: Mapping[str, str] | None) -> SSOSettings:
    where = "custom.practicum.sso"
    _check_keys(SSOSettings, raw, where)
    env = os.environ if environ is None else environ
    secret = raw.get("client_secret") or env.get(SSO_CLIENT_SECRET_ENV, "")
    if not secret:
        raise ValueError(
            f"{where}: no client secret; set {SSO_CLIENT_SECRET_ENV} on the hub pod "
            "(hub.extraEnv from a Secret) or client_secret in a private values file"
        )
    tuples = {key: tuple(raw[key]) for key in ("allowed_groups", "admin_groups", "scope") if key in raw}
    return _from_values(SSOSettings, raw, where, client_secret=secret, **tuples)


def _port_of(url: str) -> int:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    return parts.port or (443 if parts.scheme == "https" else 80)


# --- the chart's services -------------------------------------------------------------


def _require_api_tokens(c: Config) -> None:
    """An external service needs a token: it is also its OAuth client secret."""
    missing = [
        s["name"]
        for s in c.JupyterHub.services
        if s.get("url") and not s.get("command") and not s.get("api_token")
    ]
    if missing:
        raise ValueError(
            f"external service(s) {', '.join(missing)} have no api_token: list them under "
            "hub.services in the chart values so the chart generates one"
        )
