"""The sandbox network bridge, for real: bubblewrap sandboxes with an empty network namespace,
a broker in this process, the relay inside, host test servers on random loopback ports.

Only loopback is ever targeted. A second host server (``forbidden``) and PostgreSQL's port stand
for everything the sandbox must not reach; each test checks they saw no connection.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import http.server
import json
import logging
import os
import queue
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from practicum.sandbox import bridge
from practicum.sandbox.bridge import BridgeError, BridgeSpec, HostBroker, Inbound, Outbound, relay_command

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
SIZE = 20 * 1024 * 1024
BWRAP = shutil.which("bwrap")
needs_bwrap = pytest.mark.skipif(BWRAP is None, reason="bubblewrap is not installed")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the two-stage sandbox needs a root launcher")


def blob(seed: int, size: int = SIZE) -> bytes:
    return random.Random(seed).randbytes(size)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def wait_until(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def fds_back_to(baseline: set[str]) -> bool:
    if wait_until(lambda: open_fds() <= baseline, 3.0):
        return True
    for fd in sorted(open_fds() - baseline):
        with contextlib.suppress(OSError):
            print(f"left open: fd {fd} -> {os.readlink(f'/proc/self/fd/{fd}')}")
    return False


def broker_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("bridge-broker")]


# --- host-side test services ------------------------------------------------------------------------


class HostServer(http.server.ThreadingHTTPServer):
    """GET /hello/N -> "host:N"; GET /together/N the same once 20 requests are open at once;
    GET /blob -> blob(1); POST /sha -> sha256 of the body. Counts the connections it accepted."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _HostHandler)
        self.connections = 0
        self.together = threading.Barrier(20, timeout=20)
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def get_request(self):
        request = super().get_request()
        with self._lock:
            self.connections += 1
        return request

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _HostHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == "/blob":
            self._reply(blob(1))
        elif self.path.startswith("/together/"):
            self.server.together.wait()
            self._reply(b"host:" + self.path.rsplit("/", 1)[1].encode())
        elif self.path.startswith("/hello/"):
            self._reply(b"host:" + self.path.rsplit("/", 1)[1].encode())
        else:
            self.send_error(404)

    def do_POST(self) -> None:
        digest, left = hashlib.sha256(), int(self.headers["Content-Length"])
        while left:
            chunk = self.rfile.read(min(left, 1 << 20))
            if not chunk:
                break
            digest.update(chunk)
            left -= len(chunk)
        self._reply(digest.hexdigest().encode())

    def _reply(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


class EchoServer:
    """Raw TCP: echoes until the client half-closes, then sends b"BYE" and closes."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    @staticmethod
    def _echo(conn: socket.socket) -> None:
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)
            conn.sendall(b"BYE")

    def stop(self) -> None:
        self.sock.close()


@pytest.fixture
def target():
    server = HostServer()
    yield server
    server.stop()


@pytest.fixture
def forbidden():
    server = HostServer()
    yield server
    server.stop()
    assert server.connections == 0, "a host port outside the spec was reached"


@pytest.fixture
def echo():
    server = EchoServer()
    yield server
    server.stop()


@pytest.fixture
def refusing_port():
    """A host loopback port that refuses connections (bound, never listening), held for the test."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


# --- sandboxes ----------------------------------------------------------------------------------------


def single_stage(command: list[str]) -> list[str]:
    return [BWRAP, "--unshare-net", "--unshare-pid", "--die-with-parent", "--ro-bind", "/", "/",
            "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", *binds_back_under_tmp(), "--", *command]


def binds_back_under_tmp() -> list[str]:
    """The interpreter and the checkout again, when they live under the /tmp a sandbox's tmpfs covers (a CI clone)."""
    args = []
    for path in sorted({os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, str(REPO))}):
        if path.startswith("/tmp/"):
            args += ["--ro-bind", path, path]
    return args


