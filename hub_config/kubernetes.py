"""The Kubernetes deployment's hub: what zero-to-jupyterhub's ``hub.extraConfig`` adds.

The chart (``hub_config/k8s/values.yaml``) sets what it knows: the PostgreSQL hub
database, the single-user image, home and dataset volumes, network policy and the idle
culler. ``configure_kubernetes`` adds the practicum part from the chart's
``custom.practicum`` values with the same functions the embedded lab uses
(profiles, services, roles, SSO, the inbound layout), so only configuration differs
between the paths.

nbgrader's exchange is the local lab's, in volumes (``learner_exchange``): each user pod
sees a private, nearly empty writable folder as the exchange root, each course's
``outbound`` and ``feedback`` read-only, and as each course's ``inbound`` a folder of its
own, ``<course>/<learner>`` of the inbound volume, which an init container creates
(``prepare-learner`` below) before the learner's container starts.

Nothing here imports kubespawner: a profile list is plain dicts and a callable. Run as
``python -m practicum.hub_config.kubernetes`` it is the init containers' command.
"""

from __future__ import annotations

import argparse
import os
import posixpath
import stat
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from traitlets.config import Config

from practicum.contracts.exchange import course_inbounds, inbound_name, learner_inbound
from practicum.contracts.tracking import MLFLOW_PREFIX
from practicum.sandbox.command import IN_SANDBOX

from . import services
from .auth import configure_sso
from .profiles import Profile, ProfileLimits, build_profiles, profiles_for
from .sandbox import EXCHANGE_VIEW_BYTES, SANDBOX_DATASETS, SANDBOX_EXCHANGE
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
# Where the single-user image keeps the grading kernelspec (practicum-sandboxed); only the
# formgrader's JUPYTER_PATH names it (k8s/formgrader.yaml), where it refuses to start.
IMAGE_GRADING_KERNELS_DIR = "/srv/practicum/grading-kernels"
# OAuthenticator's own variable for the client secret; the chart sets it on the
# hub pod from a Kubernetes Secret (hub.extraEnv).
SSO_CLIENT_SECRET_ENV = "OAUTH_CLIENT_SECRET"

# nbgrader's exchange: released assignments and feedback (<course>/outbound, <course>/feedback; written
# by the course's formgrader) on one volume, the learners' inbounds (<course>/<learner>/, the local lab's
# exchange-inbound layout) on another, so that what learners write never shares a file system, or its
# free space, with what they are given.
EXCHANGE_CLAIM = "practicum-nbgrader-exchange"
INBOUND_CLAIM = "practicum-nbgrader-inbound"
EXCHANGE_VIEW_VOLUME = "practicum-exchange-view"
EXCHANGE_VOLUME = "practicum-nbgrader-exchange"
INBOUND_VOLUME = "practicum-nbgrader-inbound"
# Where an init container sees the two volumes (the learner's container never does).
INIT_EXCHANGE = "/srv/practicum/exchange"
INIT_INBOUNDS = "/srv/practicum/inbounds"
INBOUNDS_INIT_CONTAINER = "practicum-inbounds"
# The hub's user name, unescaped: JupyterHub sets it in the learner's container (and nbgrader names each
# submission with it), KubeSpawner in this pod annotation. Both reach the pod through Kubernetes' own
# $(VAR) expansion: KubeSpawner's templates would give {username} as a DNS-safe slug (not the name the
# collector checks a submission against) and strip a trailing '-' from {unescaped_username}.
USER_ENV = "JUPYTERHUB_USER"
USERNAME_ANNOTATION = "hub.jupyter.org/username"
LEARNER_ENV = "PRACTICUM_LEARNER"
# The chart's singleuser.uid and singleuser.fsGid (Dockerfile.singleuser's jovyan).
POD_UID = 1000
POD_GID = 100

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
    # The grading service (k8s/grading.yaml), the hub service "grading": the hub's proxy sends
    # /services/grading/ there, and `practicum submit` in a sandbox reaches it directly (network policy).
    grading_url: str
    gpus_available: bool = True
    profiles: ProfileLimits = ProfileLimits()
    cpu_guarantee_fraction: float = DEFAULT_CPU_GUARANTEE_FRACTION
    gpu_image: str = ""
    gpu_node_selector: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_GPU_NODE_SELECTOR))
    gpu_tolerations: tuple[Mapping[str, Any], ...] = DEFAULT_GPU_TOLERATIONS
    courses: tuple[ExternalCourse, ...] = ()
    sso: SSOSettings | None = None
    # ReadWriteMany claims: the exchange (formgraders write, sandboxes read) and the learners' inbounds.
    exchange_claim: str = EXCHANGE_CLAIM
    inbound_claim: str = INBOUND_CLAIM

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
    """KubeSpawner's environment: values, and callables of the spawner (MLflow's token and experiment);
    the grading service's URL as the local lab gives it (hub_config/local.py)."""
    return {
        **services.mlflow_sandbox_environment(s.mlflow_gateway_url.rstrip("/") + MLFLOW_PREFIX),
        # Where `practicum submit` sends submissions: the service itself, as in a local sandbox.
        services.GRADING_URL_ENV: s.grading_url.rstrip("/") + services.GRADING_PREFIX,
        "PRACTICUM_DATA_DIR": SANDBOX_DATASETS,
        "JUPYTER_CONFIG_PATH": IMAGE_JUPYTER_CONFIG_DIR,
        # As in every local sandbox: the grading kernel refuses to start here.
        IN_SANDBOX: "1",
    }


