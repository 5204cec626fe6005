"""Shared by the LMS benchmarks: a database per backend, the LMS in a uvicorn subprocess, a load loop.

The load generator is a minimal HTTP/1.1 keep-alive client on asyncio streams (uvloop when it is
installed): on a small machine the client shares the CPU with the server, and httpx's per-request
cost would be measured instead. Each run reports what the machine was doing (load average, cores),
the CPU seconds the server and the client used per request (from /proc), so runs on a busy machine
can be compared, and how much of the machine the server got.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

PREFIX = "/services/lms/"
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
# One worker: the app object, as `python -m practicum.lms_api` serves it. More workers (for reference):
# uvicorn needs an import string, and each worker builds its own app from the environment.
SERVER_CODE = """
import sys
import uvicorn
from practicum.lms_api.app import create_app
from practicum.lms_api.settings import get_settings
settings = get_settings()
workers, loop, http = int(sys.argv[1]), sys.argv[2], sys.argv[3]
target = create_app(settings) if workers == 1 else "practicum.lms_api.app:create_app"
uvicorn.run(target, factory=workers > 1, host=settings.bind_host, port=settings.bind_port, workers=workers,
            loop=loop, http=http, log_level="warning", access_log=False)
"""


@contextmanager
def database(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.sqlite'}"
        return
    name = f"lms_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_seconds_of_tree(pid: int) -> float:
    """User + system CPU seconds of a process and its descendants (from /proc, Linux)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    pending.extend(int(child) for child in children.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


@dataclass
class LmsServer:
    port: int
    pid: int

    def cpu_seconds(self) -> float:
        return _cpu_seconds_of_tree(self.pid)


@contextmanager
def lms_server(database_url: str, workers: int = 1, loop: str = "auto", http: str = "auto") -> Iterator[LmsServer]:
    """The LMS in a uvicorn subprocess. loop/http: uvicorn's choices ("auto": uvloop and httptools
    when installed, as `uvicorn[standard]` installs them; "asyncio"/"h11" for comparison)."""
    port = free_port()
    env = {
        **os.environ, "PRACTICUM_LMS_DATABASE_URL": database_url, "JUPYTERHUB_SERVICE_PREFIX": PREFIX,
        "JUPYTERHUB_SERVICE_URL": f"http://127.0.0.1:{port}", "PRACTICUM_LMS_WEBHOOK_INTERVAL": "0",
    }
    process = subprocess.Popen([sys.executable, "-c", SERVER_CODE, str(workers), loop, http], env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}{PREFIX}health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the LMS did not start")
        yield LmsServer(port, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


@dataclass
class LoadResult:
    requests: int
    seconds: float
    latencies_ms: list[float]
    statuses: dict[int, int]
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    cores: int = field(default_factory=lambda: os.cpu_count() or 1)
    # Set when only summary figures are known (wrk): quantile -> ms, and the mean.
    reported: dict[float, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        if q in self.reported:
            return self.reported[q]
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def mean_ms(self) -> float:
        return self.reported.get(-1.0) or statistics.fmean(self.latencies_ms)

    def per_request_us(self, cpu_seconds: float) -> float:
        return 1e6 * cpu_seconds / max(1, self.requests)

    def line(self, label: str) -> str:
        return (f"{label}: {self.requests} requests in {self.seconds:.1f} s = {self.rate:,.0f} req/s; "
                f"p50 {self.percentile(0.50):.1f} ms, p99 {self.percentile(0.99):.1f} ms, "
                f"mean {self.mean_ms:.1f} ms; statuses {self.statuses}\n"
                f"  CPU per request: server {self.per_request_us(self.server_cpu_s):,.0f} us, "
                f"client {self.per_request_us(self.client_cpu_s):,.0f} us; the server used "
                f"{self.server_cpu_s / self.seconds:.2f} cores; load average before "
                f"{self.load_before[0]:.2f} on {self.cores} cores")

    def summary(self) -> dict[str, Any]:
        return {
            "req_per_s": round(self.rate), "p50_ms": round(self.percentile(0.5), 1),
            "p99_ms": round(self.percentile(0.99), 1), "statuses": self.statuses,
            "server_cpu_us_per_request": round(self.per_request_us(self.server_cpu_s)),
            "client_cpu_us_per_request": round(self.per_request_us(self.client_cpu_s)),
            "server_cores_used": round(self.server_cpu_s / self.seconds, 2),
            "load_average_before": self.load_before[0],
        }


async def _request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes) -> int:
    writer.write(raw)
    await writer.drain()
    status_line = await reader.readline()
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return int(status_line.split()[1])


def build_request(method: str, path: str, token: str, body: bytes = b"") -> bytes:
    head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def _load(
    port: int, clients: int, seconds: float, make_request: Callable[[int, int], bytes], max_requests: int
) -> LoadResult:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    stop_at = time.perf_counter() + seconds
    counter = [0]

    async def client(number: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < stop_at and counter[0] < max_requests:
                counter[0] += 1
                raw = make_request(number, counter[0])
                started = time.perf_counter()
                status = await _request(reader, writer, raw)
                latencies.append((time.perf_counter() - started) * 1000)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    return LoadResult(len(latencies), time.perf_counter() - started, latencies, statuses)


def _run(coroutine: Coroutine[Any, Any, LoadResult]) -> LoadResult:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def run_load(
    server: LmsServer, clients: int, seconds: float, make_request: Callable[[int, int], bytes],
    max_requests: int = 10**9,
) -> LoadResult:
    """`clients` connections, each sending its next request as soon as the previous answer arrives."""
    load_before = os.getloadavg()
    client_before, server_before = time.process_time(), server.cpu_seconds()
    result = _run(_load(server.port, clients, seconds, make_request, max_requests))
    result.client_cpu_s = time.process_time() - client_before
    result.server_cpu_s = server.cpu_seconds() - server_before
    result.load_before = load_before
    return result


WRK_SCRIPT = """
local paths = {%s}
local token = "%s"
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1], {["Authorization"] = "Bearer " .. token})
end
done = function(summary, latency, requests)
  io.write(string.format("WRK_RESULT %%d %%d %%d %%.1f %%.1f %%.1f\\n", summary.requests, summary.duration,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.mean / 1000))
end
"""


def run_wrk(server: LmsServer, clients: int, seconds: float, paths: list[str], token: str) -> LoadResult:
    """The same closed-loop GET load from `wrk` (a C load generator; Debian package `wrk`), 2 threads.

    wrk reports p50, p99 and the mean (not every latency); non-2xx answers count as status 0.
    """
    import resource
    import shutil

    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % (", ".join(f'"{p}"' for p in paths), token))
    load_before = os.getloadavg()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = server.cpu_seconds()
    try:
        output = subprocess.run(
            [wrk, "-t", "2", "-c", str(clients), "-d", f"{seconds:g}s", "-s", script.name,
             f"http://127.0.0.1:{server.port}/"],
            check=True, capture_output=True, text=True,
        ).stdout
    finally:
        os.unlink(script.name)
    server_cpu = server.cpu_seconds() - server_before
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next(line for line in output.splitlines() if line.startswith("WRK_RESULT"))
    requests, duration_us, errors, p50, p99, mean = line.split()[1:]
    count = int(requests)
    result = LoadResult(
        count, int(duration_us) / 1e6, [], {200: count - int(errors), 0: int(errors)}, server_cpu_s=server_cpu,
        client_cpu_s=(children_after.ru_utime - children_before.ru_utime)
        + (children_after.ru_stime - children_before.ru_stime),
        load_before=load_before, reported={0.5: float(p50), 0.99: float(p99), -1.0: float(mean)},
    )
    return result
