"""The Kubernetes path: KubeSpawner profiles, configure_kubernetes on a bare traitlets
Config, and the chart values, manifests and Dockerfiles under hub_config/k8s."""

from __future__ import annotations

import ast
import copy
import fnmatch
import importlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import types
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from traitlets.config import Config

from practicum.contracts import exchange as contracts_exchange
from practicum.contracts.exchange import course_inbounds, learner_inbound
from practicum.contracts.tracking import MLFLOW_ADMIN_USERNAME, MLFLOW_PREFIX
from practicum.hub_config import kubernetes as k8s
from practicum.hub_config import services
from practicum.hub_config.profiles import GPU_GROUP, Profile, ProfileLimits, build_profiles
from practicum.hub_config.sandbox import ALLOWED_EGRESS, SANDBOX_DATASETS, SANDBOX_EXCHANGE

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "hub_config" / "k8s"
MANIFESTS = ("mlflow.yaml", "mlflow-gateway.yaml", "lms.yaml", "formgrader.yaml", "grading.yaml")
DOCKERFILES_OF_THE_PACKAGE = ("Dockerfile.singleuser", "Dockerfile.hub")

# What the chart (scheduling.userPods.tolerations) puts on every user pod.
CHART_TOLERATIONS = [
    {"key": "hub.jupyter.org/dedicated", "operator": "Equal", "value": "user", "effect": "NoSchedule"},
]


# --- helpers ----------------------------------------------------------------------------


def load_values() -> dict[str, Any]:
    return yaml.safe_load((K8S / "values.yaml").read_text())


def practicum_values() -> dict[str, Any]:
    return load_values()["custom"]["practicum"]


def manifest_objects() -> list[dict[str, Any]]:
    return [doc for name in MANIFESTS for doc in yaml.safe_load_all((K8S / name).read_text()) if doc]


def objects_of_kind(kind: str) -> list[dict[str, Any]]:
    return [o for o in manifest_objects() if o["kind"] == kind]


def config_as_chart_leaves_it(values: dict[str, Any]) -> Config:
    """The part of z2jh 4.3's jupyterhub_config.py that runs before hub.extraConfig and
    that configure_kubernetes builds on: hub.services with generated tokens, the
    user pods' image, tolerations, environment, volumes and mounts (dicts: the home
    volume, then extraVolumes by name and extraVolumeMounts by "<index>-<name>") and
    init containers (a list: the cloud metadata blocker)."""
    c = Config()
    c.JupyterHub.services = [
        {**service, "name": name, "api_token": f"generated-{name}"}
        for name, service in values["hub"].get("services", {}).items()
    ]
    singleuser = values["singleuser"]
    c.KubeSpawner.image = f"{singleuser['image']['name']}:{singleuser['image']['tag']}"
    c.KubeSpawner.tolerations = copy.deepcopy(CHART_TOLERATIONS)
    c.KubeSpawner.environment = dict(singleuser.get("extraEnv", {}))
    storage = singleuser["storage"]
    home = "volume-{user_server}"
    volumes = {home: {"name": home, "persistentVolumeClaim": {"claimName": "{pvc_name}"}}}
    mounts = {home: {"mountPath": storage["homeMountPath"], "name": home, "subPath": None}}
    volumes |= {v["name"]: v for v in storage.get("extraVolumes", [])}
    mounts |= {f"{i}-{m['name']}": m for i, m in enumerate(storage.get("extraVolumeMounts", []))}
    c.KubeSpawner.volumes = copy.deepcopy(volumes)
    c.KubeSpawner.volume_mounts = copy.deepcopy(mounts)
    c.KubeSpawner.init_containers = [{"name": "block-cloud-metadata", "image": "network-tools", "command": ["iptables"]}]
    return c


def minimal_values(**extra: Any) -> dict[str, Any]:
    return {
        "lms_url": "http://lms.practicum.svc.cluster.local:8090",
        "mlflow_url": "http://mlflow.practicum.svc.cluster.local:5000/services/mlflow",
        "mlflow_gateway_url": "http://mlflow-gateway.practicum.svc.cluster.local:5001",
        "grading_url": "http://grading.practicum.svc.cluster.local:8092",
        **extra,
    }


def with_lms_token() -> Config:
    """A Config with the tokens the chart generates for the external LMS, MLflow gateway and grading service."""
    c = Config()
    c.JupyterHub.services = [
        {"name": services.LMS_SERVICE, "api_token": "generated"},
        {"name": services.MLFLOW_GATEWAY_SERVICE, "api_token": "generated-mlflow"},
        {"name": services.GRADING_SERVICE, "api_token": "generated-grading"},
    ]
    c.KubeSpawner.image = "registry.example.org/practicum/singleuser:test"
    return c


def fake_spawner(*group_names: str) -> SimpleNamespace:
    """What the profile_list callable reads of a KubeSpawner: user.groups[].name."""
    return SimpleNamespace(user=SimpleNamespace(groups=[SimpleNamespace(name=g) for g in group_names]))


def service(c: Config, name: str) -> dict[str, Any]:
    return next(s for s in c.JupyterHub.services if s["name"] == name)


def role(c: Config, name: str) -> dict[str, Any]:
    return next(r for r in c.JupyterHub.load_roles if r["name"] == name)


def sso_values() -> dict[str, Any]:
    return practicum_values()["sso"]


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in logical]


def copy_sources(path: Path) -> list[str]:
    sources = []
    for instruction, args in dockerfile_instructions(path):
        if instruction == "COPY":
            tokens = [t for t in args.split() if not t.startswith("--")]
            sources += tokens[:-1]
    return sources


def dockerfile_arg(path: Path, name: str) -> str:
    for instruction, args in dockerfile_instructions(path):
        if instruction == "ARG" and args.startswith(f"{name}="):
            return args.split("=", 1)[1].strip('"')
    raise AssertionError(f"{path.name} has no ARG {name}=...")


def pyproject_pin(package: str) -> str:
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    return next(d for d in deps if re.match(rf"{package}\b", d))


def rooms_linked_into_practicum() -> set[str]:
    """The top-level folders that practicum/ links to (practicum/hub_config -> ../hub_config)."""
    return {p.resolve().relative_to(REPO).parts[0] for p in (REPO / "practicum").iterdir() if p.is_symlink()}


def host_header(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc


def pod_templates() -> list[dict[str, Any]]:
    return [d["spec"]["template"] for d in objects_of_kind("Deployment")]


def pods_named(app_name: str) -> list[dict[str, Any]]:
    return [t for t in pod_templates() if t["metadata"]["labels"]["app.kubernetes.io/name"] == app_name]


def container_ports(template: dict[str, Any]) -> set[int]:
    return {p["containerPort"] for c in template["spec"]["containers"] for p in c.get("ports", [])}


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def service_for_url(url: str) -> dict[str, Any]:
    """The Service object a cluster URL http://<service>.<namespace>.svc... names."""
    host = urlsplit(url).hostname or ""
    name, namespace = host.split(".")[:2]
    found = [
        s
        for s in objects_of_kind("Service")
        if s["metadata"]["name"] == name and s["metadata"].get("namespace") == namespace
    ]
    assert found, f"no Service {name} in namespace {namespace} for {url} in {MANIFESTS}"
    return found[0]


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def hub_service_containers() -> list[dict[str, Any]]:
    """Containers that run as a JupyterHub service (they name it)."""
    return [
        c
        for t in pod_templates()
        for c in t["spec"]["containers"]
        if "JUPYTERHUB_SERVICE_NAME" in env_of(c)
    ]


def kubespawner_entries(value: Any) -> list[Any]:
    """KubeSpawner's list-or-dict traits as it reads them: dict values sorted by key."""
    return [value[k] for k in sorted(value)] if isinstance(value, dict) else list(value)


def kubespawner_expand(value: Any, username: str) -> Any:
    """KubeSpawner 7's template expansion (safe slug scheme) of what it puts in the pod:
    str.format of every string, then a trailing '-' stripped."""
    if isinstance(value, list):
        return [kubespawner_expand(v, username) for v in value]
    if isinstance(value, dict):
        return {k: kubespawner_expand(v, username) for k, v in value.items()}
    if isinstance(value, str):
        ns = {"username": username, "unescaped_username": username, "user_server": username,
              "servername": "", "pvc_name": f"claim-{username}", "userid": 1}
        rendered = value.format(**ns)
        return rendered if value.endswith("-") else rendered.rstrip("-")
    return value


def kubelet_expand(value: str, env: dict[str, str]) -> str:
    """The kubelet's $(VAR) expansion (subPathExpr, command): one pass, undefined names left as they are."""
    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m.group(1), m.group(0)), value)


def container_env(container: dict[str, Any], annotations: dict[str, str]) -> dict[str, str]:
    env = {}
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
        else:
            path = var["valueFrom"]["fieldRef"]["fieldPath"]
            key = re.fullmatch(r"metadata\.annotations\['([^']+)'\]", path)
            assert key, f"{var['name']}: only pod annotations are read ({path})"
            env[var["name"]] = annotations.get(key.group(1), "")
    return env


