"""The Kubernetes path: KubeSpawner profiles, configure_kubernetes on a bare traitlets
Config, and the chart values, manifests and Dockerfiles under hub_config/k8s."""

from __future__ import annotations

import ast
import copy
import fnmatch
import importlib
import importlib.util
import json
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

from practicum.contracts.tracking import MLFLOW_ADMIN_USERNAME, MLFLOW_PREFIX
from practicum.hub_config import kubernetes as k8s
from practicum.hub_config import services
from practicum.hub_config.profiles import GPU_GROUP, Profile, ProfileLimits, build_profiles
from practicum.hub_config.sandbox import ALLOWED_EGRESS, SANDBOX_DATASETS, SANDBOX_EXCHANGE

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "hub_config" / "k8s"
MANIFESTS = ("mlflow.yaml", "mlflow-gateway.yaml", "lms.yaml", "formgrader.yaml")
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
    """The part of z2jh's jupyterhub_config.py that runs before hub.extraConfig and
    that configure_kubernetes builds on: hub.services with generated tokens, the
    user pods' tolerations and environment."""
    c = Config()
    c.JupyterHub.services = [
        {**service, "name": name, "api_token": f"generated-{name}"}
        for name, service in values["hub"].get("services", {}).items()
    ]
    c.KubeSpawner.tolerations = copy.deepcopy(CHART_TOLERATIONS)
    c.KubeSpawner.environment = dict(values["singleuser"].get("extraEnv", {}))
    return c


def minimal_values(**extra: Any) -> dict[str, Any]:
    return {
        "lms_url": "http://lms.practicum.svc.cluster.local:8090",
        "mlflow_url": "http://mlflow.practicum.svc.cluster.local:5000/services/mlflow",
        "mlflow_gateway_url": "http://mlflow-gateway.practicum.svc.cluster.local:5001",
        **extra,
    }


def with_lms_token() -> Config:
    """A Config with the tokens the chart generates for the external LMS and MLflow gateway."""
    c = Config()
    c.JupyterHub.services = [
        {"name": services.LMS_SERVICE, "api_token": "generated"},
        {"name": services.MLFLOW_GATEWAY_SERVICE, "api_token": "generated-mlflow"},
    ]
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
    names = {s["name"] for s in c.JupyterHub.services}
    assert services.LMS_SERVICE in names
    assert {f"formgrader-{course['course_id']}" for course in practicum_values()["courses"]} <= names


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
    assert SANDBOX_EXCHANGE in mounts


def test_manifest_volume_mounts_name_pod_volumes():
    for template in pod_templates():
        declared = {v["name"] for v in template["spec"].get("volumes", [])}
        for container in template["spec"]["containers"]:
            for mount in container.get("volumeMounts", []):
                assert mount["name"] in declared, f"{container['name']}: volume {mount['name']} not declared"


def test_urls_in_custom_practicum_name_services_of_the_manifests():
    values = practicum_values()
    urls = [values["lms_url"], values["mlflow_url"], values["mlflow_gateway_url"]] + [c["url"] for c in values["courses"]]

    for url in urls:
        svc = service_for_url(url)
        ports = {p["port"]: p.get("targetPort", p["port"]) for p in svc["spec"]["ports"]}
        assert urlsplit(url).port in ports, f"{url}: its Service has ports {list(ports)}"
        backends = [t for t in pod_templates() if matches(svc["spec"]["selector"], t["metadata"]["labels"])]
        assert backends, f"Service {svc['metadata']['name']} selects no Deployment's pods"
        assert all(ports[urlsplit(url).port] in container_ports(t) for t in backends)


def test_sandbox_egress_is_dns_the_hub_and_the_mlflow_gateway_as_in_the_local_sandbox():
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
    # MLflow itself only through the gateway, which signs the learner in as themselves; the LMS not at all.
    assert backend(values["mlflow_url"]) not in allowed and backend(values["lms_url"]) not in allowed
    # The same allow list as a local sandbox's bridge: the hub API (the chart's own rule) and the gateway.
    pods_of = {"hub-api": "hub (the chart's singleuser policy)", "mlflow": "mlflow-gateway"}
    assert set(pods_of) == set(ALLOWED_EGRESS)
    assert {app for app, _ in allowed} == {pods_of["mlflow"]}


def test_services_read_the_token_the_chart_generated_for_them():
    hub_services = set(load_values()["hub"]["services"])
    containers = hub_service_containers()
    assert len(containers) == len(hub_services)

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