def two_stage(command: list[str]) -> list[str]:
    """DESIGN.md's shape: outer root bwrap -> setpriv to uid 65534 -> inner bwrap as uid 1000."""
    # The /tmp tmpfs first: a checkout under a closed folder of /tmp (a CI clone in `mktemp -d`) is then
    # made traversable over it, not hidden again by it.
    outer = [BWRAP, "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent",
             "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", *binds_back_under_tmp(),
             *readable_by_nobody([sys.base_prefix, sys.prefix, str(REPO)]), "--"]
    drop = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "--inh-caps=-all",
            "--bounding-set=-all", "--"]
    inner = [BWRAP, "--unshare-user", "--uid", "1000", "--gid", "1000", "--disable-userns", "--cap-drop", "ALL",
             "--die-with-parent", "--bind", "/", "/", "--dev", "/dev", "--"]
    return outer + drop + inner + command


def readable_by_nobody(paths: list[str]) -> list[str]:
    """Outer-bwrap args that make each path traversable for an unprivileged uid: a tmpfs over its
    first closed ancestor (the interpreter under /root here), then the path bound back read-only."""
    args: list[str] = []
    covered: list[Path] = []
    made: set[Path] = set()
    for path in sorted({Path(os.path.realpath(p)) for p in paths}):
        if any(path == c or c in path.parents for c in covered):
            continue
        chain = [*reversed(path.parents), path]
        closed = next((p for p in chain[:-1] if not p.stat().st_mode & 0o001), None)
        if closed is None:
            continue
        for folder in chain[chain.index(closed):-1]:
            if folder not in made:
                args += ["--perms", "0755", "--tmpfs" if folder == closed else "--dir", str(folder)]
                made.add(folder)
        args += ["--ro-bind", str(path), str(path)]
        covered.append(path)
    return args