def resolved_mounts(mounts: list[dict[str, Any]], volumes: dict[str, dict[str, Any]], env: dict[str, str]) -> list[dict[str, Any]]:
    """Each mount with its volume, its path inside the volume and whether the container may write it."""
    resolved = []
    for mount in mounts:
        volume = volumes[mount["name"]]
        assert not ("subPath" in mount and mount.get("subPathExpr")), "subPath and subPathExpr exclude each other"
        sub_path = kubelet_expand(mount["subPathExpr"], env) if mount.get("subPathExpr") else mount.get("subPath") or ""
        read_only = bool(mount.get("readOnly")) or bool((volume.get("persistentVolumeClaim") or {}).get("readOnly"))
        resolved.append({"path": mount["mountPath"], "volume": volume, "sub_path": sub_path, "read_only": read_only})
    return resolved


def render_user_pod(c: Config, username: str) -> dict[str, Any]:
    """What KubeSpawner 7 and the kubelet make of c's volumes for one user: per container
    (the notebook's and each init container), its env, command and resolved mounts."""
    annotations = {k8s.USERNAME_ANNOTATION: username}
    volumes = {v["name"]: v for v in kubespawner_expand(kubespawner_entries(c.KubeSpawner.volumes), username)}
    environment = {k: v for k, v in c.KubeSpawner.environment.items() if isinstance(v, str)}
    # JupyterHub's Spawner.get_env sets JUPYTERHUB_USER to the user's name; KubeSpawner adds the environment.
    notebook_env = {"JUPYTERHUB_USER": username, **environment}
    mounts = kubespawner_expand(kubespawner_entries(c.KubeSpawner.volume_mounts), username)
    pod = {"notebook": {"env": notebook_env, "command": [], "mounts": resolved_mounts(mounts, volumes, notebook_env)}}
    init_containers = c.KubeSpawner.init_containers if "init_containers" in c.KubeSpawner else []
    for init in kubespawner_expand(kubespawner_entries(init_containers), username):
        env = container_env(init, annotations)
        pod[init["name"]] = {
            "container": init,
            "env": env,
            "command": [kubelet_expand(arg, env) for arg in init.get("command", [])],
            "mounts": resolved_mounts(init.get("volumeMounts", []), volumes, env),
        }
    return pod


def claim_of(mount: dict[str, Any]) -> str | None:
    return (mount["volume"].get("persistentVolumeClaim") or {}).get("claimName")


def mount_at(pod: dict[str, Any], path: str, container: str = "notebook") -> dict[str, Any]:
    (found,) = [m for m in pod[container]["mounts"] if m["path"] == path]
    return found


def two_course_config(**extra: Any) -> Config:
    c = with_lms_token()
    for course in ("c1", "c2"):
        c.JupyterHub.services.append({"name": f"formgrader-{course}", "api_token": "t"})
    courses = [{"course_id": course, "url": f"http://formgrader-{course}.practicum.svc:8888"} for course in ("c1", "c2")]
    k8s.configure_kubernetes(c, minimal_values(courses=courses, **extra))
    return c


def run_init_container(init: dict[str, Any], roots: dict[str, Path]) -> int:
    """Run an init container's command here: its python -m module's main, on folders standing for its mounts."""
    command = list(init["command"])
    assert command[:3] == ["python", "-m", "practicum.hub_config.kubernetes"]
    for mount in init["mounts"]:
        roots[claim_of(mount)].mkdir(parents=True, exist_ok=True)
        command = [str(roots[claim_of(mount)]) if arg == mount["path"] else arg for arg in command]
    return k8s.main(command[3:])


# --- KubeSpawner profiles -------------------------------------------------------------------


def test_cpu_profile_has_limits_guarantees_and_no_gpu():
    limits = ProfileLimits(cpu_cpu_limit=2.0, cpu_mem_limit="4G")
    cpu = build_profiles(gpus_available=False, limits=limits)[0]

    entry = k8s.kubespawner_profile(cpu, cpu_guarantee_fraction=0.5)

    assert entry["slug"] == "cpu"
    assert entry["default"] is True
    assert entry["display_name"] == cpu.display_name
    override = entry["kubespawner_override"]
    assert override == {"cpu_limit": 2.0, "cpu_guarantee": 1.0, "mem_limit": "4G", "mem_guarantee": "4G"}


def test_gpu_profile_asks_for_nvidia_gpus_on_gpu_nodes():
    limits = ProfileLimits(gpus_per_sandbox=2, gpu_cpu_limit=8.0, gpu_mem_limit="32G")
    gpu_profile = build_profiles(gpus_available=True, limits=limits)[1]
    placement = k8s.GpuSandbox(
        node_selector={"pool": "gpu"},
        tolerations=({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},),
        image="registry.example.org/practicum/singleuser-gpu:1",
    )

    override = k8s.kubespawner_profile(gpu_profile, gpu=placement)["kubespawner_override"]

    assert override["extra_resource_limits"] == {"nvidia.com/gpu": "2"}
    assert override["node_selector"] == {"pool": "gpu"}
    assert override["tolerations"] == [dict(placement.tolerations[0])]
    assert override["image"] == "registry.example.org/practicum/singleuser-gpu:1"
    assert override["cpu_limit"] == 8.0
    assert override["mem_limit"] == "32G"


def test_profile_list_keeps_the_order_of_the_profiles():
    profiles = build_profiles(gpus_available=True)

    assert [p["slug"] for p in k8s.kubespawner_profile_list(profiles)] == ["cpu", "gpu"]


def test_gpu_profile_is_offered_only_to_gpu_groups():
    profile_list = k8s.profile_list_by_group(build_profiles(gpus_available=True))

    assert [p["slug"] for p in profile_list(fake_spawner())] == ["cpu"]
    assert [p["slug"] for p in profile_list(fake_spawner("nbgrader-intro_medical_ai"))] == ["cpu"]
    assert [p["slug"] for p in profile_list(fake_spawner(GPU_GROUP))] == ["cpu", "gpu"]


def test_a_user_without_any_profile_is_refused_rather_than_given_chart_defaults():
    only_for_staff = [
        Profile(
            slug="big", display_name="Big", description="", cpu_limit=4, mem_limit="8G", allowed_groups=("staff",)
        )
    ]
    profile_list = k8s.profile_list_by_group(only_for_staff)

    with pytest.raises(PermissionError):
        profile_list(fake_spawner("learners"))


@pytest.mark.parametrize("fraction", [0, -0.5, 1.5])
def test_cpu_guarantee_fraction_must_be_a_share_of_the_limit(fraction):
    with pytest.raises(ValueError, match="cpu_guarantee_fraction"):
        k8s.kubespawner_profile(build_profiles(False)[0], cpu_guarantee_fraction=fraction)


# --- configure_kubernetes on a bare Config ------------------------------------------------------


def test_lms_is_an_external_service_with_the_chart_token():
    c = with_lms_token()

    k8s.configure_kubernetes(c, minimal_values())

    lms = service(c, services.LMS_SERVICE)
    assert lms["url"] == "http://lms.practicum.svc.cluster.local:8090"
    assert "command" not in lms
    assert lms["api_token"] == "generated"
    assert role(c, "lms-service")["services"] == [services.LMS_SERVICE]


def test_users_may_open_the_lms_and_server_tokens_read_groups():
    c = with_lms_token()

    k8s.configure_kubernetes(c, minimal_values())

    assert f"access:services!service={services.LMS_SERVICE}" in role(c, "user")["scopes"]
    assert c.Spawner.server_token_scopes == services.SERVER_TOKEN_SCOPES


def test_sandboxes_get_the_mlflow_gateway_their_token_and_the_datasets_folder():
    c = with_lms_token()
    c.KubeSpawner.environment = {"TZ": "UTC"}

    k8s.configure_kubernetes(c, minimal_values(mlflow_gateway_url="http://mlflow-gateway.ml.svc.cluster.local:5001"))

    env = c.KubeSpawner.environment
    # The gateway, never MLflow itself: sandboxes have no MLflow password.
    assert env["MLFLOW_TRACKING_URI"] == "http://mlflow-gateway.ml.svc.cluster.local:5001" + MLFLOW_PREFIX
    spawner = SimpleNamespace(api_token="server-token-of-ada", user=SimpleNamespace(name="ada"))
    assert env["MLFLOW_TRACKING_TOKEN"](spawner) == "server-token-of-ada"
    assert env["MLFLOW_EXPERIMENT_NAME"](spawner) == "learners/ada"
    assert env["PRACTICUM_DATA_DIR"] == SANDBOX_DATASETS == "/datasets"
    assert env["JUPYTER_CONFIG_PATH"] == k8s.IMAGE_JUPYTER_CONFIG_DIR
    assert env["PRACTICUM_IN_SANDBOX"] == "1"  # as in every local sandbox
    assert env["TZ"] == "UTC"  # the chart's singleuser.extraEnv is kept


def test_the_idle_culler_is_left_to_the_chart():
    c = with_lms_token()

    k8s.configure_kubernetes(c, minimal_values())

    assert services.CULLER_SERVICE not in {s["name"] for s in c.JupyterHub.services}


def test_profile_list_is_a_callable_that_filters_by_group():
    c = with_lms_token()
    c.KubeSpawner.tolerations = copy.deepcopy(CHART_TOLERATIONS)

    k8s.configure_kubernetes(c, minimal_values(gpu_image="gpu-image:1"))

    profile_list = c.KubeSpawner.profile_list
    assert callable(profile_list)
    assert [p["slug"] for p in profile_list(fake_spawner())] == ["cpu"]
    gpu = profile_list(fake_spawner(GPU_GROUP))[1]["kubespawner_override"]
    assert gpu["extra_resource_limits"] == {"nvidia.com/gpu": "1"}
    assert gpu["image"] == "gpu-image:1"
    # kubespawner_override replaces lists: the chart's tolerations must stay.
    assert CHART_TOLERATIONS[0] in gpu["tolerations"]
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in gpu["tolerations"]


