"""The running lab as seen from outside: written by `up`, read by `status` and `down`."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ServiceEndpoint:
    name: str
    url: str
    health_url: str
    # A service the hub runs without an HTTP endpoint is checked through the hub API.
    hub_service: str | None = None


@dataclass(frozen=True)
class LabState:
    lab_id: str
    supervisor_pid: int
    state_dir: str
    public_url: str
    hub_api_url: str
    mlflow_url: str
    sandbox: str
    services: list[ServiceEndpoint] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> LabState:
        raw = json.loads(text)
        raw["services"] = [ServiceEndpoint(**s) for s in raw.get("services", [])]
        return cls(**raw)


def write_state(path: Path, state: LabState) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(state.to_json())
    os.replace(tmp, path)


def read_state(path: Path) -> LabState | None:
    try:
        return LabState.from_json(path.read_text())
    except FileNotFoundError:
        return None
