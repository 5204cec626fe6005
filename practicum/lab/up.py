"""`practicum up`: start MLflow and JupyterHub (which runs the LMS, the idle culler,
the formgraders and the sandboxes), wait until every service answers, then hold."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from practicum.hub_config.formgrader_links import write_formgrader_server_config
from practicum.hub_config.profiles import detect_gpus
from practicum.hub_config.sandbox import SANDBOX_EXCHANGE
from practicum.hub_config.settings import SETTINGS_ENV, CourseService, HubSettings
from practicum.hub_config.singleuser import write_singleuser_config

from . import mlflow_server, preflight, sandboxes
from .catalog_sync import sync_catalog_into_lms
from .courses import Course, load_catalog, prepare_course
from .errors import LabError
from .grading import grading_environment
from .health import ServiceHealth, check_endpoint
from .layout import REPO_ROOT, proxy_binary, venv_bin
from .processes import LAB_ID_ENV, pid_alive, start_process, stop_process_group, sweep_marked
from .secrets import LabSecrets, load_or_create_secrets
from .settings import LabSettings
from .state import LabState, ServiceEndpoint, read_state, write_state

# Called with (service name, health or None while waiting, seconds since start).
ProgressCallback = Callable[[str, ServiceHealth | None, float], None]

DATASETS_README = """No dataset has been built for this lab yet.