def test_no_gpu_profile_when_the_cluster_has_no_gpus():
    c = with_lms_token()

    k8s.configure_kubernetes(c, minimal_values(gpus_available=False))

    assert [p["slug"] for p in c.KubeSpawner.profile_list(fake_spawner(GPU_GROUP))] == ["cpu"]


def test_sso_sets_generic_oauth_with_group_claims():
    c = with_lms_token()

    k8s.configure_kubernetes(c, minimal_values(sso=sso_values()), environ={"OAUTH_CLIENT_SECRET": "s3cret"})

    assert c.JupyterHub.authenticator_class == "generic-oauth"
    g = c.GenericOAuthenticator
    assert g.client_id == "practicum-hub"
    assert g.client_secret == "s3cret"
    assert g.username_claim == "preferred_username"
    assert g.auth_state_groups_key == "oauth_user.groups"
    assert g.manage_groups is True
    assert g.admin_groups == {"practicum-admins"}
    assert "practicum-learners" in g.allowed_groups


def test_with_sso_the_identity_provider_owns_groups():
    c = with_lms_token()
    c.JupyterHub.services.append({"name": "formgrader-c1", "api_token": "t"})
    values = minimal_values(
        sso=sso_values(), courses=[{"course_id": "c1", "url": "http://formgrader-c1.practicum.svc:8888"}]
    )

    k8s.configure_kubernetes(c, values, environ={"OAUTH_CLIENT_SECRET": "s3cret"})

    # JupyterHub refuses load_groups when the authenticator manages groups.
    assert "load_groups" not in c.JupyterHub
    assert role(c, "formgrade-c1")["groups"] == ["formgrade-c1"]


def test_without_sso_the_hub_creates_the_gpu_and_course_groups():
    c = with_lms_token()
    c.JupyterHub.services.append({"name": "formgrader-c1", "api_token": "t"})
    course = {"course_id": "c1", "url": "http://formgrader-c1.practicum.svc:8888", "instructors": ["ada"]}

    k8s.configure_kubernetes(c, minimal_values(courses=[course]))

    assert "authenticator_class" not in c.JupyterHub  # the chart's hub.config decides
    assert c.JupyterHub.load_groups == {
        GPU_GROUP: {"users": []},
        "formgrade-c1": {"users": ["ada"]},
        "nbgrader-c1": {"users": []},
    }


def test_formgrader_is_an_external_service_for_the_course_instructors():
    c = with_lms_token()
    c.JupyterHub.services.append({"name": "formgrader-c1", "api_token": "t"})

    k8s.configure_kubernetes(
        c, minimal_values(courses=[{"course_id": "c1", "url": "http://formgrader-c1.practicum.svc:8888"}])
    )

    formgrader = service(c, "formgrader-c1")
    assert formgrader["url"] == "http://formgrader-c1.practicum.svc:8888"
    assert "command" not in formgrader
    assert formgrader["api_token"] == "t"
    assert role(c, "formgrade-c1") == {
        "name": "formgrade-c1",
        "groups": ["formgrade-c1"],
        "scopes": ["access:services!service=formgrader-c1"],
    }


def test_external_services_without_a_chart_token_are_refused():
    with pytest.raises(ValueError, match="hub.services"):
        k8s.configure_kubernetes(Config(), minimal_values())


def test_sso_without_a_client_secret_is_refused():
    with pytest.raises(ValueError, match="OAUTH_CLIENT_SECRET"):
        k8s.configure_kubernetes(with_lms_token(), minimal_values(sso=sso_values()), environ={})


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (minimal_values(lms_ur="http://typo:1"), "unknown key"),
        ({"mlflow_url": "http://mlflow:5000"}, "missing key.*lms_url"),
        (minimal_values(profiles={"cpu_limit": 2}), r"profiles: unknown key"),
        (minimal_values(courses=[{"course_id": "c1"}]), r"courses\[0\]: missing key.*url"),
        (minimal_values(courses=[{"course_id": "c1", "url": "formgrader:8888"}]), "http"),
        (minimal_values(sso={"client_id": "x", "client_secret": "y"}), "sso: missing key"),
    ],
)
def test_bad_values_get_a_clear_error(values, message):
    with pytest.raises(ValueError, match=message):
        k8s.configure_kubernetes(with_lms_token(), values, environ={})


def test_write_image_jupyter_config_points_nbgrader_at_the_exchange(tmp_path):
    k8s.write_image_jupyter_config(str(tmp_path))

    nbgrader_config = (tmp_path / "nbgrader_config.py").read_text()
    assert f"c.Exchange.root = {SANDBOX_EXCHANGE!r}" in nbgrader_config
    assert (tmp_path / "jupyter_server_config.json").is_file()


# --- the chart values ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(K8S.glob("*.yaml")), ids=lambda p: p.name)
def test_every_yaml_file_parses(path):
    documents = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    assert documents, f"{path.name} is empty"
    for document in documents:
        assert isinstance(document, dict)


def test_manifests_are_kubernetes_objects_in_one_namespace():
    for obj in manifest_objects():
        assert {"apiVersion", "kind", "metadata"} <= set(obj), obj
        assert obj["metadata"]["namespace"] == "practicum", obj["metadata"]


def test_extra_config_only_calls_functions_that_exist():
    snippets = load_values()["hub"]["extraConfig"]
    assert snippets, "hub.extraConfig is empty"
    for name, source in snippets.items():
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("practicum"):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    assert hasattr(module, alias.name), f"extraConfig {name}: {node.module}.{alias.name}"
        assert all(isinstance(n, (ast.Import, ast.ImportFrom, ast.Expr)) for n in tree.body), (
            "extraConfig snippets only import and call"
        )


def test_extra_config_runs_as_the_chart_runs_it(monkeypatch):
    """hub.extraConfig is exec'd with `c` after the chart's own settings, with z2jh importable."""
    values = load_values()
    z2jh = types.ModuleType("z2jh")

    def get_config(key: str, default: Any = None) -> Any:
        node: Any = values
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return copy.deepcopy(node)

    z2jh.get_config = get_config  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "z2jh", z2jh)
    monkeypatch.setenv(k8s.SSO_CLIENT_SECRET_ENV, "from-the-secret")
    c = config_as_chart_leaves_it(values)

    for source in values["hub"]["extraConfig"].values():
        exec(source, {"c": c})

    assert callable(c.KubeSpawner.profile_list)
    assert c.JupyterHub.authenticator_class == "generic-oauth"
    assert c.GenericOAuthenticator.client_secret == "from-the-secret"
    assert c.KubeSpawner.environment["MLFLOW_TRACKING_URI"] == practicum_values()["mlflow_gateway_url"] + MLFLOW_PREFIX
    assert c.KubeSpawner.environment[services.GRADING_URL_ENV] == practicum_values()["grading_url"] + services.GRADING_PREFIX
    names = {s["name"] for s in c.JupyterHub.services}
    assert {services.LMS_SERVICE, services.GRADING_SERVICE} <= names
    assert {f"formgrader-{course['course_id']}" for course in practicum_values()["courses"]} <= names
    assert callable(c.KubeSpawner.pre_spawn_hook)
    assert k8s.INBOUNDS_INIT_CONTAINER in {i["name"] for i in c.KubeSpawner.init_containers}


def test_every_external_service_has_a_chart_token():
    """configure_kubernetes refuses external services the chart gave no token."""
    values = load_values()
    c = config_as_chart_leaves_it(values)

    k8s.configure_kubernetes(c, practicum_values(), environ={"OAUTH_CLIENT_SECRET": "x"})

    external = {s["name"] for s in c.JupyterHub.services if s.get("url") and not s.get("command")}
    assert external <= set(values["hub"]["services"])


def test_hub_database_is_postgres_and_upgraded():
    db = load_values()["hub"]["db"]

    assert db["type"] == "postgres"
    assert db["url"].startswith("postgresql://")
    assert ":" not in urlsplit(db["url"]).netloc.split("@")[0], "no password in hub.db.url"
    assert db["upgrade"] is True
    password = load_values()["hub"]["extraEnv"]["PGPASSWORD"]
    assert "secretKeyRef" in password["valueFrom"]


def test_singleuser_volume_mounts_name_declared_volumes():
    storage = load_values()["singleuser"]["storage"]
    volumes = {v["name"]: v for v in storage["extraVolumes"]}
    mounts = {m["mountPath"]: m for m in storage["extraVolumeMounts"]}

    for mount in mounts.values():
        assert mount["name"] in volumes, f"volumeMount {mount['name']} has no extraVolume"
    datasets = mounts[SANDBOX_DATASETS]
    assert datasets["readOnly"] is True
    assert volumes[datasets["name"]]["persistentVolumeClaim"]["readOnly"] is True
    # The exchange is configure_kubernetes's (each pod its own part), never a chart volume.
    assert SANDBOX_EXCHANGE not in mounts
    claims = {v.get("persistentVolumeClaim", {}).get("claimName") for v in volumes.values()}
    assert not claims & {practicum_values()["exchange_claim"], practicum_values()["inbound_claim"]}


