"""Helpers of the grading service tests: a model, settings on a fresh database, archives, an LMS stand-in."""

from __future__ import annotations

import io
import json
import tarfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import mlflow.pyfunc

from practicum.demo import age_risk_model
from practicum.grading.archives import pack_submission
from practicum.grading.context import GradingContext
from practicum.grading.intake import Receipt, receive, submit
from practicum.grading.settings import GradingSettings
from practicum.sandbox.cgroups import sweep_stale

REPO = Path(__file__).resolve().parents[2]
PROJECT = "ehr_complication_risk"


def age_risk_archive(folder: Path) -> bytes:
    mlflow.pyfunc.save_model(str(folder), python_model=age_risk_model())
    return pack_submission(folder)


def settings_for(tmp_path: Path, build: Path, **changes) -> GradingSettings:
    values = dict(
        state_dir=tmp_path / "grading",
        database_url=f"sqlite:///{tmp_path / 'grading.sqlite'}",
        datasets_dir=build,
        projects_dir=REPO / "projects",
        tracking_uri=f"sqlite:///{tmp_path / 'mlflow.sqlite'}",
        lease_seconds=5.0,
        poll_seconds=0.1,
    )
    values.update(changes)
    return GradingSettings(**values)


def submit_bytes(context: GradingContext, data: bytes, *, learner: str = "ada", item_id: str = PROJECT, **kwargs) -> Receipt:
    return submit(context, learner=learner, item_id=item_id, upload=receive(context, data), **kwargs)


def tar_of(members: dict[str, bytes], *, links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return buffer.getvalue()


@dataclass
class LmsStandIn:
    """Takes POST /results like the LMS (idempotent by submission id), or answers 503 while down, or
    ``refusal`` (e.g. 404: the item is not in its catalog) while set."""

    url: str = ""
    down: bool = False
    refusal: int | None = None
    posts: list[dict] = field(default_factory=list)
    stored: dict[str, dict] = field(default_factory=dict)


@contextmanager
def running_lms_stand_in() -> Iterator[LmsStandIn]:
    stand_in = LmsStandIn()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            stand_in.posts.append(body)
            if stand_in.down:
                status = 503
            elif stand_in.refusal is not None:
                status = stand_in.refusal
            else:
                status = 200 if body["submission_id"] in stand_in.stored else 201
                stand_in.stored.setdefault(body["submission_id"], body)
            payload = json.dumps({"submission_id": body["submission_id"]}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stand_in.url = f"http://127.0.0.1:{server.server_port}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield stand_in
    server.shutdown()


def sandbox_cgroup_names() -> set[str]:
    """The grading and scoring cgroups under this process's own (memory or v2) cgroup."""
    names: set[str] = set()
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controllers not in ("memory", ""):
            continue
        mount = Path("/sys/fs/cgroup/memory") if controllers == "memory" else Path("/sys/fs/cgroup")
        parent = mount / path.lstrip("/") / "practicum"
        if parent.is_dir():
            names |= {p.name for p in parent.iterdir() if p.is_dir() and p.name.startswith(("grading-", "scoring-"))}
    return names


@contextmanager
def sweeping_killed_sandboxes() -> Iterator[None]:
    """A worker SIGKILLed mid-grade cannot remove its sandbox's cgroup: remove the ones made meanwhile
    and left behind (other suites check that none is)."""
    before = sandbox_cgroup_names()
    try:
        yield
    finally:
        for name in sandbox_cgroup_names() - before:
            sweep_stale(name)
