import asyncio
import json
import os
from dataclasses import asdict
from pathlib import Path
from types import SimpleNamespace

import pytest
from jupyterhub.spawner import LocalProcessSpawner
from tornado import web
from traitlets.config import Config

from practicum.contracts.exchange import learner_inbound
from practicum.hub_config import kubernetes as k8s
from practicum.hub_config import spawner as spawner_module
from practicum.hub_config.gpu_pool import NoFreeGPU
from practicum.hub_config.profiles import GPU_GROUP, build_profiles
from practicum.hub_config.sandbox import SANDBOX_EXCHANGE
from practicum.hub_config.spawner import SandboxSpawner


def make_spawner(tmp_path, name: str, groups: list[str], devices=("0", "1"), mode="bubblewrap") -> SandboxSpawner:
    c = Config()
    c.SandboxSpawner.profiles = [asdict(p) for p in build_profiles(gpus_available=bool(devices))]
    c.SandboxSpawner.gpu_devices = list(devices)
    c.SandboxSpawner.sandbox_mode = mode
    c.SandboxSpawner.public_datasets_dir = str(tmp_path / "public")
    c.SandboxSpawner.exchange_dir = str(tmp_path / "exchange")
    c.SandboxSpawner.exchange_inbound_dir = str(tmp_path / "exchange-inbound")
    c.SandboxSpawner.courses = ["course1"]
    c.SandboxSpawner.uid_registry = str(tmp_path / "uids.json")
    c.SandboxSpawner.spec_dir = str(tmp_path / "specs")
    c.SandboxSpawner.egress = {"hub-api": ["127.0.0.1", 8081], "mlflow": ["127.0.0.1", 8085]}
    c.SandboxSpawner.jupyter_etc_dir = str(tmp_path / "etc")
    c.SandboxSpawner.home_dir_template = str(tmp_path / "homes" / "{username}")
    c.SandboxSpawner.cmd = ["jupyterhub-singleuser"]
    user = SimpleNamespace(name=name, groups=[SimpleNamespace(name=g) for g in groups], url=f"/user/{name}/")
    hub = SimpleNamespace(
        public_host="", url="http://127.0.0.1:8081/hub/", base_url="/hub/", api_url="http://127.0.0.1:8081/hub/api"
    )
    return SandboxSpawner(user=user, hub=hub, config=c)


@pytest.fixture(autouse=True)
def fresh_gpu_pools(monkeypatch):
    monkeypatch.setattr(spawner_module, "_pools", {})


@pytest.fixture
def started(monkeypatch):
    """Replace the process start with a recorder of the command and environment."""
    calls = []

    async def fake_start(self):
        launch = json.loads(Path(self.cmd[-1]).read_text()) if self.cmd[:3] == [self.launcher_python, "-m", "practicum.sandbox.serve"] else None
        calls.append({"cmd": list(self.cmd), "env": self.get_env(), "launch": launch})
        return ("127.0.0.1", 12345)

    monkeypatch.setattr(LocalProcessSpawner, "start", fake_start)
    monkeypatch.setattr(LocalProcessSpawner, "stop", lambda self, now=False: asyncio.sleep(0))
    monkeypatch.setattr(spawner_module, "bubblewrap_path", lambda: "/usr/bin/bwrap")
    monkeypatch.setattr(spawner_module, "own", lambda path, uid, always=False: None if os.geteuid() else os.chown(path, uid, uid))
    return calls


def test_profile_form_lists_only_allowed_profiles(tmp_path):
    learner = make_spawner(tmp_path, "ada", [])
    assert learner.render_profile_form() == ""  # one choice: no form
    gpu_user = make_spawner(tmp_path, "bob", [GPU_GROUP])
    form = gpu_user.render_profile_form()
    assert 'value="cpu" checked' in form and 'value="gpu"' in form


def test_forbidden_and_unknown_profiles_are_refused_with_http_errors(tmp_path):
    learner = make_spawner(tmp_path, "ada", [])
    with pytest.raises(web.HTTPError) as forbidden:
        learner.apply_profile("gpu")
    assert forbidden.value.status_code == 403
    with pytest.raises(web.HTTPError) as unknown:
        learner.apply_profile("quantum")
    assert unknown.value.status_code == 400


def test_profile_sets_limits(tmp_path):
    gpu_user = make_spawner(tmp_path, "bob", [GPU_GROUP])
    gpu_user.apply_profile("gpu")
    assert gpu_user.cpu_limit == 8.0
    assert gpu_user.mem_limit == 32 * 1024**3