Start the lab with `practicum up --datasets DIR` to mount a folder of public
dataset splits here (read-only in every sandbox).
"""


@dataclass
class RunningLab:
    settings: LabSettings
    state: LabState
    secrets: LabSecrets
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _stopped: bool = False

    @property
    def token(self) -> str:
        return self.secrets.lab_api_token

    def failed_process(self) -> str | None:
        for name, proc in self.processes.items():
            if proc.poll() is not None:
                return name
        return None

    def stop(self) -> None:
        """Stop every process this lab started, and any that outlived its parent."""
        if self._stopped:
            return
        self._stopped = True
        # The hub first: it stops the sandboxes, services and proxy it started.
        for name in ("jupyterhub", "mlflow"):
            if name in self.processes:
                stop_process_group(self.processes[name], timeout=20)
        sweep_marked(self.state.lab_id)
        current = read_state(self.settings.layout.lab_file)
        if current is not None and current.lab_id == self.state.lab_id:
            self.settings.layout.lab_file.unlink(missing_ok=True)


def start_lab(settings: LabSettings, progress: ProgressCallback | None = None) -> RunningLab:
    """Start the lab and return once every service is healthy (or raise LabError)."""
    layout = settings.layout
    layout.create()
    _refuse_second_lab(settings)
    sandbox = preflight.resolve_sandbox_mode(settings.sandbox)
    preflight.check_executable(
        proxy_binary(), what="configurable-http-proxy", fix="run `make install` (npm ci) in the checkout"
    )
    datasets_dir = _public_datasets(settings)
    courses = load_catalog(settings.courses_dir)
    sync_catalog_into_lms(layout.lms_database_url, settings.courses_dir)
    preflight.check_ports_free(settings.ip, settings.ports.named(len(courses)))

    secrets = load_or_create_secrets(layout.secrets_file)
    lab_id = uuid.uuid4().hex
    env = _base_env(lab_id)
    hub_settings = _hub_settings(settings, secrets, lab_id, sandbox, datasets_dir, courses)
    write_singleuser_config(layout.sandbox_jupyter_etc, exchange_root=_exchange_in_sandbox(sandbox, layout.exchange))
    sandboxes.prepare_grading_kernel(layout, datasets_dir)
    # Two courses at a time: releasing one is mostly one nbgrader process starting (CPU) on these 2-core machines.
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda pair: prepare_course(
            pair[0], settings.courses_dir, Path(pair[1].root), layout.exchange, layout.exchange_inbound, env,
            sandboxed=sandbox == "bubblewrap",
        ), zip(courses, hub_settings.courses, strict=True)))
    for service in hub_settings.courses:
        write_formgrader_server_config(Path(service.config_dir), hub_settings.public_url, service.service_name)
    if sandbox == "bubblewrap":
        sandboxes.sweep_leftovers(layout)
        services = []
        for service in hub_settings.courses:
            sandboxes.give_course_to_its_uid(layout, service)
            services.append(replace(service, launch_spec=str(sandboxes.write_formgrader_spec(layout, hub_settings, service))))
        hub_settings = replace(hub_settings, courses=tuple(services))
    layout.hub_settings_file.write_text(hub_settings.to_json())
    layout.hub_settings_file.chmod(0o600)

    state = LabState(
        lab_id=lab_id,
        supervisor_pid=os.getpid(),
        state_dir=str(layout.root),
        public_url=hub_settings.public_url,
        hub_api_url=hub_settings.hub_api_url,
        mlflow_url=hub_settings.mlflow_url,
        sandbox=sandbox,
        services=_endpoints(hub_settings),
    )
    lab = RunningLab(settings=settings, state=state, secrets=secrets)
    try:
        lab.processes["mlflow"] = start_process(
            "mlflow",
            _mlflow_command(settings),
            env=mlflow_server.mlflow_environment(env, layout, secrets),
            log_dir=layout.logs,
            cwd=layout.mlflow,
        )
        lab.processes["jupyterhub"] = start_process(
            "jupyterhub",
            [str(venv_bin() / "jupyterhub"), "-f", str(REPO_ROOT / "hub_config" / "jupyterhub_config.py")],
            env={**env, SETTINGS_ENV: str(layout.hub_settings_file)},
            log_dir=layout.logs,
            cwd=layout.hub,
        )
        write_state(layout.lab_file, state)
        _wait_until_healthy(lab, settings.ready_timeout_seconds, progress)
    except BaseException:
        lab.stop()
        raise
    return lab


def serve_lab(lab: RunningLab, stop_event: threading.Event | None = None) -> None:
    """Hold the lab until Ctrl-C, SIGTERM (`practicum down`) or a process dies; then stop it."""
    stop_event = stop_event or threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop_event.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop_event.wait(1.0):
            failed = lab.failed_process()
            if failed:
                raise LabError(f"{failed} stopped unexpectedly; see {lab.settings.layout.logs / (failed + '.log')}")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        lab.stop()


def _refuse_second_lab(settings: LabSettings) -> None:
    existing = read_state(settings.layout.lab_file)
    if existing and pid_alive(existing.supervisor_pid):
        raise LabError(
            f"a lab is already running from {settings.layout.root} (pid {existing.supervisor_pid}): "
            "`practicum down` stops it"
        )


def _public_datasets(settings: LabSettings) -> Path:
    folder = settings.public_datasets_dir
    if settings.datasets_dir is None and not folder.exists():
        folder.mkdir(parents=True)
        (folder / "README.txt").write_text(DATASETS_README)
    preflight.check_readable_dir(folder, what="dataset folder")
    preflight.check_readable_by_sandboxes(folder, what="dataset folder")
    return folder


def _exchange_in_sandbox(sandbox: str, exchange: Path) -> str:
    return SANDBOX_EXCHANGE if sandbox == "bubblewrap" else str(exchange)


def _base_env(lab_id: str) -> dict[str, str]:
    bin_dir = str(venv_bin())
    return {
        **os.environ,
        LAB_ID_ENV: lab_id,
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "PRACTICUM_BIN": bin_dir,
        "PYTHONUNBUFFERED": "1",
    }


def _hub_settings(
    settings: LabSettings,
    secrets: LabSecrets,
    lab_id: str,
    sandbox: str,
    datasets_dir: Path,
    courses: list[Course],
) -> HubSettings:
    layout = settings.layout
    ports = settings.ports
    public_url = f"http://{settings.ip}:{ports.public}"
    return HubSettings(
        lab_id=lab_id,
        state_dir=str(layout.root),
        python=sys.executable,
        ip=settings.ip,
        port=ports.public,
        hub_port=ports.hub_api,
        proxy_api_port=ports.proxy_api,
        lms_port=ports.lms,
        lms_database_url=layout.lms_database_url,
        lms_webhook_allowed_hosts=settings.webhook_allowed_hosts,
        grading_port=ports.grading,
        grading_environment=grading_environment(
            layout, secrets, public_datasets=datasets_dir, sandbox=sandbox, mlflow_url=mlflow_server.mlflow_url(settings.ip, ports.mlflow),
            lms_url=f"{public_url}/services/lms/", public_url=f"{public_url}/services/grading/",
            course_ids=[course.course_id for course in courses],
            scorers={course.course_id: dict(course.scorers) for course in courses},
        ),
        mlflow_url=mlflow_server.mlflow_url(settings.ip, ports.mlflow),
        mlflow_gateway_port=ports.mlflow_gateway,
        mlflow_admin_password=secrets.mlflow_admin_password,
        proxy_command=(str(proxy_binary()),),
        public_datasets_dir=str(datasets_dir),
        exchange_dir=str(layout.exchange),
        exchange_inbound_dir=str(layout.exchange_inbound),
        sandbox_jupyter_etc=str(layout.sandbox_jupyter_etc),
        sandbox_uid_registry=str(layout.sandbox_uids),
        sandbox_spec_dir=str(layout.sandbox_specs),
        sandbox_cgroup_prefix=sandboxes.cgroup_prefix(layout),
        sandbox=sandbox,
        code_dirs=sandboxes.code_dirs(),
        hidden_code_dirs=sandboxes.hidden_code_dirs(),
        masked_files=sandboxes.masked_files(),
        gpus=tuple(detect_gpus()),
        courses=tuple(
            CourseService(
                course_id=course.course_id,
                root=str(layout.courses / course.course_id),
                port=ports.formgrader_base + i,
                instructors=course.instructors,
                roster=course.roster,
                self_enrolment=course.self_enrolment,
                config_dir=str(layout.formgrader_homes / course.course_id / ".jupyter"),
            )
            for i, course in enumerate(courses)
        ),
        user_password=secrets.user_password,
        admin_password=secrets.admin_password,
        lab_api_token=secrets.lab_api_token,
        cull_idle_seconds=settings.cull_idle_seconds,
    )


def _mlflow_command(settings: LabSettings) -> list[str]:
    """MLflow's basic-auth app (see mlflow_server): its config and admin come with its environment."""
    return mlflow_server.mlflow_command(settings.layout, settings.ip, settings.ports.mlflow)


