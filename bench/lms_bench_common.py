"""Shared by the LMS benchmarks: a database per backend, the LMS in a uvicorn subprocess, a load loop.

The load generator is a minimal HTTP/1.1 keep-alive client on asyncio streams: on a small machine
the client shares the CPU with the server, and httpx's per-request cost would be measured instead.
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg

PREFIX = "/services/lms/"
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
SERVER_CODE = """
import uvicorn
from practicum.lms_api.app import create_app
from practicum.lms_api.settings import get_settings
settings = get_settings()
uvicorn.run(create_app(settings), host=settings.bind_host, port=settings.bind_port, workers=1,
            log_level="warning", access_log=False)
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


@contextmanager
def lms_server(database_url: str) -> Iterator[int]:
    port = free_port()
    env = {
        **os.environ, "PRACTICUM_LMS_DATABASE_URL": database_url, "JUPYTERHUB_SERVICE_PREFIX": PREFIX,
        "JUPYTERHUB_SERVICE_URL": f"http://127.0.0.1:{port}", "PRACTICUM_LMS_WEBHOOK_INTERVAL": "0",
    }
    process = subprocess.Popen([sys.executable, "-c", SERVER_CODE], env=env)
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
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


@dataclass
class LoadResult:
    requests: int
    seconds: float
    latencies_ms: list[float]
    statuses: dict[int, int]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def line(self, label: str) -> str:
        return (f"{label}: {self.requests} requests in {self.seconds:.1f} s = {self.rate:,.0f} req/s; "
                f"p50 {self.percentile(0.50):.1f} ms, p99 {self.percentile(0.99):.1f} ms, "
                f"mean {statistics.fmean(self.latencies_ms):.1f} ms; statuses {self.statuses}")


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


async def run_load(
    port: int, clients: int, seconds: float, make_request: Callable[[int, int], bytes], max_requests: int = 10**9
) -> LoadResult:
    """`clients` connections, each sending its next request as soon as the previous answer arrives."""
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
