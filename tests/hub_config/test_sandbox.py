"""The sandbox command, checked as a list and by running a real process inside it."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from practicum.contracts.project_modules import reference_modules
from practicum.hub_config.sandbox import (
    SANDBOX_DATASETS,
    SandboxMounts,
    bubblewrap_command,
    write_identity_files,
)
from practicum.lab.layout import REPO_ROOT


@pytest.fixture
def host(tmp_path):
    """A host layout: a lab state folder inside a code folder, as in a checkout."""
    code = tmp_path / "checkout"
    state = code / ".lab"
    for folder in ("homes/ada", "homes/bob", "public", "exchange", "etc", "hidden_labels"):
        (state / folder).mkdir(parents=True)
    (state / "public" / "train.csv").write_text("id,label\n1,0\n")
    (state / "hidden_labels" / "test_labels.csv").write_text("secret\n")
    (state / "homes" / "bob" / "notes.txt").write_text("bob's work\n")
    (code / "module.py").write_text("VALUE = 1\n")
    mounts = SandboxMounts(
        home_on_host=str(state / "homes" / "ada"),
        home="/home/ada",
        public_datasets=str(state / "public"),
        exchange=str(state / "exchange"),
        jupyter_etc=str(state / "etc"),
        code_dirs=[sys.base_prefix, sys.prefix, str(code)],
        hidden_dirs=[str(state)],
        identity_dir=str(state / "identity"),
    )
    write_identity_files(str(state / "identity"))
    return mounts, code, state


def test_state_is_masked_after_the_code_that_contains_it(host):
    mounts, code, state = host
    cmd = bubblewrap_command(mounts)
    code_bind = cmd.index(str(code))
    mask = cmd.index(str(state))
    assert cmd[code_bind - 1] == "--ro-bind" and cmd[mask - 1] == "--tmpfs"
    assert code_bind < mask
    assert cmd[cmd.index(SANDBOX_DATASETS) - 2] == "--ro-bind"
    assert cmd[-1] == "--"


def test_nested_code_dirs_are_bound_once(host, tmp_path):
    mounts, code, _ = host
    nested = SandboxMounts(**{**mounts.__dict__, "code_dirs": [str(code), str(code / ".lab")]})
    cmd = bubblewrap_command(nested)
    assert cmd.count(str(code)) == 2  # bound once (source and target)


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
def test_a_process_in_the_sandbox_sees_only_what_it_may(host):
    mounts, code, state = host
    probe = r"""
import json, os, pathlib
def read_or_empty(path):
    try:
        return pathlib.Path(path).read_text()
    except OSError:
        return ""
def can_write(path):
    try:
        pathlib.Path(path).write_text("x")
        return True
    except OSError:
        return False
print(json.dumps({
    "datasets": sorted(os.listdir("/datasets")),
    "write_datasets": can_write("/datasets/new.csv"),
    "write_home": can_write("/home/ada/work.txt"),
    "write_code": can_write(%r),
    "state_listing": sorted(os.listdir(%r)),
    "bob_visible": os.path.exists(%r),
    "labels_visible": os.path.exists(%r),
    "shadow": read_or_empty("/etc/shadow"),
    "pid": os.getpid(),
    "uid": os.getuid(),
    "user": __import__("pwd").getpwuid(os.getuid()).pw_name,
}))
""" % (  # noqa: UP031 (a %-template keeps the probe's braces readable)
        str(code / "module.py"),
        str(state),
        str(state / "homes" / "bob" / "notes.txt"),
        str(state / "hidden_labels" / "test_labels.csv"),
    )
    result = subprocess.run(
        bubblewrap_command(mounts) + [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["datasets"] == ["train.csv"]
    assert seen["write_datasets"] is False
    assert seen["write_home"] is True
    assert (state / "homes" / "ada" / "work.txt").read_text() == "x"
    assert seen["write_code"] is False
    assert seen["state_listing"] == []
    assert seen["bob_visible"] is False
    assert seen["labels_visible"] is False
    assert seen["shadow"] == ""
    assert seen["pid"] < 10  # own PID namespace
    assert seen["uid"] == 1000
    assert seen["user"] == "jovyan"  # nbgrader then names the learner from JUPYTERHUB_USER
    assert (state / "public" / "new.csv").exists() is False
    assert os.listdir(state / "homes" / "bob") == ["notes.txt"]


def test_every_project_reference_is_found_for_masking():
    found = reference_modules(REPO_ROOT / "projects")
    projects = {p.name for p in (REPO_ROOT / "projects").iterdir() if (p / "project.yaml").is_file()}
    assert {os.path.basename(os.path.dirname(f)) for f in found} == projects
    assert all(f.endswith("reference.py") for f in found)


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
def test_reference_solutions_raise_a_clear_import_error_in_the_sandbox(host):
    mounts, _, _ = host
    masked = SandboxMounts(**{**mounts.__dict__, "code_dirs": [*mounts.code_dirs, str(REPO_ROOT)],
                              "masked_files": reference_modules(REPO_ROOT / "projects")})
    probe = """
import importlib, json
seen = {}
for name in ("reference", "model"):
    try:
        importlib.import_module("practicum.projects.ehr_complication_risk." + name)
        seen[name] = "imported"
    except ImportError as error:
        seen[name] = str(error)
print(json.dumps(seen))
"""
    result = subprocess.run(bubblewrap_command(masked) + [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert "reference solutions are not available" in seen["reference"]
    assert seen["model"] == "imported", "what learners build on stays importable"
    assert (REPO_ROOT / "projects" / "ehr_complication_risk" / "reference.py").read_text().startswith('"""Instructor reference')
