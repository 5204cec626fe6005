"""The embedded lab's hub: SQLite, local sandboxes, loopback only."""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path

from traitlets.config import Config

from . import services
from .auth import configure_shared_password
from .formgrader_links import configure_formgrader_links
from .profiles import ProfileLimits, build_profiles
from .settings import HubSettings


def configure_local(c: Config, s: HubSettings) -> None:
    state = Path(s.state_dir)
    bin_dir = str(Path(s.python).parent)
    marker = {"PRACTICUM_LAB_ID": s.lab_id}

    c.JupyterHub.ip = s.ip
    c.JupyterHub.port = s.port
    c.JupyterHub.hub_ip = s.ip
    c.JupyterHub.hub_port = s.hub_port
    c.JupyterHub.db_url = f"sqlite:///{state / 'hub' / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(state / "hub" / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = str(state / "hub" / "jupyterhub.pid")
    c.JupyterHub.cleanup_servers = True
    c.JupyterHub.cleanup_proxy = True
    c.ConfigurableHTTPProxy.command = list(s.proxy_command)
    c.ConfigurableHTTPProxy.api_url = f"http://{s.ip}:{s.proxy_api_port}"
    c.ConfigurableHTTPProxy.pid_file = str(state / "hub" / "proxy.pid")

    configure_shared_password(
        c, user_password=s.user_password, admin_password=s.admin_password, admin_users=s.admin_users
    )

    c.JupyterHub.spawner_class = "practicum.hub_config.spawner.SandboxSpawner"
    c.Spawner.cmd = [str(Path(bin_dir) / "jupyterhub-singleuser")]
    c.Spawner.default_url = "/lab"
    c.Spawner.start_timeout = s.spawn_timeout_seconds
    c.Spawner.http_timeout = s.spawn_timeout_seconds
    c.Spawner.env_keep = ["PATH", "LANG", "LC_ALL", "TZ"]
    c.SandboxSpawner.home_dir_template = str(state / "homes" / "{username}")
    c.SandboxSpawner.sandbox_mode = s.sandbox
    c.SandboxSpawner.public_datasets_dir = s.public_datasets_dir
    c.SandboxSpawner.exchange_dir = s.exchange_dir
    c.SandboxSpawner.exchange_inbound_dir = s.exchange_inbound_dir
    c.SandboxSpawner.courses = [course.course_id for course in s.courses]
    c.SandboxSpawner.uid_registry = s.sandbox_uid_registry
    c.SandboxSpawner.spec_dir = s.sandbox_spec_dir
    c.SandboxSpawner.cgroup_prefix = s.sandbox_cgroup_prefix
    c.SandboxSpawner.launcher_python = s.python
    # The only services a sandbox reaches (the bridge relays nothing else): the hub API, MLflow's gateway
    # and the grading service (`practicum submit`).
    c.SandboxSpawner.egress = {"hub-api": [s.ip, s.hub_port], "mlflow": [s.ip, s.mlflow_gateway_port], "grading": [s.ip, s.grading_port]}
    c.SandboxSpawner.jupyter_etc_dir = s.sandbox_jupyter_etc
    c.SandboxSpawner.code_dirs = list(s.code_dirs)
    c.SandboxSpawner.hidden_dirs = [s.state_dir, *s.hidden_code_dirs]
    c.SandboxSpawner.masked_files = list(s.masked_files)
    c.SandboxSpawner.gpu_devices = list(s.gpus)
    limits = ProfileLimits(gpu_groups=tuple(s.gpu_groups))
    c.SandboxSpawner.profiles = [asdict(p) for p in build_profiles(bool(s.gpus), limits)]
    c.SandboxSpawner.extra_env = {**marker, "PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
    c.Spawner.environment = {
        **services.mlflow_sandbox_environment(s.sandbox_mlflow_tracking_uri),
        services.GRADING_URL_ENV: s.grading_url + services.GRADING_PREFIX,
    }

    services.configure_user_role(c)
    services.configure_lab_service(c, api_token=s.lab_api_token)
    services.configure_lms_service(
        c,
        command=[s.python, "-m", "practicum.lms_api"],
        url=s.lms_url,
        environment={
            **marker,
            "PRACTICUM_LMS_DATABASE_URL": s.lms_database_url,
            "PRACTICUM_LMS_MLFLOW_URL": s.mlflow_public_url,
            "PRACTICUM_LMS_WEBHOOK_ALLOWED_HOSTS": ",".join(s.lms_webhook_allowed_hosts),
        },
    )
    services.configure_mlflow_gateway(
        c,
        command=[s.python, "-m", "practicum.tracking"],
        url=s.mlflow_gateway_url,
        environment={
            **marker,
            **services.mlflow_gateway_environment(
                upstream=s.mlflow_url,
                users_file=str(state / "tracking" / "users.json"),
                admin_password=s.mlflow_admin_password,
            ),
        },
    )
    services.configure_grading_service(
        c, command=[s.python, "-m", "practicum.grading", "serve"], url=s.grading_url, environment={**marker, **s.grading_environment}
    )
    services.configure_idle_culler(c, python=s.python, timeout_seconds=s.cull_idle_seconds, environment=marker)
    singleuser = str(Path(bin_dir) / "jupyterhub-singleuser")
    for course in s.courses:
        services.configure_formgrader(c, course, singleuser=singleuser, python=s.python, environment=marker)
    configure_formgrader_links(c, [course.service_name for course in s.courses])
    services.configure_gpu_groups(c, s.gpu_groups)