def test_gpu_sandboxes_get_distinct_devices_and_cpu_sandboxes_none(tmp_path, started):
    first, second, third = (make_spawner(tmp_path, n, [GPU_GROUP]) for n in ("u1", "u2", "u3"))
    for s in (first, second):
        s.apply_profile("gpu")
        asyncio.run(s.start())
    envs = [call["env"] for call in started]
    assert [e["CUDA_VISIBLE_DEVICES"] for e in envs] == ["0", "1"]
    assert started[0]["launch"]["sandbox"]["spec"]["devices"][0] == "/dev/nvidia0"
    assert "/dev/nvidia1" not in started[0]["launch"]["sandbox"]["spec"]["devices"]

    third.apply_profile("gpu")
    with pytest.raises(NoFreeGPU):
        asyncio.run(third.start())

    asyncio.run(first.stop())
    asyncio.run(third.start())
    assert started[-1]["env"]["CUDA_VISIBLE_DEVICES"] == "0"

    cpu = make_spawner(tmp_path, "u4", [GPU_GROUP])
    cpu.apply_profile("cpu")
    asyncio.run(cpu.start())
    assert started[-1]["env"]["CUDA_VISIBLE_DEVICES"] == ""
    assert started[-1]["launch"]["sandbox"]["spec"]["devices"] == []


def test_sandboxed_command_and_environment(tmp_path, started, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    spawner = make_spawner(tmp_path, "ada", [], devices=())
    spawner.apply_profile(None)
    asyncio.run(spawner.start())
    launch = started[0]["launch"]
    spec, limits, bridge = launch["sandbox"]["spec"], launch["sandbox"]["limits"], launch["bridge"]
    assert spec["command"][0] == "jupyterhub-singleuser"
    assert spec["env"]["HOME"] == "/home/ada"
    assert spec["env"]["PRACTICUM_DATA_DIR"] == "/datasets"
    assert spec["env"]["JUPYTER_CONFIG_PATH"] == "/srv/practicum/jupyter-config"
    assert spec["host_uid"] >= 300000 and spec["host_uid"] == Path(tmp_path / "homes" / "ada").stat().st_uid
    assert limits["memory_bytes"] == 4 * 1024**3 and limits["cpus"] == 2.0  # the CPU profile, enforced by the launcher's cgroup
    assert [o["name"] for o in bridge["outbound"]] == ["hub-api", "mlflow"]
    inbound = Path(tmp_path / "exchange-inbound" / "course1" / "ada")
    assert {"source": str(inbound), "target": "/srv/nbgrader/exchange/course1/inbound", "writable": True} in spec["binds"]
    assert (Path(tmp_path / "specs") / Path(started[0]["cmd"][-1]).name).stat().st_mode & 0o077 == 0  # root only


def test_unsandboxed_mode_runs_the_plain_command(tmp_path, started):
    spawner = make_spawner(tmp_path, "ada", [], devices=(), mode="none")
    spawner.apply_profile(None)
    asyncio.run(spawner.start())
    cmd, env = started[0]["cmd"], started[0]["env"]
    assert cmd == ["jupyterhub-singleuser"]
    assert env["PRACTICUM_DATA_DIR"] == str(tmp_path / "public")
    assert env["HOME"] == str(tmp_path / "homes" / "ada")


def test_local_and_kubernetes_inbounds_have_one_layout(tmp_path, started):
    """A learner's inbound of a course is the same folder of the inbounds root on both paths: the local
    bind's source here, the kubelet's expansion of the Kubernetes subPathExpr in a user pod."""
    spawner = make_spawner(tmp_path, "ada.l-", [], devices=())
    spawner.apply_profile(None)
    asyncio.run(spawner.start())
    binds = started[0]["launch"]["sandbox"]["spec"]["binds"]
    (local,) = [b for b in binds if b["target"] == f"{SANDBOX_EXCHANGE}/course1/inbound"]

    mounts = k8s.learner_exchange(["course1"], image="image:1").volume_mounts
    (kube,) = [m for m in mounts.values() if m["mountPath"] == f"{SANDBOX_EXCHANGE}/course1/inbound"]
    expanded = kube["subPathExpr"].replace("$(JUPYTERHUB_USER)", "ada.l-")  # the container's JUPYTERHUB_USER
    relative = Path(local["source"]).relative_to(tmp_path / "exchange-inbound").as_posix()
    assert relative == expanded == learner_inbound("", "course1", "ada.l-") == "course1/ada.l-"
    assert local["writable"] is True and not kube.get("readOnly")


def test_a_name_that_cannot_be_an_inbound_folder_gets_no_sandbox(tmp_path, started):
    """The collector would never collect its submissions (graders.exchange._LEARNER); Kubernetes refuses it too."""
    spawner = make_spawner(tmp_path, "ada+lovelace", [], devices=())
    spawner.apply_profile(None)
    with pytest.raises(ValueError, match="inbound"):
        asyncio.run(spawner.start())
    assert started == []
    assert not (tmp_path / "exchange-inbound" / "course1" / "ada+lovelace").exists()
