"""The lab's part of sandboxing: what code sandboxes see, the grading kernel, the formgraders' sandboxes.

Everything here runs in ``practicum up`` before the hub starts, as root: it gives each course's
folder and its part of the exchange to the course's unprivileged uid, installs the sandboxed
grading kernelspec where only graders look for it, and writes each formgrader's launch spec.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from practicum.contracts.project_modules import reference_caches, reference_modules
from practicum.graders.sandboxed_kernel import CONFIG_ENV, KernelSandbox, write_kernelspec
from practicum.hub_config.sandbox import ServerMounts, formgrader, server_network
from practicum.hub_config.settings import CourseService, HubSettings
from practicum.sandbox.cgroups import cgroups_available, sweep_stale
from practicum.sandbox.identity import UidRegistry, own
from practicum.sandbox.limits import Limits, parse_memory
from practicum.sandbox.mounts import lab_code_binds, python_binds

from .layout import REPO_ROOT, StateLayout, venv_bin

FORMGRADER_MEMORY = "4G"
FORMGRADER_CPUS = 2.0


def cgroup_prefix(layout: StateLayout) -> str:
    """What this lab's servers' cgroups are named with: two labs on one machine (other state folders)
    neither collide nor sweep each other's sandboxes; a restart of the same lab finds its leftovers."""
    return "lab-" + hashlib.sha256(str(layout.root.resolve()).encode()).hexdigest()[:10]


def code_dirs() -> tuple[str, ...]:
    """What every sandbox gets read-only: the Python installation, the venv and the lab's rooms."""
    return tuple(b.source for b in [*python_binds(), *lab_code_binds(REPO_ROOT / "practicum")])


def masked_files() -> tuple[str, ...]:
    return reference_modules(REPO_ROOT / "projects")


def hidden_code_dirs() -> tuple[str, ...]:
    """Folders inside the lab's code that sandboxes see empty (the references' bytecode caches)."""
    return reference_caches(REPO_ROOT / "projects")


def grading_environment(layout: StateLayout) -> dict[str, str]:
    """What nbgrader needs to execute notebooks with the sandboxed grading kernel."""
    return {"JUPYTER_PATH": str(layout.grading_kernels / "share"), CONFIG_ENV: str(layout.grading_kernels / "sandbox.json")}


def prepare_grading_kernel(layout: StateLayout, datasets_dir: Path) -> None:
    write_kernelspec(layout.grading_kernels / "share", python=sys.executable)
    KernelSandbox(code_dirs=code_dirs(), public_datasets=str(datasets_dir), masked_files=masked_files(), hidden_dirs=hidden_code_dirs()).write(
        layout.grading_kernels / "sandbox.json"
    )
    own(layout.grading_kernels, 0, always=True)
    for folder, _, files in os.walk(layout.grading_kernels):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)


def course_uid(layout: StateLayout, course_id: str) -> int:
    return UidRegistry(layout.sandbox_uids).uid_for("course", course_id)


def give_course_to_its_uid(layout: StateLayout, course: CourseService) -> None:
    """The formgrader runs as the course's uid: it owns its course folder and its part of the exchange."""
    uid = course_uid(layout, course.course_id)
    home = layout.formgrader_homes / course.course_id
    home.mkdir(parents=True, exist_ok=True)
    for folder in (Path(course.root), layout.exchange / course.course_id, home):
        folder.mkdir(parents=True, exist_ok=True)
        own(folder, uid, always=True)


def write_formgrader_spec(layout: StateLayout, settings: HubSettings, course: CourseService) -> Path:
    """The launch spec of one course's formgrader sandbox; returns its path."""
    home = layout.formgrader_homes / course.course_id
    mounts = ServerMounts(
        home_on_host=str(home),
        home=str(home),
        public_datasets=settings.public_datasets_dir,
        exchange=settings.exchange_dir,
        jupyter_etc="",
        code_dirs=settings.code_dirs,
        hidden_dirs=(settings.state_dir, *settings.hidden_code_dirs),
        masked_files=settings.masked_files,
    )
    memory = parse_memory(FORMGRADER_MEMORY)
    launch = formgrader(
        mounts,
        course_id=course.course_id,
        course_root=course.root,
        course_inbounds=str(layout.exchange_inbound / course.course_id),
        extra_read_only=(str(layout.grading_kernels),),
        command=[str(venv_bin() / "jupyterhub-singleuser")],
        env={
            "PRACTICUM_LAB_ID": settings.lab_id,
            "JUPYTERHUB_DEFAULT_URL": "/lab",
            "HOME": str(home),
            "PATH": f"{venv_bin()}:/usr/local/bin:/usr/bin:/bin",
            "PRACTICUM_DATA_DIR": settings.public_datasets_dir,
            **grading_environment(layout),
        },
        pass_env=("JUPYTERHUB_*",),
        host_uid=course_uid(layout, course.course_id),
        limits=Limits(memory_bytes=memory, cpus=FORMGRADER_CPUS, pids=2048, tmp_bytes=memory),
        network=server_network(course.port, {"hub-api": (settings.ip, settings.hub_port)}),
        name=f"{settings.sandbox_cgroup_prefix}-formgrader-{course.course_id}",
    )
    path = layout.sandbox_specs / f"formgrader-{course.course_id}.json"
    launch.write(path)
    return path


def sweep_leftovers(layout: StateLayout) -> None:
    """The sandbox cgroups of servers this lab left behind when it crashed (their processes died with
    their launchers); other labs' are not touched."""
    if cgroups_available() is not None:
        sweep_stale(cgroup_prefix(layout) + "-")