def test_user_pods_of_the_chart_mount_every_volume_they_name():
    values = load_values()
    c = config_as_chart_leaves_it(values)

    k8s.configure_kubernetes(c, practicum_values(), environ={"OAUTH_CLIENT_SECRET": "x"})

    pod = render_user_pod(c, "ada")
    assert mount_at(pod, "/home/jovyan")["volume"]["persistentVolumeClaim"]["claimName"] == "claim-ada"
    assert mount_at(pod, SANDBOX_DATASETS)["read_only"]
    for course in practicum_values()["courses"]:
        inbound = mount_at(pod, f"{SANDBOX_EXCHANGE}/{course['course_id']}/inbound")
        assert claim_of(inbound) == practicum_values()["inbound_claim"]
        assert inbound["sub_path"] == learner_inbound("", course["course_id"], "ada")
    # The chart's own init container (the cloud metadata blocker) is kept.
    assert {"block-cloud-metadata", k8s.INBOUNDS_INIT_CONTAINER} <= set(pod)


def test_manifest_volume_mounts_name_pod_volumes():
    for template in pod_templates():
        declared = {v["name"] for v in template["spec"].get("volumes", [])}
        for container in template["spec"]["containers"] + template["spec"].get("initContainers", []):
            for mount in container.get("volumeMounts", []):
                assert mount["name"] in declared, f"{container['name']}: volume {mount['name']} not declared"


def test_urls_in_custom_practicum_name_services_of_the_manifests():
    values = practicum_values()
    urls = [values["lms_url"], values["mlflow_url"], values["mlflow_gateway_url"], values["grading_url"]]
    urls += [c["url"] for c in values["courses"]]

    for url in urls:
        svc = service_for_url(url)
        ports = {p["port"]: p.get("targetPort", p["port"]) for p in svc["spec"]["ports"]}
        assert urlsplit(url).port in ports, f"{url}: its Service has ports {list(ports)}"
        backends = [t for t in pod_templates() if matches(svc["spec"]["selector"], t["metadata"]["labels"])]
        assert backends, f"Service {svc['metadata']['name']} selects no Deployment's pods"
        assert all(ports[urlsplit(url).port] in container_ports(t) for t in backends)


def test_sandbox_egress_is_dns_the_hub_the_mlflow_gateway_and_the_grading_intake_as_in_the_local_sandbox():
    policy = load_values()["singleuser"]["networkPolicy"]
    rules = policy["egressAllowRules"]

    assert policy["enabled"] is True
    assert rules["nonPrivateIPs"] is False, "sandboxes must not reach the internet"
    assert rules["privateIPs"] is False
    assert rules["cloudMetadataServer"] is False
    values = practicum_values()
    allowed: set[tuple[str, int]] = set()
    for rule in policy["egress"]:
        ports = {p["port"] for p in rule["ports"]}
        for peer in rule["to"]:
            selector = peer["podSelector"]["matchLabels"]
            targets = [t for t in pod_templates() if matches(selector, t["metadata"]["labels"])]
            assert targets, f"egress rule {selector} matches no pod of {MANIFESTS}"
            for template in targets:
                assert ports <= container_ports(template), f"egress ports {ports} not served by {selector}"
                allowed |= {(template["metadata"]["labels"]["app.kubernetes.io/name"], p) for p in ports}
    def backend(url: str) -> tuple[str, int]:
        svc = service_for_url(url)
        target_port = next(
            p.get("targetPort", p["port"]) for p in svc["spec"]["ports"] if p["port"] == urlsplit(url).port
        )
        return svc["spec"]["selector"]["app.kubernetes.io/name"], target_port

    assert backend(values["mlflow_gateway_url"]) in allowed, "no egress to the MLflow gateway"
    assert backend(values["grading_url"]) in allowed, "no egress to the grading service (practicum submit)"
    # MLflow itself only through the gateway, which signs the learner in as themselves; the LMS not at all.
    assert backend(values["mlflow_url"]) not in allowed and backend(values["lms_url"]) not in allowed
    # The same allow list as a local sandbox's bridge: the hub API (the chart's own rule), the gateway and
    # the grading service's intake.
    pods_of = {"hub-api": "hub (the chart's singleuser policy)", "mlflow": "mlflow-gateway", "grading": "grading"}
    assert set(pods_of) == set(ALLOWED_EGRESS)
    assert {app for app, _ in allowed} == {pods_of["mlflow"], pods_of["grading"]}
    # The workers, which hold the hidden split and run as root outside their sandboxes, are no one's target.
    (worker,) = pods_named("grading-worker")
    for rule in policy["egress"]:
        for peer in rule["to"]:
            assert not matches(peer["podSelector"]["matchLabels"], worker["metadata"]["labels"]), "learners reach a grading worker"


def test_services_read_the_token_the_chart_generated_for_them():
    hub_services = set(load_values()["hub"]["services"])
    containers = hub_service_containers()
    assert len(containers) == len(hub_services)
    # Each hub service of the chart runs in exactly one pod of the manifests (grading included).
    assert sorted(env_of(c)["JUPYTERHUB_SERVICE_NAME"] for c in containers) == sorted(hub_services)
    assert services.GRADING_SERVICE in hub_services

    for container in containers:
        env = env_of(container)
        name = env["JUPYTERHUB_SERVICE_NAME"]
        assert name in hub_services
        token = env["JUPYTERHUB_API_TOKEN"]["secretKeyRef"]
        assert token == {"name": "hub", "key": f"hub.services.{name}.apiToken"}
        assert env["JUPYTERHUB_CLIENT_ID"] == f"service-{name}"
        assert env["JUPYTERHUB_SERVICE_PREFIX"] == f"/services/{name}/"
        assert env["JUPYTERHUB_OAUTH_CALLBACK_URL"] == f"/services/{name}/oauth_callback"
        listen_port = urlsplit(env["JUPYTERHUB_SERVICE_URL"]).port
        assert any(listen_port == p["containerPort"] for p in container["ports"])


def test_hub_service_pods_may_reach_the_hub_api():
    for template in pod_templates():
        if any("JUPYTERHUB_SERVICE_NAME" in env_of(c) for c in template["spec"]["containers"]):
            assert template["metadata"]["labels"].get("hub.jupyter.org/network-access-hub") == "true"


def test_lms_runs_the_lms_module():
    (lms,) = [
        c for c in hub_service_containers() if env_of(c)["JUPYTERHUB_SERVICE_NAME"] == services.LMS_SERVICE
    ]

    assert lms["command"] == ["python", "-m", "practicum.lms_api"]
    assert importlib.util.find_spec("practicum.lms_api.__main__") is not None


def test_the_mlflow_gateway_is_an_external_service_every_user_and_server_token_may_use():
    c = with_lms_token()

    k8s.configure_kubernetes(c, minimal_values())

    gateway = service(c, services.MLFLOW_GATEWAY_SERVICE)
    assert gateway["url"] == minimal_values()["mlflow_gateway_url"]
    assert "command" not in gateway
    assert gateway["api_token"] == "generated-mlflow"
    assert gateway["display"] is True
    access = f"access:services!service={services.MLFLOW_GATEWAY_SERVICE}"
    assert access in role(c, "user")["scopes"]
    assert access in c.Spawner.server_token_scopes


def mlflow_container() -> dict[str, Any]:
    (template,) = pods_named("mlflow")
    (container,) = template["spec"]["containers"]
    return container


def gateway_container() -> dict[str, Any]:
    (container,) = [
        c for c in hub_service_containers() if env_of(c)["JUPYTERHUB_SERVICE_NAME"] == services.MLFLOW_GATEWAY_SERVICE
    ]
    return container


def test_mlflow_runs_its_basic_auth_app_where_nobody_sees_what_they_were_not_granted():
    import configparser

    container = mlflow_container()
    args, env = container["args"], env_of(container)
    (template,) = pods_named("mlflow")

    assert "--app-name=basic-auth" in args
    assert f"--static-prefix={MLFLOW_PREFIX}" in args
    config_path = Path(env["MLFLOW_AUTH_CONFIG_PATH"])
    mount = next(m for m in container["volumeMounts"] if config_path.is_relative_to(m["mountPath"]))
    volume = next(v for v in template["spec"]["volumes"] if v["name"] == mount["name"])
    (config_map,) = [o for o in objects_of_kind("ConfigMap") if o["metadata"]["name"] == volume["configMap"]["name"]]
    ini = configparser.ConfigParser()
    ini.read_string(config_map["data"][config_path.name])
    assert ini["mlflow"]["default_permission"] == "NO_PERMISSIONS"
    assert ini["mlflow"]["admin_username"] == MLFLOW_ADMIN_USERNAME
    assert "admin_password" not in ini["mlflow"], "passwords come from Secrets, not a ConfigMap"
    assert ":" not in urlsplit(ini["mlflow"]["database_uri"]).netloc.split("@")[0], "no password in the auth DB URI"
    for name in ("MLFLOW_AUTH_ADMIN_PASSWORD", "MLFLOW_FLASK_SERVER_SECRET_KEY", "PGPASSWORD"):
        assert "secretKeyRef" in env[name], name
    # /health is the one route the auth app leaves open, below the static prefix.
    assert container["readinessProbe"]["httpGet"]["path"] == f"{MLFLOW_PREFIX}/health"