class Sandbox:
    """A running sandbox whose stdout is read on a thread (so reads are bounded in time)."""

    def __init__(self, argv: list[str], broker: HostBroker) -> None:
        self.proc = subprocess.Popen(argv, pass_fds=(broker.sandbox_fd,), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        broker.close_sandbox_end()
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines.put), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr.append), daemon=True).start()

    @staticmethod
    def _pump(stream, put) -> None:
        with stream:
            for line in stream:
                put(line)

    def json_line(self, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                return json.loads(self.lines.get(timeout=0.1))
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    time.sleep(0.2)  # let the reader threads finish
                    if self.lines.empty():
                        break
        raise AssertionError(f"no result from the sandbox (exit {self.proc.poll()}); "
                             f"stderr: {''.join(self.stderr)[-3000:]}")

    def wait(self, timeout: float = 30) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(5)

    def relay_pid(self) -> int:
        """The relay's host pid: the descendant of the sandbox running ``python -P -m <bridge>``."""
        def found() -> int | None:
            children: dict[int, list[int]] = {}
            for entry in os.listdir("/proc"):
                if entry.isdigit():
                    try:
                        stat = Path(f"/proc/{entry}/stat").read_text()
                    except OSError:
                        continue
                    children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
            todo = list(children.get(self.proc.pid, []))
            while todo:
                pid = todo.pop()
                try:
                    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                except OSError:
                    continue
                if argv[1:4] == [b"-P", b"-m", b"practicum.sandbox.bridge"]:
                    return pid
                todo += children.get(pid, [])
            return None
        assert wait_until(lambda: found() is not None, 10), "the relay did not start"
        return found()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


@pytest.fixture
def sandboxes():
    started: list[Sandbox] = []

    def start(argv: list[str], broker: HostBroker) -> Sandbox:
        started.append(Sandbox(argv, broker))
        return started[-1]

    yield start
    for box in started:
        box.close()


def http_get(port: int, path: str, timeout: float = 30) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        assert response.status == 200, (path, response.status)
        return response.read()
    finally:
        conn.close()


def http_post(port: int, path: str, body: bytes, timeout: float = 60) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", path, body=body)
        return conn.getresponse().read()
    finally:
        conn.close()


def ping_pong_then_half_close(port: int) -> bytes:
    """A websocket-like exchange (200 interleaved round trips), then shutdown(SHUT_WR): the rest."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        for i in range(200):
            message = b"ping %d\n" % i
            sock.sendall(message)
            got = b""
            while len(got) < len(message):
                chunk = sock.recv(len(message) - len(got))
                assert chunk, f"closed after {i} round trips"
                got += chunk
            assert got == message
        sock.shutdown(socket.SHUT_WR)
        rest = b""
        while chunk := sock.recv(4096):
            rest += chunk
        return rest


# --- spec, command, start-up errors (no sandbox) ------------------------------------------------------


def test_spec_round_trips_through_json_and_rejects_malformed_specs():
    spec = BridgeSpec(inbound=(Inbound(8888, 8888), Inbound(0, 9000, "::1")),
                      outbound=(Outbound("hub", 8081, "127.0.0.1", 18081), Outbound("mlflow", 5000, "localhost", 15000)))
    assert BridgeSpec.from_json(spec.to_json()) == spec
    assert BridgeSpec.from_json("{}") == BridgeSpec()
    for text in ('{"inbound": [{"host_port": 1, "inner_port": 2, "host_ip": "0.0.0.0"}]}',  # beyond loopback
                 '{"inbound": [{"host_port": 1, "inner_port": 2, "host_ip": 2130706433}]}',  # 127.0.0.1 as int
                 '{"inbound": [{"host_port": 1, "inner_port": 70000}]}',
                 '{"inbound": [{"host_port": true, "inner_port": 2}]}',
                 '{"outbound": [{"name": "a b", "listen_port": 1, "target_host": "h", "target_port": 2}]}',
                 '{"outbound": [{"name": "a", "listen_port": 1, "target_host": "h"}]}',
                 '{"outbound": [{"name": "a", "listen_port": 1, "target_host": "h", "target_port": 2, "x": 1}]}',
                 '{"outbound": [{"name": "a", "listen_port": 1, "target_host": "h", "target_port": 2},'
                 ' {"name": "a", "listen_port": 3, "target_host": "h", "target_port": 2}]}',
                 '{"inbound": [{"host_port": 5, "inner_port": 1}],'
                 ' "outbound": [{"name": "a", "listen_port": 1, "target_host": "h", "target_port": 2}]}',
                 '{"extra": []}', "[]", "not json"):
        with pytest.raises(ValueError):
            BridgeSpec.from_json(text)


def test_relay_command_is_the_module_prefix_and_the_relay_refuses_a_wrong_fd():
    spec = BridgeSpec(outbound=(Outbound("hub", 8081, "127.0.0.1", 18081),))
    argv = relay_command(spec, 7, "/usr/bin/python3")
    assert argv == ["/usr/bin/python3", "-P", "-m", "practicum.sandbox.bridge", "--fd", "7",
                    "--spec", spec.to_json(), "--"]
    # stdin is no SEQPACKET channel: the relay fails before listening or starting the command.
    result = subprocess.run([*relay_command(spec, 0, PYTHON), PYTHON, "-c", "print('started')"],
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30, cwd=REPO)
    assert result.returncode == bridge.RELAY_SETUP_FAILED
    assert "started" not in result.stdout and "not the bridge channel" in result.stderr


def test_start_fails_early_on_a_taken_inbound_port_and_leaves_nothing_open():
    taken = socket.create_server(("127.0.0.1", 0))
    try:
        port = taken.getsockname()[1]
        baseline = open_fds()
        broker = HostBroker(BridgeSpec(inbound=(Inbound(0, 8000), Inbound(port, 8001))))
        with pytest.raises(BridgeError, match=f"127.0.0.1:{port}.*port 8001"):
            broker.start()
        assert not broker_threads()
        assert len(open_fds() - baseline) == 2, "only the socketpair is open until close()"
        broker.close()
        assert fds_back_to(baseline), "the first inbound listener or the socketpair was left open"
    finally:
        taken.close()


def test_a_flooding_relay_is_served_at_a_bounded_rate(monkeypatch, caplog):
    """The broker shares the launcher's GIL: a relay's messages cost it at most REQUESTS_PER_SECOND."""
    caplog.set_level(logging.ERROR, logger="practicum.sandbox.bridge")
    monkeypatch.setattr(bridge, "REQUEST_BURST", 100.0)
    monkeypatch.setattr(bridge, "REQUESTS_PER_SECOND", 200.0)
    with HostBroker(BridgeSpec()) as broker:
        relay_end = socket.socket(fileno=os.dup(broker.sandbox_fd))
        broker.close_sandbox_end()
        with relay_end:
            relay_end.settimeout(10)
            started = time.monotonic()
            sender = threading.Thread(target=lambda: [relay_end.send(b"junk") for _ in range(160)])
            sender.start()
            replies = [json.loads(relay_end.recv(4096))["kind"] for _ in range(160)]
            sender.join(10)
            elapsed = time.monotonic() - started
    assert replies == ["error"] * 160
    assert elapsed >= 0.25, f"160 messages (burst 100, then 200/s) answered in {elapsed:.2f} s"


# --- real sandboxes ------------------------------------------------------------------------------------

INSIDE_OUTBOUND = r"""
import json, os, socket, sys, urllib.request
conf = json.loads(sys.argv[1])
def attempt(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        return "connected"
    except OSError as exc:
        return type(exc).__name__
def down():
    with socket.create_connection(("127.0.0.1", conf["down_listen"]), timeout=20) as s:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        try:
            return s.recv(100)
        except OSError as exc:
            return type(exc).__name__
try:
    os.fstat(conf["fd"])
    channel = "inherited"
except OSError:
    channel = "closed"
print(json.dumps({
    "allowed": urllib.request.urlopen(f"http://127.0.0.1:{conf['listen']}/hello/1", timeout=20).read().decode(),
    "forbidden": attempt(conf["forbidden"]),
    "postgres": attempt(5432),
    "target_directly": attempt(conf["target"]),
    "down": repr(down()),
    "interfaces": [name for _, name in socket.if_nameindex()],
    "channel": channel,
}), flush=True)
sys.exit(7)
"""


@needs_bwrap
def test_outbound_reaches_the_allowed_target_and_nothing_else(target, forbidden, refusing_port, sandboxes):
    spec = BridgeSpec(outbound=(Outbound("web", 9000, "127.0.0.1", target.port),
                                Outbound("down", 9001, "127.0.0.1", refusing_port)))
    with HostBroker(spec) as broker:
        fd = broker.sandbox_fd
        conf = {"listen": 9000, "down_listen": 9001, "forbidden": forbidden.port, "target": target.port, "fd": fd}
        box = sandboxes(single_stage([*relay_command(spec, fd, PYTHON), PYTHON, "-c", INSIDE_OUTBOUND,
                                      json.dumps(conf)]), broker)
        result = box.json_line()
        assert box.wait() == 7, "the relay exits with the command's status"
    assert result["allowed"] == "host:1"
    assert result["forbidden"] == result["postgres"] == result["target_directly"] == "ConnectionRefusedError"
    assert result["down"] in ("b''", "'ConnectionResetError'"), "a failed host connect closes the local one"
    assert result["interfaces"] == ["lo"]
    assert result["channel"] == "closed", "the command must not inherit the broker channel"
    assert target.connections == 1
    assert "down (127.0.0.1:9001) unavailable" in "".join(box.stderr)


@needs_bwrap
def test_inbound_reaches_the_server_inside_and_sigint_is_forwarded(forbidden, sandboxes):
    # The inner port is the host port of `forbidden`: a relay that dialled the host's loopback would
    # reach that server, not the one inside.
    spec = BridgeSpec(inbound=(Inbound(0, forbidden.port),))
    served = REPO / "tests" / "sandbox"
    with HostBroker(spec) as broker:
        command = [PYTHON, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(served), str(forbidden.port)]
        box = sandboxes(single_stage([*relay_command(spec, broker.sandbox_fd, PYTHON), *command]), broker)
        port = broker.inbound_addresses[0][1]
        # Right away: the relay retries while the server inside is still starting.
        assert http_get(port, "/test_bridge.py") == (served / "test_bridge.py").read_bytes()
        os.kill(box.relay_pid(), signal.SIGINT)
        assert box.wait() == 0, "SIGINT reaches http.server (it exits 0 on KeyboardInterrupt)"


TRAPS_SIGTERM = """
import signal, sys, time
signal.signal(signal.SIGTERM, lambda *_: sys.exit(42))
print('{"ready": true}', flush=True)
time.sleep(60)
"""


@needs_bwrap
def test_the_relay_forwards_sigterm_and_exits_with_the_commands_status(sandboxes):
    spec = BridgeSpec()
    with HostBroker(spec) as broker:
        box = sandboxes(single_stage([*relay_command(spec, broker.sandbox_fd, PYTHON), PYTHON, "-c",
                                      TRAPS_SIGTERM]), broker)
        assert box.json_line() == {"ready": True}
        os.kill(box.relay_pid(), signal.SIGTERM)
        assert box.wait() == 42, "a relay that died of SIGTERM itself would give 143"


INSIDE_BOTH = r"""
import http.server, json, os, sys, urllib.request
conf = json.loads(sys.argv[1])
fetched = urllib.request.urlopen(f"http://127.0.0.1:{conf['listen']}/hello/2", timeout=20).read().decode()
class Once(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"fetched": fetched, "uid": os.getuid()}).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args): pass
server = http.server.HTTPServer(("127.0.0.1", conf["inner"]), Once)
print('{"ready": true}', flush=True)
server.handle_request()
"""


@needs_bwrap
@needs_root
def test_the_channel_survives_the_two_stage_sandbox(target, forbidden, sandboxes):
    spec = BridgeSpec(inbound=(Inbound(0, 8888),), outbound=(Outbound("hub", 8081, "127.0.0.1", target.port),))
    with HostBroker(spec) as broker:
        conf = {"listen": 8081, "inner": 8888}
        box = sandboxes(two_stage([*relay_command(spec, broker.sandbox_fd, PYTHON), PYTHON, "-c", INSIDE_BOTH,
                                   json.dumps(conf)]), broker)
        # It listens only after its own fetch through the bridge: the request waits for that, and a sandbox
        # that never got so far fails here with its stderr.
        assert box.json_line() == {"ready": True}, "".join(box.stderr)
        reply = json.loads(http_get(broker.inbound_addresses[0][1], "/"))
        assert box.wait() == 0, "".join(box.stderr)
    assert reply == {"fetched": "host:2", "uid": 1000}
    assert target.connections == 1


HOSTILE = r"""
import array, json, socket, sys
fd, forged = int(sys.argv[1]), json.loads(sys.argv[2])
chan = socket.socket(fileno=fd)
chan.settimeout(20)
def reply():
    data, anc, _, _ = chan.recvmsg(4096, socket.CMSG_SPACE(64))
    fds = [f for _, _, d in anc for f in array.array("i", d[:len(d) - len(d) % 4])]
    return json.loads(data), fds
