"""How the embedded lab runs MLflow's basic-auth app and the gateway (no servers started)."""

from __future__ import annotations

import configparser
import json

from traitlets.config import Config

from practicum.contracts.tracking import MLFLOW_ADMIN_USERNAME, MLFLOW_PREFIX
from practicum.hub_config import services
from practicum.hub_config.local import configure_local
from practicum.hub_config.settings import HubSettings
from practicum.lab import mlflow_server, up
from practicum.lab.layout import StateLayout
from practicum.lab.secrets import LabSecrets, load_or_create_secrets
from practicum.lab.settings import Ports


def test_a_secrets_file_from_before_gains_the_mlflow_secrets_once(tmp_path):
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({"user_password": "u" * 12, "admin_password": "a" * 43, "lab_api_token": "t" * 64}))
    path.chmod(0o600)

    first = load_or_create_secrets(path)
    second = load_or_create_secrets(path)

    assert first.user_password == "u" * 12 and first.lab_api_token == "t" * 64
    assert len(first.mlflow_admin_password) >= 32 and len(first.mlflow_flask_secret) >= 32
    assert second == first
    assert json.loads(path.read_text())["mlflow_admin_password"] == first.mlflow_admin_password
    assert path.stat().st_mode & 0o777 == 0o600


def test_the_gateway_port_moves_with_the_others():
    ports = Ports.from_base(21000)
    assert (ports.mlflow, ports.mlflow_gateway) == (21004, 21005)
    assert ports.named(course_count=1)["MLflow gateway"] == 21005
    assert Ports().mlflow_gateway not in {Ports().public, Ports().hub_api, Ports().proxy_api, Ports().mlflow, Ports().lms}


def test_mlflow_runs_its_basic_auth_app_with_no_default_permission(tmp_path):
    layout = StateLayout(tmp_path)
    layout.mlflow.mkdir()
    secrets = LabSecrets.generate()

    command = mlflow_server.mlflow_command(layout, "127.0.0.1", 5000)
    env = mlflow_server.mlflow_environment({"PATH": "/bin", "MLFLOW_TRACKING_PASSWORD": "leaked", "MLFLOW_AUTH_ADMIN_USERNAME": "x"}, layout, secrets)

    assert command[command.index("--app-name") + 1] == "basic-auth"
    assert command[command.index("--static-prefix") + 1] == MLFLOW_PREFIX
    assert command[command.index("--workers") + 1] == "1"
    ini = configparser.ConfigParser()
    ini.read(env["MLFLOW_AUTH_CONFIG_PATH"])
    assert ini["mlflow"]["default_permission"] == "NO_PERMISSIONS"
    assert ini["mlflow"]["database_uri"] == f"sqlite:///{layout.mlflow / 'basic_auth.db'}"
    assert ini["mlflow"]["admin_username"] == MLFLOW_ADMIN_USERNAME == env["MLFLOW_AUTH_ADMIN_USERNAME"]
    assert env["MLFLOW_AUTH_ADMIN_PASSWORD"] == secrets.mlflow_admin_password
    assert secrets.mlflow_admin_password not in (tmp_path / "mlflow" / "basic_auth.ini").read_text()
    assert "MLFLOW_TRACKING_PASSWORD" not in env
    assert mlflow_server.mlflow_admin_environment(secrets) == {
        "MLFLOW_TRACKING_USERNAME": MLFLOW_ADMIN_USERNAME, "MLFLOW_TRACKING_PASSWORD": secrets.mlflow_admin_password,
    }


def hub_settings(tmp_path) -> HubSettings:
    return HubSettings(
        lab_id="lab-1", state_dir=str(tmp_path / "state"), python="/venv/bin/python", port=21000,
        mlflow_url=mlflow_server.mlflow_url("127.0.0.1", 21004), mlflow_gateway_port=21005,
        user_password="a-user-password", admin_password="x" * 40, lab_api_token="t" * 64,
        mlflow_admin_password="m" * 43,
    )


def test_the_hub_runs_the_gateway_as_its_mlflow_service(tmp_path):
    s = hub_settings(tmp_path)
    c = Config()
    configure_local(c, s)

    (gateway,) = [svc for svc in c.JupyterHub.services if svc["name"] == "mlflow"]
    assert gateway["command"] == ["/venv/bin/python", "-m", "practicum.tracking"]
    assert gateway["url"] == "http://127.0.0.1:21005" and gateway["display"] is True
    env = gateway["environment"]
    assert env["PRACTICUM_TRACKING_UPSTREAM"] == "http://127.0.0.1:21004/services/mlflow"
    assert env["PRACTICUM_TRACKING_USERS_FILE"] == str(tmp_path / "state" / "tracking" / "users.json")
    assert (env["MLFLOW_TRACKING_USERNAME"], env["MLFLOW_TRACKING_PASSWORD"]) == (MLFLOW_ADMIN_USERNAME, "m" * 43)
    user_scopes = next(r for r in c.JupyterHub.load_roles if r["name"] == "user")["scopes"]
    assert "access:services!service=mlflow" in user_scopes
    assert "access:services!service=mlflow" in c.Spawner.server_token_scopes
    # The sandbox's only way to MLflow is the gateway's port, never MLflow's own.
    assert c.SandboxSpawner.egress["mlflow"] == ["127.0.0.1", 21005]
    assert HubSettings.from_json(s.to_json()) == s


def test_a_sandbox_tracks_to_the_gateway_with_its_server_token(tmp_path):
    s = hub_settings(tmp_path)
    assert s.sandbox_mlflow_tracking_uri == "http://127.0.0.1:21005/services/mlflow"
    env = services.mlflow_sandbox_environment(s.sandbox_mlflow_tracking_uri)
    spawner = type("Spawner", (), {"api_token": "server-token", "user": type("User", (), {"name": "ada"})()})()
    assert env["MLFLOW_TRACKING_URI"] == s.sandbox_mlflow_tracking_uri
    assert env["MLFLOW_TRACKING_TOKEN"](spawner) == "server-token"
    assert env["MLFLOW_EXPERIMENT_NAME"](spawner) == "learners/ada"


def test_status_checks_mlflow_and_the_gateway_through_the_hub(tmp_path):
    s = hub_settings(tmp_path)
    endpoints = {e.name: e for e in up._endpoints(s)}
    assert endpoints["mlflow"].health_url == "http://127.0.0.1:21004/services/mlflow/health"
    gateway = endpoints["mlflow-gateway"]
    assert gateway.url == "http://127.0.0.1:21000/services/mlflow/"
    assert gateway.health_url == "http://127.0.0.1:21000/services/mlflow/health"