def test_the_gateway_runs_practicum_tracking_against_mlflow_as_its_admin():
    from practicum.tracking.settings import GatewaySettings

    container = gateway_container()
    env = env_of(container)

    assert container["command"] == ["python", "-m", "practicum.tracking"]
    assert importlib.util.find_spec("practicum.tracking.__main__") is not None
    assert env["PRACTICUM_TRACKING_UPSTREAM"] == practicum_values()["mlflow_url"]
    assert env["MLFLOW_TRACKING_USERNAME"] == MLFLOW_ADMIN_USERNAME
    assert env["MLFLOW_TRACKING_PASSWORD"] == env_of(mlflow_container())["MLFLOW_AUTH_ADMIN_PASSWORD"]
    assert f"access:services!service={services.MLFLOW_GATEWAY_SERVICE}" in json.loads(env["JUPYTERHUB_OAUTH_ACCESS_SCOPES"])
    # The settings it reads from that environment are consistent (MLflow's prefix is the service's).
    plain = {k: v for k, v in env.items() if isinstance(v, str)}
    settings = GatewaySettings.from_env({**plain, "MLFLOW_TRACKING_PASSWORD": "from-the-secret"})
    assert settings.listen[1] in container_ports(pods_named("mlflow-gateway")[0])


def test_mlflow_keeps_runs_in_postgres_and_artifacts_in_s3():
    (template,) = pods_named("mlflow")
    (container,) = template["spec"]["containers"]
    args = container["args"]

    assert any(a.startswith("--artifacts-destination=s3://") for a in args)
    assert "--serve-artifacts" in args
    assert "secretKeyRef" in env_of(container)["MLFLOW_BACKEND_STORE_URI"]
    allowed_hosts = next(a.split("=", 1)[1] for a in args if a.startswith("--allowed-hosts=")).split(",")
    header = host_header(practicum_values()["mlflow_url"])
    assert any(fnmatch.fnmatch(header, h) if "*" in h else header == h for h in allowed_hosts), (
        f"MLflow would reject Host {header}"
    )


# --- nbgrader's exchange: user pods -----------------------------------------------------------------


def test_each_learner_pod_mounts_its_own_inbound_and_nobody_elses():
    c = two_course_config()
    ada, bob = render_user_pod(c, "ada"), render_user_pod(c, "bob")

    for course in ("c1", "c2"):
        path = f"{SANDBOX_EXCHANGE}/{course}/inbound"
        mine, theirs = mount_at(ada, path), mount_at(bob, path)
        assert claim_of(mine) == claim_of(theirs) == k8s.INBOUND_CLAIM
        assert not mine["read_only"] and not theirs["read_only"]
        assert mine["sub_path"] == learner_inbound("", course, "ada") == f"{course}/ada"
        assert theirs["sub_path"] == learner_inbound("", course, "bob") == f"{course}/bob"
    for user, pod in (("ada", ada), ("bob", bob)):
        inbound_mounts = [m for m in pod["notebook"]["mounts"] if claim_of(m) == k8s.INBOUND_CLAIM]
        assert [m["sub_path"].split("/") for m in inbound_mounts] == [["c1", user], ["c2", user]]


def test_a_learner_pod_sees_released_assignments_and_feedback_read_only_and_no_whole_volume():
    pod = render_user_pod(two_course_config(), "ada")
    mounts = pod["notebook"]["mounts"]

    root = mount_at(pod, SANDBOX_EXCHANGE)
    assert root["volume"]["emptyDir"] == {"medium": "Memory", "sizeLimit": "1024Ki"}  # sandbox.EXCHANGE_VIEW_BYTES
    for course in ("c1", "c2"):
        for part in ("outbound", "feedback"):
            mount = mount_at(pod, f"{SANDBOX_EXCHANGE}/{course}/{part}")
            assert claim_of(mount) == k8s.EXCHANGE_CLAIM
            assert mount["sub_path"] == f"{course}/{part}"
            assert mount["read_only"]
    exchange = [m for m in mounts if claim_of(m) == k8s.EXCHANGE_CLAIM]
    assert exchange and all(m["read_only"] for m in exchange), "the exchange volume is read-only in user pods"
    assert all(m["volume"]["persistentVolumeClaim"]["readOnly"] for m in exchange)
    for mount in mounts:
        if claim_of(mount) in (k8s.EXCHANGE_CLAIM, k8s.INBOUND_CLAIM):
            assert mount["sub_path"], f"{mount['path']} mounts a whole exchange volume"
    # Nothing else of the exchange: only the private root and, per course, outbound, feedback, inbound.
    under_exchange = sorted(m["path"] for m in mounts if m["path"].startswith(SANDBOX_EXCHANGE))
    assert under_exchange == sorted(
        [SANDBOX_EXCHANGE] + [f"{SANDBOX_EXCHANGE}/{c}/{p}" for c in ("c1", "c2") for p in ("outbound", "feedback", "inbound")]
    )


@pytest.mark.parametrize("name", ["ada-", "ada--", "ada.lovelace", "ada_lovelace", "ada@example.org", "Ada"])
def test_the_inbound_is_named_by_the_hub_user_name_exactly(name):
    """The collector checks each submission's name (nbgrader's JUPYTERHUB_USER) against its folder's:
    KubeSpawner's {username} is a DNS-safe slug ("ada-lovelace---1a2b3c4d") and its expansion strips a
    trailing '-' ("ada-" would mount ada's inbound), so the kubelet expands $(JUPYTERHUB_USER) instead."""
    pod = render_user_pod(two_course_config(), name)

    assert mount_at(pod, f"{SANDBOX_EXCHANGE}/c1/inbound")["sub_path"] == f"c1/{name}"
    assert pod["notebook"]["env"]["JUPYTERHUB_USER"] == name
    assert name in pod[k8s.INBOUNDS_INIT_CONTAINER]["command"]


def test_nothing_of_the_exchange_goes_through_kubespawner_templates():
    """KubeSpawner str.formats every string of volumes, mounts and init containers."""
    exchange = k8s.learner_exchange(["c1"], image="image:1")

    def strings(value: Any) -> list[str]:
        if isinstance(value, dict):
            return [s for k, v in value.items() for s in (k, *strings(v))]
        if isinstance(value, list):
            return [s for v in value for s in strings(v)]
        return [value] if isinstance(value, str) else []

    texts = strings([exchange.volumes, exchange.volume_mounts, exchange.init_container])
    assert texts and not [t for t in texts if "{" in t or "}" in t]


def test_the_init_container_makes_the_learners_folder_that_their_container_mounts(tmp_path):
    c = two_course_config()
    roots = {k8s.EXCHANGE_CLAIM: tmp_path / "exchange", k8s.INBOUND_CLAIM: tmp_path / "inbound"}
    for course in ("c1", "c2"):  # what each course's formgrader does when it starts
        assert k8s.main(["prepare-course", "--exchange", str(roots[k8s.EXCHANGE_CLAIM]),
                         "--inbounds", str(roots[k8s.INBOUND_CLAIM]), course]) == 0

    for user in ("ada", "bob"):
        pod = render_user_pod(c, user)
        assert run_init_container(pod[k8s.INBOUNDS_INIT_CONTAINER], roots) == 0
        for course in ("c1", "c2"):
            folder = roots[k8s.INBOUND_CLAIM] / mount_at(pod, f"{SANDBOX_EXCHANGE}/{course}/inbound")["sub_path"]
            assert folder.is_dir() and folder.stat().st_uid == os.getuid() and os.access(folder, os.W_OK)
    assert sorted(p.name for p in (roots[k8s.INBOUND_CLAIM] / "c1").iterdir()) == ["ada", "bob"]


def test_the_init_container_waits_for_the_courses_formgrader(tmp_path, capsys):
    pod = render_user_pod(two_course_config(), "ada")
    roots = {k8s.EXCHANGE_CLAIM: tmp_path / "exchange", k8s.INBOUND_CLAIM: tmp_path / "inbound"}

    assert run_init_container(pod[k8s.INBOUNDS_INIT_CONTAINER], roots) == 1
    assert "formgrader" in capsys.readouterr().err
    assert not (roots[k8s.INBOUND_CLAIM] / "c1" / "ada").exists()


def test_the_init_container_refuses_a_folder_the_learner_could_not_write(tmp_path, capsys):
    exchange, inbounds = tmp_path / "exchange", tmp_path / "inbound"
    k8s.prepare_course_exchange(exchange, inbounds, "c1")
    (inbounds / "c1" / "elsewhere").mkdir()
    (inbounds / "c1" / "ada").symlink_to(inbounds / "c1" / "elsewhere")

    assert k8s.main(["prepare-learner", "--exchange", str(exchange), "--inbounds", str(inbounds), "--learner", "ada", "c1"]) == 1
    assert "not a folder" in capsys.readouterr().err


def test_the_init_container_is_unprivileged_and_sees_the_exchange_read_only():
    pod = render_user_pod(two_course_config(), "ada")
    init = pod[k8s.INBOUNDS_INIT_CONTAINER]

    security = init["container"]["securityContext"]
    # The chart's singleuser.uid and fsGid (its defaults, 1000 and 100): the learner's own uid.
    assert (security["runAsUser"], security["runAsGroup"]) == (k8s.POD_UID, k8s.POD_GID) == (1000, 100)
    assert "uid" not in load_values()["singleuser"] and "fsGid" not in load_values()["singleuser"]
    assert security["runAsNonRoot"] is True and security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert init["container"]["image"] == "registry.example.org/practicum/singleuser:test"
    (exchange,) = [m for m in init["mounts"] if claim_of(m) == k8s.EXCHANGE_CLAIM]
    assert exchange["read_only"]