def summary(message, fds):
    for f in fds:
        socket.socket(fileno=f).close()
    return [message.get("kind"), message.get("id"), len(fds)]
out = {"forged": []}
for text in forged:
    chan.send(text.encode("latin-1"))
    out["forged"].append(summary(*reply()))
mine = socket.socketpair()
rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [s.fileno() for s in mine]))]
chan.sendmsg([b'{"kind":"connect","id":50,"name":"web"}'], rights)
out["with_fds"] = summary(*reply())
chan.send(b'{"kind":"connect","id":51,"name":"' + b"w" * 4000 + b'"}')
out["too_long"] = summary(*reply())
# Flood without reading the replies: the broker must stop reading (a send then waits for good).
chan.settimeout(0.5)
sent, stalled = 0, False
try:
    while sent < 3000:
        chan.send(b"\x00flood")
        sent += 1
except TimeoutError:
    stalled = True
chan.settimeout(20)
kinds = [reply()[0]["kind"] for _ in range(sent)]
out["flood"] = [sent, stalled, sorted(set(kinds))]
chan.send(b'{"kind":"connect","id":99,"name":"web"}')
message, fds = reply()
out["legit"] = [message.get("kind"), message.get("id"), len(fds)]
with socket.socket(fileno=fds[0]) as s:
    s.sendall(b"GET /hello/9 HTTP/1.0\r\nHost: x\r\n\r\n")
    data = b""
    while chunk := s.recv(65536):
        data += chunk
