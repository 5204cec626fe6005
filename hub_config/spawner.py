"""The embedded lab's spawner: a local process per learner, confined by the lab's sandbox,
started from a sandbox profile (CPU, or GPU with its own device).

The process JupyterHub starts and watches is the sandbox launcher (``practicum.sandbox.serve``,
root): it puts the learner's server in its own cgroup (the profile's memory, CPU and a process
limit), runs it as the learner's own unprivileged host uid with no network of its own, and relays
only the proxy's connections in and the hub API and MLflow gateway out.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import sys
from pathlib import Path
from typing import Any

from jupyterhub.spawner import SimpleLocalProcessSpawner
from tornado import web
from traitlets import Dict, List, Unicode, default

from practicum.contracts.exchange import learner_inbound
from practicum.sandbox.identity import UidRegistry, own
from practicum.sandbox.limits import Limits

from .gpu_pool import GPUPool
from .profiles import Profile, pick_profile, profiles_for
from .sandbox import (
    SANDBOX_DATASETS,
    SANDBOX_JUPYTER_CONFIG,
    SERVER_PIDS,
    ServerMounts,
    bubblewrap_path,
    learner_server,
    server_network,
)

_pools: dict[tuple[str, ...], GPUPool] = {}


def gpu_pool_for(devices: list[str]) -> GPUPool:
    """One pool per set of devices, shared by every spawner of this hub process."""
    key = tuple(devices)
    if key not in _pools:
        _pools[key] = GPUPool(devices)
    return _pools[key]


class SandboxSpawner(SimpleLocalProcessSpawner):
    profiles = List(
        Dict(),
        config=True,
        help="""Sandbox profiles, as dicts of practicum.hub_config.profiles.Profile fields.
        A user sees those whose allowed_groups include one of their groups (or that have none).""",
    )
    gpu_devices = List(
        Unicode(),
        config=True,
        help="GPU indices of this machine that GPU sandboxes may use (each sandbox gets its own).",
    )
    sandbox_mode = Unicode(
        "bubblewrap",
        config=True,
        help="'bubblewrap' confines each server (read-only system, own home, no other files); "
        "'none' runs it as a plain local process (for machines without bubblewrap).",
    )
    public_datasets_dir = Unicode(config=True, help="Host folder of the public dataset splits, mounted read-only.")
    exchange_dir = Unicode(config=True, help="Host folder of the nbgrader exchange (released assignments), mounted read-only.")
    exchange_inbound_dir = Unicode(
        config=True,
        help="Host folder of the learners' own nbgrader inbounds: <course>/<learner>/ is mounted, writable, "
        "as the course's inbound in that learner's sandbox only.",
    )
    courses = List(Unicode(), config=True, help="Course ids whose inbound each sandbox gets.")
    uid_registry = Unicode(config=True, help="JSON file of the learners' unprivileged host uids (kept across restarts).")
    spec_dir = Unicode(config=True, help="Folder (root only) where each sandbox's launch spec is written.")
    egress = Dict(
        config=True,
        help="Services a sandbox may reach, name -> [host, port] on the host's loopback (the hub API, the MLflow gateway); "
        "inside the sandbox each is at 127.0.0.1 on the same port. Nothing else is reachable.",
    )
    cgroup_prefix = Unicode(
        "lab", config=True, help="Prefix of this lab's sandbox cgroup names (distinct per lab: labs side by side never collide)."
    )
    launcher_python = Unicode(sys.executable, config=True, help="Python that runs the sandbox launcher (practicum.sandbox.serve).")
    jupyter_etc_dir = Unicode(config=True, help="Host folder of Jupyter configuration for sandboxes (JUPYTER_CONFIG_PATH).")
    code_dirs = List(Unicode(), config=True, help="Host folders the kernel needs read-only (Python, venv, lab code).")
    hidden_dirs = List(Unicode(), config=True, help="Folders inside code_dirs that sandboxes must not see.")
    masked_files = List(Unicode(), config=True, help="Files inside code_dirs that sandboxes see as a module raising ImportError.")
    extra_env = Dict(config=True, help="Environment variables set in every sandbox.")

    _base_cmd: list[str] | None = None
    _launching = False
    active_profile: Profile | None = None

    @default("options_form")
    def _options_form_default(self) -> Any:
        return lambda spawner: spawner.render_profile_form()

    @default("apply_user_options")
    def _apply_user_options_default(self) -> Any:
        return lambda spawner, user_options: spawner.apply_profile(user_options.get("profile"))

    @property
    def all_profiles(self) -> list[Profile]:
        return [Profile(**{**p, "allowed_groups": _tuple_or_none(p.get("allowed_groups"))}) for p in self.profiles]

    def user_groups(self) -> list[str]:
        return [group.name for group in self.user.groups]

    def render_profile_form(self) -> str:
        choices = profiles_for(self.all_profiles, self.user_groups())
        if len(choices) <= 1:
            return ""
        rows = []
        for profile in choices:
            checked = " checked" if profile.default else ""
            rows.append(
                f'<label class="form-check"><input class="form-check-input" type="radio" name="profile" '
                f'value="{html.escape(profile.slug)}"{checked}> <strong>{html.escape(profile.display_name)}</strong>'
                f" — {html.escape(profile.description)}</label>"
            )
        return "<fieldset><legend>Sandbox</legend>" + "".join(rows) + "</fieldset>"

    def options_from_form(self, formdata: dict[str, list[str]]) -> dict[str, str]:
        return {"profile": formdata.get("profile", [""])[0]} if formdata.get("profile") else {}

    @property
    def sandboxed(self) -> bool:
        return self.sandbox_mode == "bubblewrap"

    @property
    def sandbox_home(self) -> str:
        return f"/home/{self.user.name}" if self.sandboxed else self.home_dir

    @property
    def _gpu_owner(self) -> str:
        return f"{self.user.name}/{self.name}"

    def user_env(self, env: dict[str, str]) -> dict[str, str]:
        env = super().user_env(env)
        env["HOME"] = self.sandbox_home
        return env

    def get_env(self) -> dict[str, str]:
        env = super().get_env()
        env.update(self.extra_env)
        env["PRACTICUM_DATA_DIR"] = SANDBOX_DATASETS if self.sandboxed else self.public_datasets_dir
        # Ahead of the venv's own config, which enables nbgrader's instructor tools.
        env["JUPYTER_CONFIG_PATH"] = SANDBOX_JUPYTER_CONFIG if self.sandboxed else self.jupyter_etc_dir
        gpus = gpu_pool_for(self.gpu_devices).held_by(self._gpu_owner)
        env["CUDA_VISIBLE_DEVICES"] = ",".join(gpus)
        env["NVIDIA_VISIBLE_DEVICES"] = ",".join(gpus) if gpus else "void"
        return env

    def get_args(self) -> list[str]:
        if self._launching:
            return []  # the launcher takes its command from the spec file
        args = super().get_args()
        if not self.sandboxed and os.geteuid() == 0:
            args.append("--ServerApp.allow_root=True")
        return args

    def apply_profile(self, slug: str | None) -> Profile:
        """Take the user's chosen (or default) profile: 400/403 for an unknown or forbidden one."""
        try:
            profile = pick_profile(self.all_profiles, self.user_groups(), slug)
        except PermissionError as exc:
            raise web.HTTPError(403, str(exc)) from None
        except ValueError as exc:
            raise web.HTTPError(400, str(exc)) from None
        self.active_profile = profile
        self.cpu_limit = profile.cpu_limit
        self.mem_limit = profile.mem_limit
        return profile

    async def start(self) -> Any:
        profile = self.active_profile or self.apply_profile(None)
        pool = gpu_pool_for(self.gpu_devices)
        gpus = pool.acquire(self._gpu_owner, profile.gpus) if profile.gpus else []
        if self._base_cmd is None:
            self._base_cmd = list(self.cmd)
        try:
            os.makedirs(self.home_dir, mode=0o755, exist_ok=True)
            if self.sandboxed:
                self.cmd = self._launcher_command(profile, gpus)
                self._launching = True
            return await super().start()
        except BaseException:
            pool.release(self._gpu_owner)
            raise
        finally:
            self._launching = False

    async def stop(self, now: bool = False) -> None:
        try:
            await super().stop(now=now)
        finally:
            gpu_pool_for(self.gpu_devices).release(self._gpu_owner)

    def _launcher_command(self, profile: Profile, gpus: list[str]) -> list[str]:
        """Write this server's launch spec and return the command that starts the launcher on it."""
        bubblewrap_path()  # a clear error now rather than a launcher that dies
        if not self.port:
            from jupyterhub.utils import random_port

            self.port = random_port()
        uid = UidRegistry(self.uid_registry).uid_for("learner", self.user.name)
        own(self.home_dir, uid)
        inbounds = {course: self._inbound(course, uid) for course in self.courses}
        mounts = ServerMounts(
            home_on_host=self.home_dir,
            home=self.sandbox_home,
            public_datasets=self.public_datasets_dir,
            exchange=self.exchange_dir,
            jupyter_etc=self.jupyter_etc_dir,
            private_inbounds=inbounds,
            code_dirs=self.code_dirs,
            hidden_dirs=self.hidden_dirs,
            masked_files=self.masked_files,
            gpu_devices=gpus,
        )
        memory = int(self.mem_limit or 4 * 1024**3)
        limits = Limits(memory_bytes=memory, cpus=float(self.cpu_limit or 1), pids=SERVER_PIDS, tmp_bytes=memory)
        launch = learner_server(
            mounts,
            command=[*self._base_cmd, *self.get_args()],
            env=self.get_env(),
            host_uid=uid,
            limits=limits,
            network=server_network(self.port, {name: (host, int(port)) for name, (host, port) in self.egress.items()}),
            name=self._cgroup_name,
        )
        os.makedirs(self.spec_dir, mode=0o700, exist_ok=True)
        path = Path(self.spec_dir) / f"{self._cgroup_name}.json"
        launch.write(path)
        return [self.launcher_python, "-m", "practicum.sandbox.serve", str(path)]

    @property
    def _cgroup_name(self) -> str:
        return server_cgroup_name(self.cgroup_prefix, self.user.name, self.name)

    def _inbound(self, course: str, uid: int) -> str:
        """This learner's own inbound of ``course``: theirs to write, readable by the course's graders."""
        folder = Path(learner_inbound(self.exchange_inbound_dir, course, self.user.name))
        folder.mkdir(parents=True, exist_ok=True)
        os.chown(folder, uid, uid)
        folder.chmod(0o755)
        return str(folder)


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def server_cgroup_name(prefix: str, user: str, server: str) -> str:
    """A cgroup (and spec file) name per server, distinct even when names differ only in odd characters."""
    digest = hashlib.sha256(f"{user}/{server}".encode()).hexdigest()[:10]
    return f"{prefix}-server-{_UNSAFE.sub('_', user)[:80]}-{_UNSAFE.sub('_', server or 'default')[:20]}-{digest}"


def _tuple_or_none(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)
