"""The embedded lab's hub settings, built on a bare traitlets Config."""

from pathlib import Path

import pytest
from traitlets.config import Config, PyFileConfigLoader

from practicum.hub_config.local import configure_local
from practicum.hub_config.settings import SETTINGS_ENV, CourseService, HubSettings

REPO = Path(__file__).resolve().parents[2]


def hub_settings(tmp_path, **overrides) -> HubSettings:
    values = dict(
        lab_id="lab-1",
        state_dir=str(tmp_path / "state"),
        python="/venv/bin/python",
        user_password="a-user-password",
        admin_password="x" * 40,
        lab_api_token="t" * 64,
        courses=(CourseService("intro", str(tmp_path / "courses" / "intro"), 8100, ("prof",)),),
    )
    values.update(overrides)
    return HubSettings(**values)


def configured(settings: HubSettings) -> Config:
    c = Config()
    configure_local(c, settings)
    return c


def services_by_name(c: Config) -> dict:
    return {s["name"]: s for s in c.JupyterHub.services}


def roles_by_name(c: Config) -> dict:
    return {r["name"]: r for r in c.JupyterHub.load_roles}


def test_hub_uses_sqlite_in_the_state_folder_and_loopback(tmp_path):
    c = configured(hub_settings(tmp_path))
    assert c.JupyterHub.db_url == f"sqlite:///{tmp_path / 'state' / 'hub' / 'jupyterhub.sqlite'}"
    assert c.JupyterHub.ip == "127.0.0.1" and c.JupyterHub.hub_ip == "127.0.0.1"
    assert c.JupyterHub.authenticator_class == "shared-password"
    assert c.Authenticator.allow_all is True
    assert c.JupyterHub.spawner_class == "practicum.hub_config.spawner.SandboxSpawner"


def test_services_lms_culler_formgrader_grading_and_lab(tmp_path):
    c = configured(hub_settings(tmp_path))
    services = services_by_name(c)
    assert set(services) == {"lms", "mlflow", "idle-culler", "formgrader-intro", "practicum-lab", "grading"}
    assert services["grading"]["command"] == ["/venv/bin/python", "-m", "practicum.grading", "serve"]
    assert services["grading"]["url"] == "http://127.0.0.1:8092"
    assert services["lms"]["command"] == ["/venv/bin/python", "-m", "practicum.lms_api"]
    assert services["idle-culler"]["command"][-1] == "--timeout=3600"
    assert services["formgrader-intro"]["cwd"].endswith("courses/intro")
    assert services["formgrader-intro"]["url"] == "http://127.0.0.1:8100"
    assert services["mlflow"]["command"] == ["/venv/bin/python", "-m", "practicum.tracking"]
    for name in ("lms", "mlflow", "idle-culler", "formgrader-intro", "grading"):
        assert services[name]["environment"]["PRACTICUM_LAB_ID"] == "lab-1"
    user_scopes = roles_by_name(c)["user"]["scopes"]
    assert "access:services!service=grading" in user_scopes  # learners read their feedback pages


def test_formgrader_is_for_the_course_instructors_only(tmp_path):
    c = configured(hub_settings(tmp_path))
    role = roles_by_name(c)["formgrade-intro"]
    assert role["groups"] == ["formgrade-intro"]
    assert role["scopes"] == ["access:services!service=formgrader-intro"]
    assert c.JupyterHub.load_groups["formgrade-intro"] == {"users": ["prof"]}
    assert c.JupyterHub.load_groups["nbgrader-intro"] == {"users": []}
    user_scopes = roles_by_name(c)["user"]["scopes"]
    assert "access:services!service=formgrader-intro" not in user_scopes
    assert "access:services!service=lms" in user_scopes


def test_culler_may_only_cull(tmp_path):
    role = roles_by_name(configured(hub_settings(tmp_path)))["idle-culler"]
    assert set(role["scopes"]) == {"list:users", "read:users:activity", "read:servers", "delete:servers"}


def test_no_gpu_profile_without_gpus_and_gpu_profile_with(tmp_path):
    without = configured(hub_settings(tmp_path))
    assert [p["slug"] for p in without.SandboxSpawner.profiles] == ["cpu"]
    with_gpus = configured(hub_settings(tmp_path, gpus=("0", "1"), gpu_groups=("imaging",)))
    gpu = with_gpus.SandboxSpawner.profiles[1]
    assert gpu["slug"] == "gpu" and gpu["allowed_groups"] == ("imaging",)
    assert with_gpus.SandboxSpawner.gpu_devices == ["0", "1"]
    assert "imaging" in with_gpus.JupyterHub.load_groups


def test_sandboxes_reach_only_the_hub_api_the_mlflow_gateway_and_the_grading_service_and_not_the_state(tmp_path):
    c = configured(hub_settings(tmp_path, mlflow_url="http://127.0.0.1:5999/services/mlflow", mlflow_gateway_port=5998, hub_port=8999,
                                grading_port=8997))
    assert c.Spawner.environment["MLFLOW_TRACKING_URI"] == "http://127.0.0.1:5998/services/mlflow"  # the gateway, never MLflow
    assert "MLFLOW_TRACKING_URI" not in c.SandboxSpawner.extra_env
    assert c.SandboxSpawner.egress == {"hub-api": ["127.0.0.1", 8999], "mlflow": ["127.0.0.1", 5998], "grading": ["127.0.0.1", 8997]}
    assert c.Spawner.environment["PRACTICUM_GRADING_URL"] == "http://127.0.0.1:8997/services/grading/"
    assert c.SandboxSpawner.hidden_dirs == [str(tmp_path / "state")]


def test_short_passwords_are_refused(tmp_path):
    with pytest.raises(ValueError, match="admin password"):
        configured(hub_settings(tmp_path, admin_password="short-admin-password"))


def test_settings_round_trip_through_json(tmp_path):
    settings = hub_settings(tmp_path, gpus=("0",))
    assert HubSettings.from_json(settings.to_json()) == settings


def test_the_config_file_only_applies_the_settings_file(tmp_path, monkeypatch):
    settings = hub_settings(tmp_path)
    path = tmp_path / "settings.json"
    path.write_text(settings.to_json())
    monkeypatch.setenv(SETTINGS_ENV, str(path))
    loader = PyFileConfigLoader("jupyterhub_config.py", path=str(REPO / "hub_config"))
    assert loader.load_config() == configured(settings)