out["legit_body"] = data.split(b"\r\n\r\n", 1)[1].decode()
print(json.dumps(out), flush=True)
"""

FORGED = [
    ("\xff\xfe\x00garbage", None),
    ("", None),
    ("[1, 2]", None),
    ("[" * 1000, None),
    ("{}", None),
    ('{"kind":"connect","id":1,"name":"postgres"}', 1),
    ('{"kind":"connect","id":2,"name":"127.0.0.1:5432"}', 2),
    ('{"kind":"connect","id":3,"name":"WEB"}', 3),
    ('{"kind":"connect","id":4,"name":["web"]}', 4),
    ('{"kind":"connect","id":"5","name":"web"}', None),
    ('{"kind":"connect","id":true,"name":"web"}', None),
    ('{"kind":"connect","id":-6,"name":"web"}', None),
    ('{"kind":"connect","id":18446744073709551616,"name":"web"}', None),
    ('{"kind":"connect","id":7,"name":"web","target_host":"127.0.0.1","target_port":5432}', 7),
    ('{"kind":"connected","id":8}', 8),
    ('{"kind":"inbound","index":0,"inner_port":5432}', None),
    ('{"kind":"connect","id":9,"name":"web"', None),
    ('{"kind":"connect","id":10,"name":"web"}\x00', None),
]


@needs_bwrap
def test_forged_control_messages_get_no_connection_and_the_broker_stays_healthy(target, forbidden, sandboxes,
                                                                                   caplog):
    """Learner code that holds the channel itself (it replaced the relay) and writes to it."""
    caplog.set_level(logging.WARNING, logger="practicum.sandbox.bridge")
    spec = BridgeSpec(outbound=(Outbound("web", 9000, "127.0.0.1", target.port),))
    baseline = open_fds()
    with HostBroker(spec) as broker:
        box = sandboxes(single_stage([PYTHON, "-c", HOSTILE, str(broker.sandbox_fd),
                                      json.dumps([text for text, _ in FORGED])]), broker)
        result = box.json_line()
        assert box.wait() == 0, "".join(box.stderr)
        assert broker.running
    assert result["forged"] == [["error", rid, 0] for _, rid in FORGED]
    assert result["with_fds"] == ["error", 50, 0], "a request that carries fds is refused"
    assert result["too_long"] == ["error", None, 0]
    sent, stalled, kinds = result["flood"]
    assert stalled and sent > bridge.MAX_QUEUED_REPLIES, "the broker stops reading while its replies pile up"
    assert kinds == ["error"]
    assert result["legit"] == ["connected", 99, 1] and result["legit_body"] == "host:9"
    assert target.connections == 1, "only the legitimate request connected"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("file descriptors are not accepted" in w for w in warnings)
    assert any("no such outbound" in w for w in warnings)
    assert len(warnings) <= bridge._LOGGED_REJECTIONS + 1, "a flood must not flood the launcher's log"
    assert fds_back_to(baseline), "the broker kept an fd it was sent, or a listener"


INSIDE_LOAD = r"""
import hashlib, http.server, json, random, socket, sys, threading, urllib.request
from concurrent.futures import ThreadPoolExecutor
conf = json.loads(sys.argv[1])
def blob(seed):
    return random.Random(seed).randbytes(conf["size"])
