"""Hold one long-running sandbox (a learner's server, a formgrader, an autograded kernel) until it ends.

    python -m practicum.sandbox.serve SPEC_FILE

``SPEC_FILE`` (JSON, written by the spawner where no sandbox can read it) holds a ``LimitedSpec``
and a ``BridgeSpec``. This launcher runs as root and stays outside the sandbox: it creates the
sandbox's cgroup, starts the network broker (the sandbox's only way to the hub API and MLflow, and
the proxy's only way in), starts the two-stage bubblewrap command inside the cgroup, and on SIGTERM
or SIGINT stops everything in the cgroup (SIGTERM, then SIGKILL after a grace period). Its exit
status is the sandbox's.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, replace
from pathlib import Path

from .bridge import BridgeSpec, HostBroker, relay_command
from .cgroups import Cgroup, CgroupLimits, cgroups_available
from .command import prepare
from .spec import LimitedSpec

log = logging.getLogger(__name__)
GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class ServeSpec:
    """A sandbox, its network bridge, and the launcher's environment variables it takes over
    (names, or prefixes ending in ``*``: what JupyterHub gives a service only when it starts it)."""

    sandbox: LimitedSpec
    bridge: BridgeSpec
    pass_env: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps({
            "sandbox": json.loads(self.sandbox.to_json()),
            "bridge": json.loads(self.bridge.to_json()),
            "pass_env": list(self.pass_env),
        })

    @classmethod
    def from_json(cls, text: str) -> ServeSpec:
        raw = json.loads(text)
        return cls(
            LimitedSpec.from_json(json.dumps(raw["sandbox"])),
            BridgeSpec.from_json(json.dumps(raw["bridge"])),
            tuple(raw.get("pass_env", ())),
        )

    def environment(self, launcher_env: dict[str, str]) -> dict[str, str]:
        """The sandbox's environment: the spec's, plus the passed-through variables of the launcher."""
        passed = {
            name: value for name, value in launcher_env.items()
            if any(name == p or (p.endswith("*") and name.startswith(p[:-1])) for p in self.pass_env)
        }
        return {**self.sandbox.spec.env, **passed}

    def write(self, path: Path) -> None:
        """Write where only the launcher (root) reads it: it names host paths and ports."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(self.to_json())


def serve(spec: ServeSpec, python: str = sys.executable) -> int:
    """Run the sandbox until it exits; returns its exit status."""
    limited = spec.sandbox
    cgroup = None
    if cgroups_available() is not None:
        limits = limited.limits
        cgroup = Cgroup.create(limited.cgroup_name, CgroupLimits(memory_bytes=limits.memory_bytes, pids=limits.pids, cpus=limits.cpus))
    broker = HostBroker(spec.bridge)
    stopping = threading.Event()
    process: subprocess.Popen[bytes] | None = None
    prepared = None
    try:
        broker.start()
        inner = replace(
            limited.spec,
            command=(*relay_command(spec.bridge, broker.sandbox_fd, python), *limited.spec.command),
            env=spec.environment(dict(os.environ)),
        )
        prepared = prepare(inner, limited.limits)
        process = subprocess.Popen(
            prepared.argv,
            stdin=subprocess.DEVNULL,
            pass_fds=[*prepared.fds, broker.sandbox_fd],
            preexec_fn=cgroup.join if cgroup is not None else None,
        )
        prepared.close()
        broker.close_sandbox_end()  # only the sandbox holds it now: the broker sees the relay end

        def stop(signum: int, frame: object) -> None:
            if not stopping.is_set():
                stopping.set()
                threading.Thread(target=_stop, args=(process, cgroup), daemon=True).start()

        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, stop)
        status = process.wait()
        return status if status >= 0 else 128 - status
    finally:
        if process is not None and process.poll() is None:
            _stop(process, cgroup)
        if prepared is not None:
            prepared.close()
        broker.close()
        if cgroup is not None:
            cgroup.remove()


def _stop(process: subprocess.Popen[bytes], cgroup: Cgroup | None) -> None:
    """SIGTERM to every process of the sandbox, SIGKILL to what is left after the grace period."""
    for pid in cgroup.processes() if cgroup is not None else [process.pid]:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    try:
        process.wait(timeout=GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        pass
    if cgroup is not None:
        cgroup.kill()
    if process.poll() is None:
        process.kill()
        process.wait()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="[practicum.sandbox] %(message)s")
    return serve(ServeSpec.from_json(Path(args[0]).read_text()))


if __name__ == "__main__":
    sys.exit(main())
