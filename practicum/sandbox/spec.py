"""What one sandbox is made of: the file system pieces it sees, its environment and its command.

A spec names only what the run needs; everything else of the host is absent (not hidden: absent),
so a mistake in a caller leaves something out rather than letting something in.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

from .limits import Limits

SANDBOX_UID = 1000  # the uid learner code has inside every sandbox (the Jupyter stacks' jovyan)
SANDBOX_USER = "jovyan"


@dataclass(frozen=True)
class Bind:
    """A host path seen at ``target`` (its own path by default); read-only unless ``writable``."""

    source: str
    target: str = ""
    writable: bool = False

    @property
    def at(self) -> str:
        return self.target or self.source


@dataclass(frozen=True)
class Tmpfs:
    """An empty, size-capped folder everyone in the sandbox may write (sticky, like /tmp); binds
    inside it stay visible. Its pages count against the sandbox's memory."""

    target: str
    size_bytes: int
    mode: int = 0o1777


@dataclass(frozen=True)
class FileContent:
    """A small read-only file made from bytes (passwd, group, a masked module)."""

    target: str
    content: bytes


@dataclass(frozen=True)
class SandboxSpec:
    """Everything a sandbox is, but its limits and where it runs.

    ``host_uid`` is the unprivileged host uid the sandbox's processes run as (uid 1000 inside).
    ``hidden`` are host folders that must stay invisible even when a bound folder contains them
    (each gets an empty tmpfs over it).
    """

    command: tuple[str, ...]
    host_uid: int
    binds: tuple[Bind, ...] = ()
    tmpfs: tuple[Tmpfs, ...] = ()
    files: tuple[FileContent, ...] = ()
    hidden: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    workdir: str = "/tmp"
    hostname: str = "sandbox"

    def __post_init__(self) -> None:
        if not self.command:
            raise ValueError("a sandbox needs a command")
        if self.host_uid == 0:
            raise ValueError("sandboxed code never runs as root: give an unprivileged host uid")
        for path in [*(b.at for b in self.binds), *(t.target for t in self.tmpfs), *(f.target for f in self.files), self.workdir]:
            if not path.startswith("/") or "/../" in f"{path}/":
                raise ValueError(f"sandbox paths are absolute and plain: {path!r}")

    def to_json(self) -> str:
        data = asdict(self)
        data["files"] = [{"target": f.target, "content": f.content.decode("latin-1")} for f in self.files]
        data["env"] = dict(self.env)
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> SandboxSpec:
        raw = json.loads(text)
        return cls(
            command=tuple(raw["command"]),
            host_uid=int(raw["host_uid"]),
            binds=tuple(Bind(**b) for b in raw.get("binds", ())),
            tmpfs=tuple(Tmpfs(**t) for t in raw.get("tmpfs", ())),
            files=tuple(FileContent(f["target"], f["content"].encode("latin-1")) for f in raw.get("files", ())),
            hidden=tuple(raw.get("hidden", ())),
            devices=tuple(raw.get("devices", ())),
            env=dict(raw.get("env", {})),
            workdir=raw.get("workdir", "/tmp"),
            hostname=raw.get("hostname", "sandbox"),
        )


@dataclass(frozen=True)
class LimitedSpec:
    """A spec with its limits: what a launcher needs to start one sandbox."""

    spec: SandboxSpec
    limits: Limits
    cgroup_name: str

    def to_json(self) -> str:
        return json.dumps({"spec": json.loads(self.spec.to_json()), "limits": asdict(self.limits), "cgroup_name": self.cgroup_name})

    @classmethod
    def from_json(cls, text: str) -> LimitedSpec:
        raw = json.loads(text)
        return cls(SandboxSpec.from_json(json.dumps(raw["spec"])), Limits(**raw["limits"]), raw["cgroup_name"])