def learner_inbound_subpath_expr(course: str) -> str:
    """The learner's inbound of ``course`` in the inbound volume, as a volumeMount's ``subPathExpr``:
    ``learner_inbound`` with the name the kubelet takes from the container's own $JUPYTERHUB_USER."""
    return posixpath.join(course_inbounds("", course), f"$({USER_ENV})")


@dataclass(frozen=True)
class LearnerExchange:
    """What a user pod needs for nbgrader's exchange: KubeSpawner ``volumes`` and ``volume_mounts``
    entries (by key) and the init container that makes the learner's inbounds."""

    volumes: dict[str, dict[str, Any]]
    volume_mounts: dict[str, dict[str, Any]]
    init_container: dict[str, Any] | None


def learner_exchange(
    courses: Sequence[str],
    *,
    image: str,
    exchange_claim: str = EXCHANGE_CLAIM,
    inbound_claim: str = INBOUND_CLAIM,
) -> LearnerExchange:
    """The exchange as a local sandbox sees it (sandbox.learner_server), for every user pod.

    A private memory-backed folder is the exchange root (nbgrader refuses an unwritable one); each
    course's outbound and feedback are subPaths of the exchange volume, which the pod mounts read-only;
    its inbound is the learner's own folder of the inbound volume (``subPathExpr``), read-write. Neither
    volume is mounted whole in the learner's container. A subPath that does not exist would be created
    by the kubelet, as root; the init container creates the learner's folders first, as the pod's uid.
    """
    courses = [inbound_name(course, "course id") for course in courses]
    volumes: dict[str, dict[str, Any]] = {
        EXCHANGE_VIEW_VOLUME: {
            "name": EXCHANGE_VIEW_VOLUME,
            "emptyDir": {"medium": "Memory", "sizeLimit": f"{EXCHANGE_VIEW_BYTES // 1024}Ki"},
        }
    }
    mounts: dict[str, dict[str, Any]] = {
        "practicum-exchange": {"name": EXCHANGE_VIEW_VOLUME, "mountPath": SANDBOX_EXCHANGE},
    }
    if not courses:
        return LearnerExchange(volumes, mounts, None)
    volumes[EXCHANGE_VOLUME] = {
        "name": EXCHANGE_VOLUME,
        "persistentVolumeClaim": {"claimName": exchange_claim, "readOnly": True},
    }
    volumes[INBOUND_VOLUME] = {"name": INBOUND_VOLUME, "persistentVolumeClaim": {"claimName": inbound_claim}}
    for course in courses:
        for part in ("outbound", "feedback"):
            mounts[f"practicum-exchange-{course}-{part}"] = {
                "name": EXCHANGE_VOLUME,
                "mountPath": f"{SANDBOX_EXCHANGE}/{course}/{part}",
                "subPath": f"{course}/{part}",
                "readOnly": True,
            }
        mounts[f"practicum-exchange-{course}-inbound"] = {
            "name": INBOUND_VOLUME,
            "mountPath": f"{SANDBOX_EXCHANGE}/{course}/inbound",
            "subPathExpr": learner_inbound_subpath_expr(course),
        }
    init = {
        "name": INBOUNDS_INIT_CONTAINER,
        "image": image,
        "command": [
            "python", "-m", "practicum.hub_config.kubernetes", "prepare-learner",
            "--exchange", INIT_EXCHANGE, "--inbounds", INIT_INBOUNDS, "--learner", f"$({LEARNER_ENV})",
            *courses,
        ],
        "env": [
            {"name": LEARNER_ENV, "valueFrom": {"fieldRef": {"fieldPath": f"metadata.annotations['{USERNAME_ANNOTATION}']"}}}
        ],
        "volumeMounts": [
            {"name": INBOUND_VOLUME, "mountPath": INIT_INBOUNDS},
            {"name": EXCHANGE_VOLUME, "mountPath": INIT_EXCHANGE, "readOnly": True},
        ],
        "securityContext": _UNPRIVILEGED,
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
    }
    return LearnerExchange(volumes, mounts, init)


