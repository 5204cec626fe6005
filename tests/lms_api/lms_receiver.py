"""A real webhook receiver on 127.0.0.1 that verifies signatures and handles each event id once."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from practicum.lms_api.webhook_signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify


@dataclass
class Receiver:
    secret: str = ""
    url: str = ""
    failure_rate: float = 0.0
    seed: int = 0
    handled: dict[str, dict[str, Any]] = field(default_factory=dict)  # event id -> event, processed once
    calls: int = 0
    bad_signatures: int = 0
    duplicates: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)

    def handle(self, headers: Any, body: bytes) -> int:
        with self.lock:
            self.calls += 1
            roll = self.random.random()
            if not verify(self.secret, body, headers.get(TIMESTAMP_HEADER, ""), headers.get(SIGNATURE_HEADER, ""),
                          tolerance_seconds=10**10):
                self.bad_signatures += 1
                return 401
            if roll < self.failure_rate / 2:
                return 503  # fails before handling
            key = headers.get(IDEMPOTENCY_HEADER, "")
            if key in self.handled:
                self.duplicates += 1
            else:
                self.handled[key] = json.loads(body)
            if roll < self.failure_rate:
                return 500  # handled, but the answer says it failed: the LMS will send it again
            return 200


@contextmanager
def running_receiver(**kwargs: Any) -> Iterator[Receiver]:
    receiver = Receiver(**kwargs)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = receiver.handle(self.headers, body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/practicum"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