together = threading.Barrier(20, timeout=20)
class Inner(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        if self.path == "/blob":
            body = blob(2)
        elif self.path.startswith("/together/"):
            together.wait()
            body = ("inside:" + self.path.rsplit("/", 1)[1]).encode()
        else:
            body = b"bye"
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
        if self.path == "/quit":
            threading.Thread(target=self.server.shutdown).start()
    def do_POST(self):
        digest, left = hashlib.sha256(), int(self.headers["Content-Length"])
        while left:
            chunk = self.rfile.read(min(left, 1 << 20))
            digest.update(chunk)
            left -= len(chunk)
        body = digest.hexdigest().encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args): pass
class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
server = Server(("127.0.0.1", conf["inner_http"]), Inner)
def echo(conn):
    with conn:
        while data := conn.recv(65536):
            conn.sendall(data)
        conn.sendall(b"BYE")
echo_server = socket.create_server(("127.0.0.1", conf["inner_echo"]))
threading.Thread(target=lambda: [threading.Thread(target=echo, args=(echo_server.accept()[0],), daemon=True).start()
                                 for _ in iter(int, 1)], daemon=True).start()
host = f"http://127.0.0.1:{conf['listen']}"
def get(path):
    return urllib.request.urlopen(host + path, timeout=60).read()