_UNPRIVILEGED: dict[str, Any] = {
    "runAsUser": POD_UID,
    "runAsGroup": POD_GID,
    "runAsNonRoot": True,
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}


def learner_name_check(previous: Callable[[Any], Any] | None = None) -> Callable[[Any], Any]:
    """KubeSpawner ``pre_spawn_hook``: refuse a user whose name cannot be an inbound folder, the same
    names the local spawner refuses (``.`` would make the subPath the whole course's inbounds)."""

    def pre_spawn_hook(spawner: Any) -> Any:
        inbound_name(spawner.user.name)
        return previous(spawner) if previous is not None else None

    return pre_spawn_hook


def configure_learner_exchange(c: Config, s: KubernetesSettings) -> None:
    """Add the exchange's volumes, mounts and init container to what the chart gave user pods."""
    _refuse_chart_exchange(c, s)
    image = c.KubeSpawner.image if "image" in c.KubeSpawner else ""
    if s.courses and not image:
        raise ValueError("singleuser.image must be set: the inbounds' init container of user pods runs it")
    exchange = learner_exchange(
        [course.course_id for course in s.courses],
        image=image,
        exchange_claim=s.exchange_claim,
        inbound_claim=s.inbound_claim,
    )
    c.KubeSpawner.volumes = _with_entries(_chart_value(c, "volumes"), exchange.volumes)
    c.KubeSpawner.volume_mounts = _with_entries(_chart_value(c, "volume_mounts"), exchange.volume_mounts)
    if exchange.init_container is not None:
        init = {INBOUNDS_INIT_CONTAINER: exchange.init_container}
        c.KubeSpawner.init_containers = _with_entries(_chart_value(c, "init_containers"), init)
        # Spawner.pre_spawn_hook is one callable: keep the chart's (hub.extraConfig), on either class.
        previous = next((k.pre_spawn_hook for k in (c.KubeSpawner, c.Spawner) if "pre_spawn_hook" in k), None)
        c.KubeSpawner.pre_spawn_hook = learner_name_check(previous)


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
    configure_learner_exchange(c, s)

    services.configure_user_role(c)
    services.configure_lms_service(c, command=None, url=s.lms_url)
    services.configure_mlflow_gateway(c, command=None, url=s.mlflow_gateway_url)
    services.configure_grading_service(c, command=None, url=s.grading_url)
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


# --- the init containers (python -m practicum.hub_config.kubernetes) -------------------------------


class ExchangeNotPrepared(RuntimeError):
    """A folder an init container needs is missing or not the pod's to write."""


def prepare_course_exchange(exchange: Path, inbounds: Path, course: str) -> list[Path]:
    """The formgrader's init container: the course's outbound and feedback on the exchange volume and the
    folder of its learners' inbounds on the inbound volume, owned by the pod's uid (the kubelet would
    make a missing subPath root's)."""
    course = inbound_name(course, "course id")
    folders = [exchange / course / "outbound", exchange / course / "feedback", Path(course_inbounds(str(inbounds), course))]
    for folder in folders:
        _own_folder(folder, create=True)
    return folders


def prepare_learner_inbounds(exchange: Path, inbounds: Path, courses: Sequence[str], learner: str) -> list[Path]:
    """A user pod's init container: the learner's own inbound of each course (``learner_inbound``), made
    by the pod's uid so that the learner may write it. The courses' folders come from their formgraders;
    a course that has none yet stops the pod here, with its name, rather than at a root-owned subPath."""
    learner = inbound_name(learner)
    made = []
    for course in (inbound_name(course, "course id") for course in courses):
        for folder in (exchange / course / "outbound", exchange / course / "feedback", Path(course_inbounds(str(inbounds), course))):
            if not folder.is_dir() or folder.is_symlink():
                raise ExchangeNotPrepared(
                    f"course {course}: {folder} is missing; the course's formgrader (k8s/formgrader.yaml) "
                    "prepares it when it starts: deploy it, or remove the course from custom.practicum.courses"
                )
        folder = Path(learner_inbound(str(inbounds), course, learner))
        _own_folder(folder, create=True, parents=False)
        made.append(folder)
    return made


