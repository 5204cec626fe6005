"""A learner's server sandbox, checked by running a real process inside it (the probe stands in for the server)."""

import importlib.util
import json
import os
import py_compile
import shutil
import sys
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from practicum.contracts.project_modules import reference_modules
from practicum.hub_config.sandbox import (
    ALLOWED_EGRESS,
    SANDBOX_DATASETS,
    SANDBOX_EXCHANGE,
    ServerMounts,
    learner_server,
    server_network,
)
from practicum.lab.layout import REPO_ROOT
from practicum.lab.sandboxes import code_dirs, hidden_code_dirs
from practicum.sandbox.limits import Limits
from practicum.sandbox.run import run_sandboxed

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None or os.geteuid() != 0, reason="needs bubblewrap, run as root")
LEARNER_UID = 399001


@pytest.fixture
def host(tmp_path):
    """A lab state folder with two learners, a released assignment and each learner's own inbound."""
    state = tmp_path / ".lab"
    for folder in ("homes/ada", "homes/bob", "public", "etc", "hidden_labels", "exchange/course1/outbound/hw1",
                   "exchange/course1/feedback", "inbound/course1/ada", "inbound/course1/bob/bob+hw1+2026-01-01 00:00:00 UTC+x"):
        (state / folder).mkdir(parents=True)
    (state / "public" / "train.csv").write_text("id,label\n1,0\n")
    (state / "hidden_labels" / "test_labels.csv").write_text("secret\n")
    (state / "homes" / "bob" / "notes.txt").write_text("bob's work\n")
    (state / "exchange" / "course1" / "outbound" / "hw1" / "hw1.ipynb").write_text("{}")
    os.chown(state / "homes" / "ada", LEARNER_UID, LEARNER_UID)
    os.chown(state / "inbound" / "course1" / "ada", LEARNER_UID, LEARNER_UID)
    mounts = ServerMounts(
        home_on_host=str(state / "homes" / "ada"),
        home="/home/ada",
        public_datasets=str(state / "public"),
        exchange=str(state / "exchange"),
        jupyter_etc=str(state / "etc"),
        private_inbounds={"course1": str(state / "inbound" / "course1" / "ada")},
        code_dirs=code_dirs(),
        hidden_dirs=[str(state), *hidden_code_dirs()],
        masked_files=reference_modules(REPO_ROOT / "projects"),
    )
    return mounts, state


def run_probe(mounts, tmp_path, probe: str) -> dict:
    launch = learner_server(
        mounts, command=[sys.executable, "-c", probe], env={"HOME": "/home/ada"}, host_uid=LEARNER_UID,
        limits=Limits(memory_bytes=2 << 30, cpus=1), network=server_network(8888, {}), name=f"test-{uuid.uuid4().hex[:8]}",
    )
    result = tmp_path / f"result-{uuid.uuid4().hex[:6]}.json"
    outcome = run_sandboxed(launch.sandbox.spec, replace(launch.sandbox.limits, wall_seconds=60), result_path=result, cgroup_name=launch.sandbox.cgroup_name)
    assert outcome.ok, outcome.log
    return json.loads(result.read_text())


PROBE = r"""
import json, os, pathlib, pwd
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
inbound = "%(exchange)s/course1/inbound"
print(json.dumps({
    "datasets": sorted(os.listdir("/datasets")),
    "write_datasets": can_write("/datasets/new.csv"),
    "write_home": can_write("/home/ada/work.txt"),
    "write_code": can_write(%(code)r),
    "state_visible": os.path.exists(%(state)r),
    "bob_visible": os.path.exists(%(bob)r),
    "labels_visible": os.path.exists(%(labels)r),
    "shadow": read_or_empty("/etc/shadow") + read_or_empty("/etc/shadow-"),
    "released": sorted(os.listdir("%(exchange)s/course1/outbound/hw1")),
    "plant_in_release": can_write("%(exchange)s/course1/outbound/hw1/planted.py"),
    "submit": can_write(inbound + "/ada+hw1+now+x"),
    "other_inbounds": sorted(os.listdir(inbound)),
    "pid": os.getpid(),
    "uid": os.getuid(),
    "user": pwd.getpwuid(os.getuid()).pw_name,
}))
"""