@pytest.mark.parametrize("name", [".", "..", "", "ada lovelace", "{pod_name}", "$(HOME)", "a" * 129, "ada\n"])
def test_a_name_that_cannot_be_an_inbound_folder_is_refused_before_the_pod(name):
    hook = two_course_config().KubeSpawner.pre_spawn_hook

    with pytest.raises(ValueError, match="inbound"):
        hook(SimpleNamespace(user=SimpleNamespace(name=name)))


def test_the_name_check_keeps_the_charts_pre_spawn_hook():
    seen = []
    c = with_lms_token()
    c.JupyterHub.services.append({"name": "formgrader-c1", "api_token": "t"})
    c.Spawner.pre_spawn_hook = lambda spawner: seen.append(spawner.user.name)

    k8s.configure_kubernetes(c, minimal_values(courses=[{"course_id": "c1", "url": "http://formgrader-c1.practicum.svc:8888"}]))

    c.KubeSpawner.pre_spawn_hook(SimpleNamespace(user=SimpleNamespace(name="ada")))
    assert seen == ["ada"]


def test_the_inbound_names_are_those_the_collector_collects():
    from practicum.graders import exchange

    assert exchange.LEARNER_NAME is contracts_exchange.LEARNER_NAME  # one rule, shared
    for name in (".", "..", "ada+lovelace", "a/b", ""):
        with pytest.raises(ValueError):
            contracts_exchange.inbound_name(name)


def test_without_courses_a_pod_gets_only_its_private_exchange_root():
    c = with_lms_token()

    k8s.configure_kubernetes(c, minimal_values())

    pod = render_user_pod(c, "ada")
    assert [m["path"] for m in pod["notebook"]["mounts"]] == [SANDBOX_EXCHANGE]
    assert "emptyDir" in mount_at(pod, SANDBOX_EXCHANGE)["volume"]
    assert set(pod) == {"notebook"}


@pytest.mark.parametrize(
    ("chart", "message"),
    [
        ({"volumes": {"x": {"name": "x", "persistentVolumeClaim": {"claimName": k8s.EXCHANGE_CLAIM}}}}, "extraVolumes"),
        ({"volumes": [{"name": "x", "persistentVolumeClaim": {"claimName": k8s.INBOUND_CLAIM}}]}, "extraVolumes"),
        ({"volume_mounts": {"0-x": {"name": "x", "mountPath": "/srv/nbgrader/exchange/"}}}, "extraVolumeMounts"),
        ({"volume_mounts": [{"name": "x", "mountPath": "/srv/nbgrader"}]}, "extraVolumeMounts"),
        ({"environment": {"JUPYTERHUB_USER": "someone"}}, "extraEnv"),
        ({"extra_annotations": {k8s.USERNAME_ANNOTATION: "someone"}}, "extraAnnotations"),
    ],
)
def test_the_chart_may_not_mount_the_exchange_or_rename_the_learner(chart, message):
    """The old shared exchange (one volume at /srv/nbgrader/exchange in every pod) is refused."""
    c = with_lms_token()
    for name, value in chart.items():
        c.KubeSpawner[name] = value

    with pytest.raises(ValueError, match=message):
        k8s.configure_kubernetes(c, minimal_values())


def test_courses_need_the_singleuser_image_for_the_init_container():
    c = with_lms_token()
    del c.KubeSpawner["image"]
    c.JupyterHub.services.append({"name": "formgrader-c1", "api_token": "t"})

    with pytest.raises(ValueError, match="singleuser.image"):
        k8s.configure_kubernetes(c, minimal_values(courses=[{"course_id": "c1", "url": "http://formgrader-c1.practicum.svc:8888"}]))


def test_chart_courses_are_courses_of_the_catalog():
    from practicum.lab.courses import load_catalog

    catalog = {course.course_id for course in load_catalog(REPO / "courses")}
    assert {course["course_id"] for course in practicum_values()["courses"]} <= catalog


# --- nbgrader's exchange: formgraders ---------------------------------------------------------------


def formgrader_template() -> dict[str, Any]:
    (template,) = pods_named("formgrader")
    return template


def formgrader_nbgrader_config() -> Config:
    (config_map,) = [o for o in objects_of_kind("ConfigMap") if o["metadata"]["name"].startswith("formgrader-")]
    c = Config()
    exec(config_map["data"]["nbgrader_config.py"], {"get_config": lambda: c})
    return c


