"""What a learner's server and a course's formgrader are made of, as sandboxes of ``practicum.sandbox``.

A learner's server sees read-only pieces (system, Python, the lab's code with the instructor
references masked), its own home, the public datasets read-only at ``/datasets``, the released
assignments read-only and its *own* nbgrader inbound (nobody else's), and, through the network
bridge, only the hub API and the MLflow gateway. A formgrader sees its course folder and the
exchange of that course. Neither sees the lab's state, other learners' homes or hidden labels.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from practicum.contracts.project_modules import MASKED_REFERENCE
from practicum.sandbox.bridge import BridgeSpec, Inbound, Outbound
from practicum.sandbox.identity import identity_files
from practicum.sandbox.limits import Limits
from practicum.sandbox.serve import ServeSpec
from practicum.sandbox.spec import Bind, FileContent, LimitedSpec, SandboxSpec, Tmpfs

SANDBOX_DATASETS = "/datasets"
SANDBOX_EXCHANGE = "/srv/nbgrader/exchange"
SANDBOX_JUPYTER_CONFIG = "/srv/practicum/jupyter-config"
# What a server's kernel may reach; the Kubernetes NetworkPolicy allows the same (kubernetes.py).
ALLOWED_EGRESS = ("hub-api", "mlflow", "grading")
SERVER_PIDS = 4096
# nbgrader wants a writable exchange root; each learner's is a private, nearly empty folder of their own.
EXCHANGE_VIEW_BYTES = 1024 * 1024
class SandboxUnavailable(RuntimeError):
    """bubblewrap is not installed."""


def bubblewrap_path() -> str:
    path = shutil.which("bwrap")
    if path is None:
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed: install it (apt-get install bubblewrap) "
            "or start the lab with --sandbox none"
        )
    return path


@dataclass(frozen=True)
class ServerMounts:
    home_on_host: str
    home: str
    public_datasets: str
    exchange: str  # the released assignments and feedback of every course, read-only
    jupyter_etc: str
    # course id -> this learner's own inbound folder, seen as <exchange>/<course>/inbound
    private_inbounds: Mapping[str, str] = field(default_factory=dict)
    # Read-only code the kernel needs: the Python installation, the venv, the lab's rooms.
    code_dirs: Sequence[str] = ()
    # Folders that must stay invisible even inside code_dirs (the lab's state folder).
    hidden_dirs: Sequence[str] = ()
    # Files inside code_dirs that read as a module raising ImportError (the instructor references).
    masked_files: Sequence[str] = ()
    gpu_devices: Sequence[str] = ()


def server_network(port: int, egress: Mapping[str, tuple[str, int]]) -> BridgeSpec:
    """The proxy reaches the server on 127.0.0.1:port; inside, each allowed service keeps its own port."""
    unknown = set(egress) - set(ALLOWED_EGRESS)
    if unknown:
        raise ValueError(f"only {', '.join(ALLOWED_EGRESS)} may be reachable from a sandbox, not {', '.join(sorted(unknown))}")
    return BridgeSpec(
        inbound=(Inbound(host_port=port, inner_port=port),),
        outbound=tuple(Outbound(name, target_port, target_host, target_port) for name, (target_host, target_port) in egress.items()),
    )


def learner_server(
    mounts: ServerMounts,
    *,
    command: Sequence[str],
    env: Mapping[str, str],
    host_uid: int,
    limits: Limits,
    network: BridgeSpec,
    name: str,
) -> ServeSpec:
    binds = [
        *(Bind(path) for path in mounts.code_dirs),
        Bind(mounts.home_on_host, mounts.home, writable=True),
        Bind(mounts.public_datasets, SANDBOX_DATASETS),
        Bind(mounts.jupyter_etc, SANDBOX_JUPYTER_CONFIG),
    ]
    for course, inbound in sorted(mounts.private_inbounds.items()):
        for part in ("outbound", "feedback"):  # released assignments and feedback: read-only
            if os.path.isdir(os.path.join(mounts.exchange, course, part)):
                binds.append(Bind(os.path.join(mounts.exchange, course, part), f"{SANDBOX_EXCHANGE}/{course}/{part}"))
        binds.append(Bind(inbound, f"{SANDBOX_EXCHANGE}/{course}/inbound", writable=True))
    exchange_view = (Tmpfs(SANDBOX_EXCHANGE, EXCHANGE_VIEW_BYTES),)
    return _serve(mounts, binds, command, env, host_uid, limits, network, name, workdir=mounts.home, tmpfs=exchange_view)


def formgrader(
    mounts: ServerMounts,
    *,
    course_id: str,
    course_root: str,
    course_inbounds: str,
    command: Sequence[str],
    env: Mapping[str, str],
    host_uid: int,
    limits: Limits,
    network: BridgeSpec,
    name: str,
    extra_read_only: Sequence[str] = (),
    pass_env: Sequence[str] = (),
) -> ServeSpec:
    """A course's formgrader: its course folder and its part of the exchange writable, every
    learner's inbound of that course read-only (to collect), the public datasets (to autograde
    project notebooks). Other courses' folders and submissions are not there. It runs no learner
    code: its grading kernel refuses to start inside a sandbox (autograding is the grader's job)."""
    binds = [
        *(Bind(path) for path in mounts.code_dirs),
        Bind(mounts.home_on_host, mounts.home, writable=True),
        Bind(course_root, writable=True),
        Bind(mounts.exchange),
        Bind(os.path.join(mounts.exchange, course_id), writable=True),
        Bind(course_inbounds),
        Bind(mounts.public_datasets),
        *(Bind(path) for path in extra_read_only),
    ]
    return _serve(mounts, binds, command, env, host_uid, limits, network, name, workdir=course_root, pass_env=pass_env)


def _serve(
    mounts: ServerMounts,
    binds: list[Bind],
    command: Sequence[str],
    env: Mapping[str, str],
    host_uid: int,
    limits: Limits,
    network: BridgeSpec,
    name: str,
    *,
    workdir: str,
    pass_env: Sequence[str] = (),
    tmpfs: Sequence[Tmpfs] = (),
) -> ServeSpec:
    passwd, group = identity_files(home=mounts.home)
    devices = [f"/dev/nvidia{d}" for d in mounts.gpu_devices]
    if mounts.gpu_devices:
        devices += [d for d in ("/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools") if os.path.exists(d)]
    spec = SandboxSpec(
        command=tuple(command),
        host_uid=host_uid,
        binds=tuple(binds),
        tmpfs=tuple(tmpfs),
        files=(passwd, group, *(FileContent(path, MASKED_REFERENCE.read_bytes()) for path in mounts.masked_files)),
        hidden=tuple(mounts.hidden_dirs),
        devices=tuple(devices),
        env=dict(env),
        workdir=workdir,
        hostname="sandbox",
    )
    return ServeSpec(LimitedSpec(spec, limits, cgroup_name=name), network, tuple(pass_env))