def _own_folder(folder: Path, *, create: bool, parents: bool = True) -> None:
    if create:
        folder.mkdir(mode=0o755, parents=parents, exist_ok=True)
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode):
        raise ExchangeNotPrepared(f"{folder} is not a folder (a link or a file)")
    if info.st_uid != os.getuid() or not os.access(folder, os.W_OK | os.X_OK):
        raise ExchangeNotPrepared(
            f"{folder} belongs to uid {info.st_uid} (mode {stat.filemode(info.st_mode)}), not to this pod's uid "
            f"{os.getuid()}: the kubelet makes a missing subPath root's; chown it to {POD_UID}:{POD_GID} once"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """``prepare-course`` (formgrader pods) and ``prepare-learner`` (user pods): the init containers."""
    parser = argparse.ArgumentParser(prog="python -m practicum.hub_config.kubernetes")
    verbs = parser.add_subparsers(dest="verb", required=True)
    for verb in ("prepare-course", "prepare-learner"):
        sub = verbs.add_parser(verb)
        sub.add_argument("--exchange", required=True, type=Path, help="the exchange volume's root")
        sub.add_argument("--inbounds", required=True, type=Path, help="the inbound volume's root")
        if verb == "prepare-learner":
            sub.add_argument("--learner", required=True, help="the hub's user name")
        sub.add_argument("courses", nargs="+")
    args = parser.parse_args(argv)
    try:
        if args.verb == "prepare-course":
            made = [f for course in args.courses for f in prepare_course_exchange(args.exchange, args.inbounds, course)]
        else:
            made = prepare_learner_inbounds(args.exchange, args.inbounds, args.courses, args.learner)
    except (ExchangeNotPrepared, ValueError, OSError) as error:
        print(f"practicum: {error}", file=sys.stderr)
        return 1
    for folder in made:
        print(f"practicum: {folder} is ready")
    return 0


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


def _chart_value(c: Config, name: str) -> Any:
    return c.KubeSpawner[name] if name in c.KubeSpawner else {}


def _with_entries(existing: Any, entries: Mapping[str, Any]) -> Any:
    """KubeSpawner's volumes, volume_mounts and init_containers are lists or dicts (z2jh 4 gives dicts)."""
    if isinstance(existing, Mapping):
        clash = sorted(set(existing) & set(entries))
        if clash:
            raise ValueError(f"the chart already has {', '.join(clash)}, which configure_kubernetes adds")
        return {**existing, **entries}
    return [*existing, *entries.values()]


def _entries(value: Any) -> list[Any]:
    return list(value.values()) if isinstance(value, Mapping) else list(value)


def _refuse_chart_exchange(c: Config, s: KubernetesSettings) -> None:
    """The exchange is configure_kubernetes's: a chart volume or mount of it (the old shared folder, every
    learner's submissions in every pod) is refused, and so is anything that changes the learner's name."""
    claims = {s.exchange_claim, s.inbound_claim}
    for volume in _entries(_chart_value(c, "volumes")):
        claim = (volume.get("persistentVolumeClaim") or {}).get("claimName") if isinstance(volume, Mapping) else None
        if claim in claims:
            raise ValueError(
                f"singleuser.storage.extraVolumes mounts {claim}: remove it, configure_kubernetes gives each "
                "pod its own part of the exchange"
            )
    for mount in _entries(_chart_value(c, "volume_mounts")):
        path = posixpath.normpath(mount.get("mountPath", "")) if isinstance(mount, Mapping) else ""
        if path and (path == SANDBOX_EXCHANGE or path.startswith(SANDBOX_EXCHANGE + "/") or SANDBOX_EXCHANGE.startswith(path + "/")):
            raise ValueError(f"singleuser.storage.extraVolumeMounts mounts {path}, over or under the exchange {SANDBOX_EXCHANGE}")
    environment = _chart_value(c, "environment")
    if USER_ENV in environment or LEARNER_ENV in environment:
        raise ValueError(f"singleuser.extraEnv must not set {USER_ENV} or {LEARNER_ENV}: each learner's inbound is named by it")
    if USERNAME_ANNOTATION in _chart_value(c, "extra_annotations"):
        raise ValueError(f"singleuser.extraAnnotations must not set {USERNAME_ANNOTATION}: each learner's inbound is named by it")


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


if __name__ == "__main__":
    sys.exit(main())
