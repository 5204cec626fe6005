import socket

import pytest

from practicum.lab import preflight
from practicum.lab.errors import LabError


def test_port_in_use_names_the_port_and_the_service():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(LabError, match=rf"port {port} \(MLflow\) on 127.0.0.1 is already in use"):
            preflight.check_ports_free("127.0.0.1", {"MLflow": port})


def test_free_ports_pass():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    preflight.check_ports_free("127.0.0.1", {"hub": port})


def test_missing_or_non_executable_tool(tmp_path):
    with pytest.raises(LabError, match="configurable-http-proxy not found at .*run `make install`"):
        preflight.check_executable(tmp_path / "chp", what="configurable-http-proxy", fix="run `make install`")
    script = tmp_path / "chp"
    script.write_text("#!/bin/sh\n")
    with pytest.raises(LabError, match="not found"):
        preflight.check_executable(script, what="configurable-http-proxy", fix="chmod +x")
    script.chmod(0o755)
    preflight.check_executable(script, what="configurable-http-proxy", fix="")


def test_dataset_folder_must_be_a_readable_folder(tmp_path, monkeypatch):
    with pytest.raises(LabError, match="does not exist"):
        preflight.check_readable_dir(tmp_path / "missing", what="dataset folder")
    a_file = tmp_path / "file.csv"
    a_file.write_text("x")
    with pytest.raises(LabError, match="is not a folder"):
        preflight.check_readable_dir(a_file, what="dataset folder")
    # As root, permission bits do not stop reading: simulate what a normal user gets.
    monkeypatch.setattr(preflight.os, "access", lambda path, mode: False)
    with pytest.raises(LabError, match="is not readable"):
        preflight.check_readable_dir(tmp_path, what="dataset folder")


def test_sandbox_mode(monkeypatch):
    monkeypatch.setattr(preflight.shutil, "which", lambda name: None)
    assert preflight.resolve_sandbox_mode("auto") == "none"
    with pytest.raises(LabError, match="bubblewrap .* is not installed"):
        preflight.resolve_sandbox_mode("bubblewrap")
    with pytest.raises(LabError, match="unknown sandbox mode"):
        preflight.resolve_sandbox_mode("docker")
    monkeypatch.setattr(preflight.shutil, "which", lambda name: "/usr/bin/bwrap")
    assert preflight.resolve_sandbox_mode("auto") == "bubblewrap"