def formgrader_pod() -> dict[str, Any]:
    spec = formgrader_template()["spec"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    pod = {}
    for container in spec["containers"] + spec.get("initContainers", []):
        env = {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}
        pod[container["name"]] = {
            "container": container,
            "env": env,
            "command": container.get("command", []),
            "mounts": resolved_mounts(container.get("volumeMounts", []), volumes, env),
        }
    return pod


def test_formgrader_collects_each_learners_own_inbound_and_grades_in_the_sandboxed_kernel():
    from practicum.graders.sandboxed_kernel import KERNEL_NAME
    from practicum.lab.courses import COLLECTOR, course_nbgrader_config

    config = formgrader_nbgrader_config()
    course = config.CourseDirectory.course_id

    assert config.ExchangeFactory.collect == COLLECTOR
    assert config.Execute.kernel_name == KERNEL_NAME
    # The local lab's course configuration says the same.
    local = Config()
    local_config = course_nbgrader_config(course, Path("/x/exchange"), Path("/x/inbound"))
    exec(local_config, {"get_config": lambda: local, "__file__": "/x/course/nbgrader_config.py"})
    for section, key in (("ExchangeFactory", "collect"), ("Execute", "kernel_name"), ("Exchange", "path_includes_course")):
        assert config[section][key] == local[section][key], f"{section}.{key}"
    assert Path(local.PrivateInboundCollect.inbounds_root) == Path(course_inbounds("/x/inbound", course))
    # Its inbounds_root is the course's folder of the inbound volume, read-only.
    pod = formgrader_pod()
    inbounds = mount_at(pod, config.PrivateInboundCollect.inbounds_root, container="formgrader")
    assert claim_of(inbounds) == practicum_values()["inbound_claim"]
    assert inbounds["sub_path"] == course_inbounds("", course)
    assert inbounds["read_only"]


def test_formgrader_writes_its_course_of_the_exchange_and_nothing_else():
    config = formgrader_nbgrader_config()
    course = config.CourseDirectory.course_id
    pod = formgrader_pod()
    mounts = pod["formgrader"]["mounts"]

    assert "emptyDir" in mount_at(pod, config.Exchange.root, container="formgrader")["volume"]
    mine = mount_at(pod, f"{config.Exchange.root}/{course}", container="formgrader")
    assert claim_of(mine) == practicum_values()["exchange_claim"]
    assert mine["sub_path"] == course and not mine["read_only"]
    for mount in mounts:
        if claim_of(mount) in (practicum_values()["exchange_claim"], practicum_values()["inbound_claim"]):
            assert mount["sub_path"] == course, f"{mount['path']}: another course's, or the whole volume"
    assert mount_at(pod, config.CourseDirectory.root, container="formgrader")["volume"]["persistentVolumeClaim"]["claimName"].endswith(
        course.replace("_", "-")
    )


def test_formgrader_refuses_to_run_the_grading_kernel(monkeypatch, capsys):
    from practicum.graders import sandboxed_kernel
    from practicum.sandbox.command import IN_SANDBOX

    env = formgrader_pod()["formgrader"]["env"]
    assert env[IN_SANDBOX] == "1"
    assert env["JUPYTER_PATH"] == k8s.IMAGE_GRADING_KERNELS_DIR
    monkeypatch.setenv(IN_SANDBOX, env[IN_SANDBOX])

    assert sandboxed_kernel.main(["-f", "connection.json"]) == 1
    assert "practicum autograde" in capsys.readouterr().err


def test_formgrader_init_container_prepares_its_course_before_learners_mount_it(tmp_path):
    course = formgrader_nbgrader_config().CourseDirectory.course_id
    pod = formgrader_pod()
    (init_name,) = [n for n in pod if n != "formgrader"]
    init = pod[init_name]
    roots = {practicum_values()["exchange_claim"]: tmp_path / "exchange", practicum_values()["inbound_claim"]: tmp_path / "inbound"}

    assert {claim_of(m) for m in init["mounts"]} == set(roots)
    assert init["container"]["image"] == formgrader_template()["spec"]["containers"][0]["image"]
    assert init["container"]["securityContext"]["allowPrivilegeEscalation"] is False
    assert formgrader_template()["spec"]["securityContext"]["runAsUser"] == k8s.POD_UID
    assert run_init_container(init, roots) == 0
    for folder in (f"exchange/{course}/outbound", f"exchange/{course}/feedback", f"inbound/{course}"):
        assert (tmp_path / folder).is_dir()
    # A learner's pod can start now.
    assert k8s.prepare_learner_inbounds(tmp_path / "exchange", tmp_path / "inbound", [course], "ada") == [
        tmp_path / "inbound" / learner_inbound("", course, "ada")
    ]


def test_formgrader_and_user_pods_name_the_same_claims():
    assert practicum_values()["exchange_claim"] == k8s.EXCHANGE_CLAIM
    assert practicum_values()["inbound_claim"] == k8s.INBOUND_CLAIM
    claims = {v["persistentVolumeClaim"]["claimName"] for v in formgrader_template()["spec"]["volumes"] if "persistentVolumeClaim" in v}
    assert {k8s.EXCHANGE_CLAIM, k8s.INBOUND_CLAIM} <= claims


def test_grading_kernelspec_is_written_off_jupyters_default_paths(tmp_path, monkeypatch):
    from jupyter_core.paths import jupyter_path

    from practicum.graders.sandboxed_kernel import KERNEL_NAME, write_kernelspec

    dockerfile = (K8S / "Dockerfile.singleuser").read_text()
    assert f"write_kernelspec(Path('{k8s.IMAGE_GRADING_KERNELS_DIR}'))" in dockerfile, "the image installs the grading kernelspec"
    spec = write_kernelspec(tmp_path)

    assert json.loads((spec / "kernel.json").read_text())["argv"][1:3] == ["-m", "practicum.graders.sandboxed_kernel"]
    assert spec == tmp_path / "kernels" / KERNEL_NAME
    monkeypatch.delenv("JUPYTER_PATH", raising=False)
    assert k8s.IMAGE_GRADING_KERNELS_DIR not in jupyter_path(), "learner pods would see the grading kernel"


# --- Dockerfiles -----------------------------------------------------------------------------------


DOCKERFILES = sorted(p.name for p in K8S.glob("Dockerfile.*") if p.suffix != ".dockerignore")


@pytest.mark.parametrize("name", DOCKERFILES)
def test_dockerfile_copies_only_files_that_exist(name):
    for source in copy_sources(K8S / name):
        assert (REPO / source).exists(), f"{name}: COPY {source} does not exist in the repository"


@pytest.mark.parametrize("name", DOCKERFILES_OF_THE_PACKAGE)
def test_dockerfile_copies_every_room_of_the_package(name):
    copied = {Path(s).parts[0] for s in copy_sources(K8S / name)}

    assert "pyproject.toml" in copied
    assert "practicum" in copied
    missing = rooms_linked_into_practicum() - copied
    assert not missing, f"{name} does not copy {sorted(missing)}, which practicum/ links to"


@pytest.mark.parametrize("name", DOCKERFILES_OF_THE_PACKAGE)
def test_dockerignore_lets_the_copied_files_in(name):
    ignore = (K8S / f"{name}.dockerignore").read_text().split()
    for source in copy_sources(K8S / name):
        assert f"!{source}" in ignore, f"{name}.dockerignore keeps {source} out of the build context"


def test_the_learners_image_leaves_the_reference_solutions_out():
    lines = (K8S / "Dockerfile.singleuser.dockerignore").read_text().splitlines()
    assert lines.index("projects/*/reference.py") > lines.index("!projects/"), "a later line wins in .dockerignore"


def test_the_package_builds_from_what_the_dockerfiles_copy(tmp_path):
    pytest.importorskip("setuptools")
    sources = set(copy_sources(K8S / "Dockerfile.singleuser")) | set(copy_sources(K8S / "Dockerfile.hub"))
    context = tmp_path / "context"
    for source in sources:
        target = context / source
        target.parent.mkdir(parents=True, exist_ok=True)
        if (REPO / source).is_dir():
            no_caches = shutil.ignore_patterns("__pycache__")
            shutil.copytree(REPO / source, target, symlinks=True, ignore=no_caches)
        else:
            shutil.copy2(REPO / source, target)

    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    result = subprocess.run(
        [*pip_wheel, "-w", str(tmp_path / "dist"), "."],
        cwd=context,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr
    (wheel,) = (tmp_path / "dist").glob("practicum-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "practicum/hub_config/kubernetes.py" in names
    assert "practicum/lms_api/__init__.py" in names


def test_singleuser_image_installs_the_pinned_torch_first():
    path = K8S / "Dockerfile.singleuser"
    instructions = dockerfile_instructions(path)
    runs = [args for instruction, args in instructions if instruction == "RUN"]
    torch_step = next(i for i, run in enumerate(runs) if "torch==${TORCH_VERSION}" in run)
    package_step = next(i for i, run in enumerate(runs) if re.search(r"pip install .*\s\.(\s|$)", run))

    assert pyproject_pin("torch") == f"torch=={dockerfile_arg(path, 'TORCH_VERSION')}"
    assert dockerfile_arg(path, "TORCH_INDEX_URL") == "https://download.pytorch.org/whl/cpu"
    assert "--index-url" in runs[torch_step]
    assert torch_step < package_step


def test_hub_image_leaves_out_the_ml_stack():
    path = K8S / "Dockerfile.hub"
    runs = [args for instruction, args in dockerfile_instructions(path) if instruction == "RUN"]
    (base,) = [args for instruction, args in dockerfile_instructions(path) if instruction == "FROM"]

    assert base == "quay.io/jupyterhub/k8s-hub:${K8S_HUB_VERSION}"
    assert any("pip install --no-cache-dir --no-deps ." in run for run in runs)
    assert not any(re.search(r"torch|monai|mlflow", run) for run in runs)


def test_hub_image_chart_and_docs_name_one_version():
    version = dockerfile_arg(K8S / "Dockerfile.hub", "K8S_HUB_VERSION")

    assert f"--version {version}" in (K8S / "README.md").read_text()
    assert f"--version {version}" in (K8S / "values.yaml").read_text()


def test_python_run_steps_import_what_exists():
    for path in (K8S / name for name in DOCKERFILES):
        for module, name in re.findall(r"from (practicum[\w.]*) import (\w+)", path.read_text()):
            assert hasattr(importlib.import_module(module), name), f"{path.name}: {module}.{name}"


def test_mlflow_server_speaks_the_clients_version():
    from packaging.requirements import Requirement

    version = dockerfile_arg(K8S / "Dockerfile.mlflow", "MLFLOW_VERSION")
    (template,) = pods_named("mlflow")

    assert Requirement(pyproject_pin("mlflow")).specifier.contains(version)
    assert template["spec"]["containers"][0]["image"].endswith(f":{version}")


def test_pods_that_run_the_package_use_the_singleuser_image():
    image = load_values()["singleuser"]["image"]
    expected = f"{image['name']}:{image['tag']}"

    for container in hub_service_containers():
        assert container["image"] == expected


# --- the grading service and its workers (k8s/grading.yaml) ------------------------------------------


HIDDEN_BUILD_CLAIM = "practicum-datasets-build"
GRADING_STATE_CLAIM = "practicum-grading-state"
# Beyond these, the worker has no capability; each is needed by the sandbox's outer stage or the grader.
WORKER_CAPABILITIES = {"SYS_ADMIN", "NET_ADMIN", "SETUID", "SETGID", "KILL", "CHOWN", "DAC_OVERRIDE", "FOWNER"}


def grading_container() -> dict[str, Any]:
    (container,) = [c for c in hub_service_containers() if env_of(c)["JUPYTERHUB_SERVICE_NAME"] == services.GRADING_SERVICE]
    return container


def worker_template() -> dict[str, Any]:
    (template,) = pods_named("grading-worker")
    return template


def worker_container() -> dict[str, Any]:
    (container,) = worker_template()["spec"]["containers"]
    return container


def plain_env(container: dict[str, Any], **secrets: str) -> dict[str, str]:
    """A container's environment with each Secret reference replaced by a stand-in value."""
    env = {}
    for name, value in env_of(container).items():
        env[name] = value if isinstance(value, str) else secrets.get(name, f"from-the-secret-{name}")
    return env


def mounts_of(template: dict[str, Any], container: dict[str, Any]) -> list[dict[str, Any]]:
    volumes = {v["name"]: v for v in template["spec"].get("volumes", [])}
    return resolved_mounts(container.get("volumeMounts", []), volumes, {})


def worker_policy() -> dict[str, Any]:
    (policy,) = [p for p in objects_of_kind("NetworkPolicy") if p["metadata"]["name"] == "grading-worker"]
    return policy


def test_grading_is_an_external_service_every_user_and_server_token_may_use():
    c = with_lms_token()

    k8s.configure_kubernetes(c, minimal_values())

    grading = service(c, services.GRADING_SERVICE)
    assert grading["url"] == minimal_values()["grading_url"]
    assert "command" not in grading
    assert grading["api_token"] == "generated-grading"
    access = f"access:services!service={services.GRADING_SERVICE}"
    assert access in role(c, "user")["scopes"]
    assert access in c.Spawner.server_token_scopes  # `practicum submit` sends the server's token


def test_grading_without_a_chart_token_is_refused():
    c = with_lms_token()
    c.JupyterHub.services = [s for s in c.JupyterHub.services if s["name"] != services.GRADING_SERVICE]

    with pytest.raises(ValueError, match="grading"):
        k8s.configure_kubernetes(c, minimal_values())


def test_sandboxes_submit_to_the_grading_service_as_local_sandboxes_do():
    c = with_lms_token()

    k8s.configure_kubernetes(c, minimal_values(grading_url="http://grading.practicum.svc.cluster.local:8092/"))

    url = c.KubeSpawner.environment[services.GRADING_URL_ENV]
    assert url == "http://grading.practicum.svc.cluster.local:8092/services/grading/"
    assert services.GRADING_URL_ENV == "PRACTICUM_GRADING_URL"


def test_the_grading_service_serves_the_intake_and_publishes_to_celery():
    from practicum.grading.settings import GradingSettings

    container = grading_container()
    template = pods_named("grading")[0]
    env = env_of(container)

    assert container["command"] == ["python", "-m", "practicum.grading", "serve"]
    assert importlib.util.find_spec("practicum.grading.__main__") is not None
    settings = GradingSettings.from_env(plain_env(container))
    assert settings.executor == "celery" and settings.workers == 0
    assert settings.service_prefix == services.GRADING_PREFIX
    assert settings.listen[1] == 8092 and 8092 in container_ports(template)
    assert container["readinessProbe"]["httpGet"]["path"] == f"{services.GRADING_PREFIX}health"
    for name in ("PRACTICUM_GRADING_DATABASE_URL", "PRACTICUM_GRADING_BROKER_URL", "PRACTICUM_GRADING_LMS_TOKEN"):
        assert "secretKeyRef" in env[name], f"{name} comes from a Secret"
    assert env["PRACTICUM_GRADING_LMS_URL"] == practicum_values()["lms_url"]
    assert settings.public_url.startswith("https://") and settings.public_url.endswith(services.GRADING_PREFIX)
    # Every learner reaches this pod: it runs as uid 1000, without capabilities or MLflow's admin password.
    assert template["spec"]["securityContext"]["runAsNonRoot"] is True
    assert template["spec"]["securityContext"]["runAsUser"] == k8s.POD_UID
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert "MLFLOW_TRACKING_PASSWORD" not in env
    assert template["spec"]["automountServiceAccountToken"] is False


def test_the_workers_run_celery_with_the_services_settings():
    from practicum.grading.settings import GradingSettings

    worker, service_container = worker_container(), grading_container()
    command = worker["command"]

    assert command[:4] == ["celery", "-A", "practicum.grading.celery_tasks", "worker"]
    assert importlib.util.find_spec("practicum.grading.celery_tasks") is not None
    assert int(command[command.index("--concurrency") + 1]) >= 1
    settings = GradingSettings.from_env(plain_env(worker))
    assert settings.executor == "celery" and settings.sandbox == "bubblewrap"
    shared = ("STATE_DIR", "DATABASE_URL", "BROKER_URL", "PROJECTS", "SANDBOX", "EXECUTOR", "PUBLIC_URL")
    for name in (f"PRACTICUM_GRADING_{n}" for n in shared):
        assert env_of(worker)[name] == env_of(service_container)[name], f"{name} differs between service and workers"
    # MLflow itself, as its admin (the grading experiment is the grader's alone).
    assert settings.tracking_uri == practicum_values()["mlflow_url"]
    assert env_of(worker)["MLFLOW_TRACKING_USERNAME"] == MLFLOW_ADMIN_USERNAME
    assert env_of(worker)["MLFLOW_TRACKING_PASSWORD"] == env_of(mlflow_container())["MLFLOW_AUTH_ADMIN_PASSWORD"]
    # Results go to the LMS from the service's outbox: the workers hold no LMS token.
    assert "PRACTICUM_GRADING_LMS_TOKEN" not in env_of(worker)


def test_service_and_workers_share_the_submission_store_and_read_the_projects_from_the_image():
    service_template, worker = pods_named("grading")[0], worker_template()
    for template in (service_template, worker):
        (container,) = template["spec"]["containers"]
        state = env_of(container)["PRACTICUM_GRADING_STATE_DIR"]
        (mount,) = [m for m in mounts_of(template, container) if m["path"] == state]
        assert claim_of(mount) == GRADING_STATE_CLAIM and not mount["read_only"]
        assert env_of(container)["PRACTICUM_GRADING_PROJECTS"] == "/srv/practicum/projects"
    copies = [args.split() for instruction, args in dockerfile_instructions(K8S / "Dockerfile.singleuser") if instruction == "COPY"]
    assert ["projects/", "/srv/practicum/projects/"] in copies


def test_only_the_workers_mount_the_hidden_split():
    worker = worker_template()
    (build,) = [m for m in mounts_of(worker, worker_container()) if claim_of(m) == HIDDEN_BUILD_CLAIM]
    assert build["read_only"] and build["path"] == env_of(worker_container())["PRACTICUM_GRADING_DATASETS"]
    for template in pod_templates():
        if template is not worker and template["metadata"]["labels"]["app.kubernetes.io/name"] != "grading-worker":
            claims = {(v.get("persistentVolumeClaim") or {}).get("claimName") for v in template["spec"].get("volumes", [])}
            assert HIDDEN_BUILD_CLAIM not in claims, template["metadata"]["labels"]
    # The service checks for a hidden split before it takes a submission: an empty folder stands for it.
    service_template = pods_named("grading")[0]
    datasets = env_of(grading_container())["PRACTICUM_GRADING_DATASETS"]
    (hidden,) = [m for m in mounts_of(service_template, grading_container()) if m["path"] == f"{datasets}/hidden"]
    assert "emptyDir" in hidden["volume"]
    # Learners' pods: the public splits only, never the build.
    c = config_as_chart_leaves_it(load_values())
    k8s.configure_kubernetes(c, practicum_values(), environ={"OAUTH_CLIENT_SECRET": "x"})
    pod = render_user_pod(c, "ada")
    user_claims = {claim_of(m) for container in pod.values() for m in container["mounts"]}
    assert HIDDEN_BUILD_CLAIM not in user_claims and GRADING_STATE_CLAIM not in user_claims


def test_the_worker_has_the_least_privilege_the_two_stage_sandbox_needs():
    from practicum.sandbox.identity import GRADING_UID

    spec, security = worker_template()["spec"], worker_container()["securityContext"]

    # Root outside the sandbox: the lab's two-stage bubblewrap (practicum.sandbox.command) is used as root only.
    assert security["runAsUser"] == 0 and security["runAsNonRoot"] is False
    assert security["privileged"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert set(security["capabilities"]["add"]) == WORKER_CAPABILITIES
    assert security["readOnlyRootFilesystem"] is True
    assert security.get("procMount", "Default") == "Default"
    assert security["seccompProfile"]["type"] in ("Unconfined", "RuntimeDefault", "Localhost")
    # A user-namespaced pod maps 65536 ids: the grading uid, setpriv's target, lies outside it.
    assert GRADING_UID >= 65536 and spec.get("hostUsers", True) is True
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        assert not spec.get(key), key
    assert not [v for v in spec["volumes"] if "hostPath" in v]
    # No API credentials, its own tainted pool, no way to the hub.
    assert spec["automountServiceAccountToken"] is False
    assert spec["nodeSelector"] == {"practicum.io/node-purpose": "grading"}
    assert {"key": "practicum.io/grading", "operator": "Equal", "value": "true", "effect": "NoSchedule"} in spec["tolerations"]
    assert "hub.jupyter.org/network-access-hub" not in worker_template()["metadata"]["labels"]
    # User pods never land on that pool: they require the chart's user nodes.
    assert load_values()["scheduling"]["userPods"]["nodeAffinity"]["matchNodePurpose"] == "require"
    # The image is the single-user image with bubblewrap.
    image = load_values()["singleuser"]["image"]
    assert worker_container()["image"] == f"registry.example.org/practicum/grading-worker:{image['tag']}"
    assert dockerfile_arg(K8S / "Dockerfile.grading-worker", "SINGLEUSER_IMAGE") == f"{image['name']}:{image['tag']}"
    runs = " ".join(args for instruction, args in dockerfile_instructions(K8S / "Dockerfile.grading-worker") if instruction == "RUN")
    assert "bubblewrap" in runs and "/usr/bin/setpriv" in runs
    learner_runs = [args for instruction, args in dockerfile_instructions(K8S / "Dockerfile.singleuser") if instruction == "RUN"]
    assert not [run for run in learner_runs if "bubblewrap" in run], "learners' pods get no bubblewrap"


def test_the_workers_reach_postgres_the_broker_and_mlflow_and_nothing_reaches_them():
    policy = worker_policy()["spec"]

    assert matches(policy["podSelector"]["matchLabels"], worker_template()["metadata"]["labels"])
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    assert policy["ingress"] == []
    targets: dict[str, set[int]] = {}
    for rule in policy["egress"]:
        ports = {p["port"] for p in rule["ports"]}
        for peer in rule["to"]:
            assert "ipBlock" not in peer, "no address ranges: the internet and the metadata address stay out"
            if "namespaceSelector" in peer:
                assert peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "kube-system"}
                assert ports == {53}
                continue
            targets.setdefault(peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"], set()).update(ports)
    assert targets == {"postgres": {5432}, "rabbitmq": {5672}, "mlflow": {5000}}
    # MLflow's rule is the port its pod serves, the one the workers' tracking URI names.
    tracking = env_of(worker_container())["PRACTICUM_GRADING_TRACKING_URI"]
    assert service_for_url(tracking)["spec"]["selector"]["app.kubernetes.io/name"] == "mlflow"
    assert urlsplit(tracking).port in targets["mlflow"] and targets["mlflow"] <= container_ports(pods_named("mlflow")[0])


def test_the_readme_says_which_secrets_the_grading_pods_need():
    readme = (K8S / "README.md").read_text()
    grading = yaml.safe_load_all((K8S / "grading.yaml").read_text())
    refs = set()
    for doc in grading:
        if doc["kind"] == "Deployment":
            for container in doc["spec"]["template"]["spec"]["containers"]:
                for value in env_of(container).values():
                    if isinstance(value, dict) and "secretKeyRef" in value:
                        refs.add((value["secretKeyRef"]["name"], value["secretKeyRef"]["key"]))
    assert refs >= {("practicum-grading", k) for k in ("database-url", "broker-url", "lms-token")}
    assert "## Grading" in readme
    for name, key in refs:
        if name != "hub":  # the chart's own Secret
            assert name in readme and f"{key}=" in readme, f"README.md does not say how to create {name} {key}"
    for claim in (HIDDEN_BUILD_CLAIM, GRADING_STATE_CLAIM):
        assert claim in readme
