"""Real servers for the gateway tests: the lab's MLflow (basic-auth app) and the gateway process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from practicum.contracts.tracking import MLFLOW_ADMIN_USERNAME, MLFLOW_PREFIX
from practicum.hub_config import services
from practicum.lab import mlflow_server
from practicum.lab.layout import StateLayout
from practicum.lab.secrets import LabSecrets

REPO = Path(__file__).resolve().parents[2]
# The gateway refuses bodies above this in the tests (the lab's default is 4 GiB).
TEST_MAX_BODY = 40 * 1024 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Mlflow:
    url: str  # with the static prefix, for the admin
    admin_password: str
    started_seconds: float

    def admin_env(self) -> dict[str, str]:
        return {"MLFLOW_TRACKING_USERNAME": MLFLOW_ADMIN_USERNAME, "MLFLOW_TRACKING_PASSWORD": self.admin_password}

    def admin(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, auth=(MLFLOW_ADMIN_USERNAME, self.admin_password), timeout=30)


@dataclass(frozen=True)
class Gateway:
    url: str  # the service prefix on the gateway's port (what a sandbox's MLFLOW_TRACKING_URI names)
    pid: int
    users_file: Path
    log: Path


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[:3]} exited ({proc.returncode}): {log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not healthy after {timeout} s: {log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def running_mlflow(state: Path) -> Iterator[Mlflow]:
    """``mlflow server --app-name basic-auth --workers 1`` exactly as `practicum up` starts it."""
    layout = StateLayout(state)
    layout.mlflow.mkdir(parents=True)
    secrets = LabSecrets.generate()
    port = free_port()
    log = state / "mlflow.log"
    env = mlflow_server.mlflow_environment(os.environ, layout, secrets)
    started = time.monotonic()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            mlflow_server.mlflow_command(layout, "127.0.0.1", port),
            env=env, cwd=layout.mlflow, stdout=out, stderr=subprocess.STDOUT,
        )
    url = mlflow_server.mlflow_url("127.0.0.1", port)
    try:
        _wait_healthy(f"{url}/health", proc, 180, log)
        yield Mlflow(url=url, admin_password=secrets.mlflow_admin_password, started_seconds=time.monotonic() - started)
    finally:
        _stop(proc)


@contextmanager
def running_gateway(state: Path, mlflow: Mlflow, hub_env: dict[str, str], port: int) -> Iterator[Gateway]:
    """``python -m practicum.tracking`` with the environment JupyterHub gives the service."""
    users_file = state / "tracking" / "users.json"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "JUPYTERHUB_"))},
        **hub_env,
        **services.mlflow_gateway_environment(
            upstream=mlflow.url, users_file=str(users_file), admin_password=mlflow.admin_password
        ),
        "PRACTICUM_TRACKING_MAX_BODY_BYTES": str(TEST_MAX_BODY),
    }
    log = state / "gateway.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "practicum.tracking"], env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}{MLFLOW_PREFIX}"
    try:
        _wait_healthy(f"{url}/health", proc, 60, log)
        yield Gateway(url=url, pid=proc.pid, users_file=users_file, log=log)
    finally:
        _stop(proc)


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak so far) of a process, in KiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values