def _endpoints(s: HubSettings) -> list[ServiceEndpoint]:
    endpoints = [
        ServiceEndpoint("jupyterhub", f"{s.public_url}/hub/", f"{s.public_url}/hub/health"),
        # /health is MLflow's one unprotected route; the gateway's own checks MLflow through it.
        ServiceEndpoint("mlflow", s.mlflow_url, f"{s.mlflow_url}/health"),
        ServiceEndpoint("mlflow-gateway", s.mlflow_public_url, f"{s.mlflow_public_url}health"),
        ServiceEndpoint("lms", f"{s.public_url}/services/lms/", f"{s.public_url}/services/lms/health"),
        ServiceEndpoint("grading", f"{s.public_url}/services/grading/", f"{s.public_url}/services/grading/health"),
        ServiceEndpoint("idle-culler", f"{s.hub_api_url}/services/idle-culler", "", hub_service="idle-culler"),
    ]
    for course in s.courses:
        prefix = f"/services/{course.service_name}/"
        endpoints.append(
            ServiceEndpoint(
                course.service_name,
                f"{s.public_url}{prefix}",
                f"http://127.0.0.1:{course.port}{prefix}api",
            )
        )
    return endpoints


def _wait_until_healthy(lab: RunningLab, timeout: float, progress: ProgressCallback | None) -> None:
    started = time.monotonic()
    pending = {e.name: e for e in lab.state.services}
    while pending:
        failed = lab.failed_process()
        if failed:
            log = lab.settings.layout.logs / f"{failed}.log"
            raise LabError(f"{failed} exited while starting: {_last_line(log)} (full log: {log})")
        for name, endpoint in list(pending.items()):
            health = check_endpoint(endpoint, lab.state, lab.token, timeout=2.0)
            if health.healthy:
                del pending[name]
                if progress:
                    progress(name, health, time.monotonic() - started)
        elapsed = time.monotonic() - started
        if pending and elapsed > timeout:
            raise LabError(
                f"not healthy after {timeout:.0f} s: {', '.join(sorted(pending))}; logs in {lab.settings.layout.logs}"
            )
        if pending:
            if progress:
                for name in pending:
                    progress(name, None, elapsed)
            time.sleep(0.25)


def _last_line(log: Path) -> str:
    try:
        lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "(no log)"
    return lines[-1][:300] if lines else "(empty log)"