out = {}
with ThreadPoolExecutor(20) as pool:
    out["concurrent"] = [b.decode() for b in pool.map(lambda i: get(f"/together/{i}"), range(20))]
out["download_sha"] = hashlib.sha256(get("/blob")).hexdigest()
upload = urllib.request.Request(host + "/sha", data=blob(3), method="POST")
out["upload_sha"] = urllib.request.urlopen(upload, timeout=60).read().decode()
with socket.create_connection(("127.0.0.1", conf["listen_echo"]), timeout=30) as s:
    for i in range(200):
        message = b"ping %d\n" % i
        s.sendall(message)
        got = b""
        while len(got) < len(message):
            got += s.recv(len(message) - len(got))
        assert got == message, (i, got)
    s.shutdown(socket.SHUT_WR)
    rest = b""
    while chunk := s.recv(4096):
        rest += chunk
out["echo_rest"] = rest.decode()
print(json.dumps(out), flush=True)
server.serve_forever()
"""


@needs_bwrap
def test_many_connections_and_large_transfers_arrive_intact_both_ways(target, forbidden, echo, sandboxes):
    spec = BridgeSpec(inbound=(Inbound(0, 8888), Inbound(0, 8889)),
                      outbound=(Outbound("web", 9000, "127.0.0.1", target.port),
                                Outbound("echo", 9001, "127.0.0.1", echo.port)))
    conf = {"size": SIZE, "inner_http": 8888, "inner_echo": 8889, "listen": 9000, "listen_echo": 9001}
    started = time.monotonic()
    with HostBroker(spec) as broker:
        box = sandboxes(single_stage([*relay_command(spec, broker.sandbox_fd, PYTHON), PYTHON, "-c", INSIDE_LOAD,
                                      json.dumps(conf)]), broker)
        # inside -> host, through the outbound listeners
        result = box.json_line(timeout=120)
        assert result["concurrent"] == [f"host:{i}" for i in range(20)], "20 connections were open at once"
        assert result["download_sha"] == sha(blob(1))
        assert result["upload_sha"] == sha(blob(3))
        assert result["echo_rest"] == "BYE", "a half-close crosses the bridge and the answer after it returns"
        # host -> inside, through the inbound listeners
        http_port, echo_port = (port for _, port in broker.inbound_addresses)
        with ThreadPoolExecutor(20) as pool:
            bodies = list(pool.map(lambda i: http_get(http_port, f"/together/{i}"), range(20)))
        assert bodies == [f"inside:{i}".encode() for i in range(20)]
        assert sha(http_get(http_port, "/blob", timeout=60)) == sha(blob(2))
        assert http_post(http_port, "/sha", blob(4)).decode() == sha(blob(4))
        assert ping_pong_then_half_close(echo_port) == b"BYE"
        http_get(http_port, "/quit")
        assert box.wait() == 0, "".join(box.stderr)[-3000:]
    assert time.monotonic() - started < 60


@needs_bwrap
def test_killing_the_sandbox_leaves_no_broker_thread_or_listener_after_close(sandboxes):
    spec = BridgeSpec(inbound=(Inbound(0, 8888),))
    baseline_fds, baseline_threads = open_fds(), broker_threads()
    broker = HostBroker(spec).start()
    port = broker.inbound_addresses[0][1]
    box = sandboxes(single_stage([*relay_command(spec, broker.sandbox_fd, PYTHON), PYTHON, "-c",
                                  "import time; time.sleep(60)"]), broker)
    box.relay_pid()
    assert broker.relay_connected and len(broker_threads()) == len(baseline_threads) + 1
    box.proc.kill()
    box.proc.wait(10)
    assert wait_until(lambda: not broker.relay_connected), "the broker did not see the relay go"
    # Still listening until close(), but a connection now ends at once instead of hanging.
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.settimeout(5)
        try:
            assert sock.recv(1) == b""
        except ConnectionResetError:
            pass
    broker.close()
    assert not broker.running and broker_threads() == baseline_threads
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    assert fds_back_to(baseline_fds)
    broker.close()  # idempotent
