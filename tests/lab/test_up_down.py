"""`practicum up` then `practicum down` leaves nothing behind; bad configuration fails in one line."""

from __future__ import annotations

import os
import socket
import subprocess

import pytest

from practicum.hub_client import HubClient
from practicum.lab.background import PRACTICUM, free_base_port, port_is_listening, start_background_lab
from practicum.lab.processes import marked_processes

pytestmark = pytest.mark.lab


def test_up_then_down_leaves_no_process_and_no_open_port(tmp_path):
    datasets = tmp_path / "datasets"
    datasets.mkdir()
    lab = start_background_lab(tmp_path / "state", datasets)
    try:
        with HubClient(lab.state.hub_api_url, lab.state.public_url, lab.token) as hub:
            hub.ensure_user("ada")
            hub.start_server("ada")  # a running sandbox must be stopped too
        running = marked_processes(lab.state.lab_id)
        assert len(running) >= 6  # MLflow, hub, proxy, LMS, culler, formgrader, sandbox
        assert all(port_is_listening(p) for p in (lab.base_port, lab.base_port + 4))
    finally:
        result = lab.cli("down")
    assert result.returncode == 0 and "lab stopped" in result.stdout
    assert lab.process.wait(timeout=60) == 0
    assert marked_processes(lab.state.lab_id) == []
    assert [p for p in lab.ports if port_is_listening(p)] == []
    assert not (lab.state_dir / "lab.json").exists()
    assert lab.cli("status", "--json").returncode == 1


def run_up(tmp_path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PRACTICUM, "up", "--state-dir", str(tmp_path / "state"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def assert_one_clear_line(result: subprocess.CompletedProcess[str], expected: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("practicum: error: ") and expected in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_port_in_use_is_one_clear_line(tmp_path):
    base = free_base_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", base + 4))
        busy.listen()
        result = run_up(tmp_path, "--port", str(base))
    assert_one_clear_line(result, f"port {base + 4} (MLflow) on 127.0.0.1 is already in use")


def test_missing_proxy_binary_is_one_clear_line(tmp_path):
    result = run_up(tmp_path, "--port", str(free_base_port()), env={"PRACTICUM_PROXY": str(tmp_path / "nope")})
    assert_one_clear_line(result, "configurable-http-proxy not found")


def test_unreadable_dataset_folder_is_one_clear_line(tmp_path):
    result = run_up(tmp_path, "--port", str(free_base_port()), "--datasets", str(tmp_path / "missing"))
    assert_one_clear_line(result, "dataset folder")
    assert "does not exist" in result.stderr


def test_second_lab_on_the_same_state_is_refused(shared_lab):
    result = subprocess.run(
        [PRACTICUM, "up", "--state-dir", str(shared_lab.state_dir), "--port", str(free_base_port())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert_one_clear_line(result, "a lab is already running")
    assert shared_lab.cli("status", "--json").returncode == 0  # the running lab is untouched