@needs_bwrap
def test_a_learner_server_sees_only_what_it_may(host, tmp_path):
    mounts, state = host
    seen = run_probe(mounts, tmp_path, PROBE % {
        "exchange": SANDBOX_EXCHANGE, "code": str(REPO_ROOT / "practicum" / "__init__.py"), "state": str(state / "homes"),
        "bob": str(state / "homes" / "bob" / "notes.txt"), "labels": str(state / "hidden_labels" / "test_labels.csv"),
    })
    assert seen["datasets"] == ["train.csv"] and seen["write_datasets"] is False
    assert seen["write_home"] is True
    assert (state / "homes" / "ada" / "work.txt").stat().st_uid == LEARNER_UID  # the learner's own host uid, not root
    assert seen["write_code"] is False
    assert seen["state_visible"] is False and seen["bob_visible"] is False and seen["labels_visible"] is False
    assert seen["shadow"] == ""
    assert seen["released"] == ["hw1.ipynb"] and seen["plant_in_release"] is False
    assert seen["submit"] is True and seen["other_inbounds"] == ["ada+hw1+now+x"]  # bob's submission is not there
    assert (state / "inbound" / "course1" / "ada" / "ada+hw1+now+x").exists()
    assert seen["pid"] < 10  # own PID namespace
    assert seen["uid"] == 1000 and seen["user"] == "jovyan"  # nbgrader then names the learner from JUPYTERHUB_USER
    assert not (state / "public" / "new.csv").exists()
    assert os.listdir(state / "homes" / "bob") == ["notes.txt"]


@needs_bwrap
def test_reference_solutions_raise_a_clear_import_error_in_the_sandbox(host, tmp_path):
    mounts, _ = host
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
    seen = run_probe(mounts, tmp_path, probe)
    assert "reference solutions are not available" in seen["reference"]
    assert seen["model"] == "imported", "what learners build on stays importable"
    assert (REPO_ROOT / "projects" / "ehr_complication_risk" / "reference.py").read_text().startswith('"""Instructor reference')


@needs_bwrap
def test_a_cached_bytecode_of_a_reference_cannot_be_loaded_in_the_sandbox(host, tmp_path):
    mounts, _ = host
    source = next(iter(reference_modules(REPO_ROOT / "projects")))
    cached = Path(importlib.util.cache_from_source(source))
    made = not cached.exists()
    if made:
        py_compile.compile(source, cfile=str(cached), doraise=True)  # what a host import leaves behind
    try:
        seen = run_probe(mounts, tmp_path, BYTECODE_PROBE % {"cached": str(cached), "project": Path(source).parent.name})
    finally:
        if made:
            cached.unlink()
    assert seen == {"loaded": False}


BYTECODE_PROBE = """
import importlib.machinery, importlib.util, json
name = "practicum.projects.%(project)s.stolen_reference"  # inside the package: its relative imports resolve
try:
    loader = importlib.machinery.SourcelessFileLoader(name, %(cached)r)
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(name, loader))
    loader.exec_module(module)
    loaded = hasattr(module, "train_reference")
except (ImportError, OSError):
    loaded = False
print(json.dumps({"loaded": loaded}))
"""


def test_every_project_reference_is_found_for_masking():
    found = reference_modules(REPO_ROOT / "projects")
    projects = {p.name for p in (REPO_ROOT / "projects").iterdir() if (p / "project.yaml").is_file()}
    assert {os.path.basename(os.path.dirname(f)) for f in found} == projects
    assert all(f.endswith("reference.py") for f in found)


def test_a_server_reaches_only_the_hub_api_mlflow_and_the_grading_service():
    network = server_network(8888, {"hub-api": ("127.0.0.1", 8081), "mlflow": ("127.0.0.1", 8085), "grading": ("127.0.0.1", 8086)})
    assert [o.name for o in network.outbound] == list(ALLOWED_EGRESS)
    assert [(i.host_port, i.inner_port) for i in network.inbound] == [(8888, 8888)]
    with pytest.raises(ValueError, match="only hub-api, mlflow, grading may be reachable"):
        server_network(8888, {"postgres": ("127.0.0.1", 5432)})


def test_the_datasets_are_at_their_documented_place():
    assert SANDBOX_DATASETS == "/datasets"
