"""A network bridge into a sandbox that has its own empty network namespace (only ``lo``).

A learner's server inside must be reached by the proxy on a host loopback port (``Inbound``) and
must reach a short allow list of host services, the hub API and the MLflow gateway
(``Outbound``), and nothing else. There is no firewall, no veth and no socket file on shared
disk: a *broker* in the trusted launcher (``HostBroker``) and a *relay* inside the sandbox
(``python -m practicum.sandbox.bridge``) hand each other connected TCP sockets by file
descriptor passing (SCM_RIGHTS) over one inherited AF_UNIX SOCK_SEQPACKET socketpair.

The broker never reads or writes the relayed bytes: it accepts on the inbound listeners,
connects to allowed targets and passes the sockets on. The relay pumps the bytes between those
sockets and the sandbox's own loopback. The relay is untrusted (learner code may kill or replace
it); whatever it sends only ever gets a socket connected to a target named in the spec.

Control messages, one per SEQPACKET record, compact JSON objects of at most
``MAX_MESSAGE`` bytes:

relay -> broker (never with file descriptors; a record that carries any is rejected and the
kernel closes them before the broker sees them)::

    {"kind": "connect", "id": 7, "name": "hub"}

broker -> relay::

    {"kind": "connected", "id": 7}                 + exactly one fd: a socket connected to the target
    {"kind": "error", "id": 7, "error": "..."}     no fd; "id" is null when the request had none
    {"kind": "inbound", "index": 0, "inner_port": 8888}   + exactly one fd: an accepted host connection

Anything else the broker receives gets an ``error`` reply and a (rate-limited) log line, never a
connection. The broker bounds its work per sandbox: at most ``MAX_PENDING_CONNECTS`` connects in
progress, ``MAX_QUEUED_REPLIES`` replies waiting for the relay to read (it stops reading requests
while that many wait), and a token bucket of ``REQUESTS_PER_SECOND`` messages.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import collections
import contextlib
import errno
import ipaddress
import json
import logging
import os
import re
import select
import signal
import socket
import sys
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass

log = logging.getLogger("practicum.sandbox.bridge")

MAX_MESSAGE = 1024
MAX_REQUEST_ID = 2**53
MAX_PENDING_CONNECTS = 64
MAX_QUEUED_REPLIES = 256
REQUESTS_PER_SECOND = 500.0
REQUEST_BURST = 1000.0
CONNECT_TIMEOUT_S = 10.0
REQUEST_TIMEOUT_S = 15.0
INBOUND_CONNECT_WINDOW_S = 5.0
CHUNK = 64 * 1024
RELAY_SETUP_FAILED = 125  # the relay's own exit status when it cannot start (as env(1), docker run)
_LOGGED_REJECTIONS = 20  # the first ones are logged one by one, then one line per thousand
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_RELAY_MODULE = "practicum.sandbox.bridge"


class BridgeError(Exception):
    """The bridge cannot be set up (an inbound port is taken, a spec is malformed...)."""


def _check_port(value: object, what: str, *, allow_zero: bool = False) -> None:
    low = 0 if allow_zero else 1
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= 65535:
        raise ValueError(f"{what} must be an integer port in {low}..65535, not {value!r}")


@dataclass(frozen=True)
class Outbound:
    """Inside the sandbox, 127.0.0.1:``listen_port`` leads to ``target_host``:``target_port`` on the host."""

    name: str
    listen_port: int
    target_host: str
    target_port: int

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise ValueError(f"outbound name must match {_NAME.pattern}, not {self.name!r}")
        _check_port(self.listen_port, f"outbound {self.name!r} listen_port")
        if not isinstance(self.target_host, str) or not self.target_host or len(self.target_host) > 253:
            raise ValueError(f"outbound {self.name!r} target_host must be a host name or address")
        _check_port(self.target_port, f"outbound {self.name!r} target_port")


@dataclass(frozen=True)
class Inbound:
    """Connections to ``host_ip``:``host_port`` on the host reach 127.0.0.1:``inner_port`` inside.

    ``host_port`` 0 takes a free port when the broker starts (``HostBroker.inbound_addresses``).
    ``host_ip`` must be a loopback address: the proxy runs on this host.
    """

    host_port: int
    inner_port: int
    host_ip: str = "127.0.0.1"

    def __post_init__(self) -> None:
        _check_port(self.host_port, "inbound host_port", allow_zero=True)
        _check_port(self.inner_port, "inbound inner_port")
        try:
            if not isinstance(self.host_ip, str):
                raise TypeError
            address = ipaddress.ip_address(self.host_ip)
        except (TypeError, ValueError):
            raise ValueError(f"inbound host_ip must be an IP address, not {self.host_ip!r}") from None
        if not address.is_loopback:
            raise ValueError(f"inbound host_ip must be a loopback address, not {self.host_ip!r}")


@dataclass(frozen=True)
class BridgeSpec:
    """What crosses the sandbox's network boundary: nothing but these ports."""

    inbound: tuple[Inbound, ...] = ()
    outbound: tuple[Outbound, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.inbound, tuple) or not all(isinstance(i, Inbound) for i in self.inbound):
            raise ValueError("inbound must be a tuple of Inbound")
        if not isinstance(self.outbound, tuple) or not all(isinstance(o, Outbound) for o in self.outbound):
            raise ValueError("outbound must be a tuple of Outbound")
        names = [o.name for o in self.outbound]
        if len(set(names)) != len(names):
            raise ValueError(f"outbound names must be unique: {names}")
        listen = [o.listen_port for o in self.outbound]
        if len(set(listen)) != len(listen):
            raise ValueError(f"outbound listen ports must be unique: {listen}")
        clash = set(listen) & {i.inner_port for i in self.inbound}
        if clash:
            raise ValueError(f"ports {sorted(clash)} are both an inbound inner_port and an outbound listen_port")
        host = [(i.host_ip, i.host_port) for i in self.inbound if i.host_port]
        if len(set(host)) != len(host):
            raise ValueError(f"inbound host addresses must be unique: {host}")

    def outbound_named(self, name: str) -> Outbound | None:
        return next((o for o in self.outbound if o.name == name), None)

    def to_json(self) -> str:
        return json.dumps(
            {"inbound": [asdict(i) for i in self.inbound], "outbound": [asdict(o) for o in self.outbound]},
            separators=(",", ":"), sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> BridgeSpec:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"bridge spec is not JSON: {exc}") from None
        if not isinstance(data, dict) or not set(data) <= {"inbound", "outbound"}:
            raise ValueError("bridge spec must be an object with 'inbound' and 'outbound' lists")
        return cls(
            inbound=tuple(_from_fields(Inbound, item) for item in _as_list(data.get("inbound", []), "inbound")),
            outbound=tuple(_from_fields(Outbound, item) for item in _as_list(data.get("outbound", []), "outbound")),
        )


def _as_list(value: object, what: str) -> list:
    if not isinstance(value, list):
        raise ValueError(f"bridge spec {what} must be a list")
    return value


def _from_fields(kind: type, item: object):
    if not isinstance(item, dict):
        raise ValueError(f"{kind.__name__} entries must be objects, not {item!r}")
    try:
        return kind(**item)
    except TypeError as exc:
        raise ValueError(f"{kind.__name__} {item!r}: {exc}") from None


def relay_command(spec: BridgeSpec, fd: int, python: str) -> list[str]:
    """The argv prefix that runs the relay inside the sandbox; append ``COMMAND...`` to it.

    ``python -P``: the sandbox's working folder (a learner's files) is not put on ``sys.path``,
    so a learner's folder named ``practicum`` cannot shadow the relay.
    """
    return [python, "-P", "-m", _RELAY_MODULE, "--fd", str(int(fd)), "--spec", spec.to_json(), "--"]


# --- shared by both ends --------------------------------------------------------------------------


def _encode(message: dict) -> bytes:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def _peer_hung_up(sock: socket.socket) -> bool:
    """After a 0-byte read: was it the peer closing (not an empty record)?"""
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN | select.POLLRDHUP)
    return any(mask & (select.POLLHUP | select.POLLRDHUP | select.POLLERR) for _, mask in poller.poll(0))


def _received_fds(ancdata: list) -> list[int]:
    fds: list[int] = []
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            usable = len(data) - len(data) % array.array("i").itemsize
            fds.extend(array.array("i", data[:usable]))
    return fds


def _close_fds(fds: Sequence[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """One direction until EOF, then half-close the other side; ``drain`` bounds the buffering."""
    while True:
        data = await reader.read(CHUNK)
        if not data:
            break
        writer.write(data)
        await writer.drain()
    if writer.can_write_eof():
        writer.write_eof()


async def _splice(a: tuple[asyncio.StreamReader, asyncio.StreamWriter],
                  b: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
    """Pump both ways until both directions ended; on any error close both sides at once."""
    (a_reader, a_writer), (b_reader, b_writer) = a, b
    tasks = {asyncio.create_task(_copy(a_reader, b_writer)), asyncio.create_task(_copy(b_reader, a_writer))}
    try:
        pending = tasks
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if any(not t.cancelled() and t.exception() is not None for t in done):
                break
    finally:
        for task in tasks:
            task.cancel()
        for writer in (a_writer, b_writer):
            writer.close()
        await asyncio.gather(*tasks, return_exceptions=True)


# --- the broker (trusted launcher side) ------------------------------------------------------------


class _Rejected(Exception):
    pass


class _Broker:
    """The broker's state; lives on the broker thread's event loop only."""

    def __init__(self, spec: BridgeSpec, channel: socket.socket, listeners: list[tuple[int, socket.socket]],
                 relay_gone: threading.Event) -> None:
        self.spec = spec
        self.channel = channel
        self.listeners = listeners
        self.relay_gone = relay_gone
        self.loop = asyncio.get_running_loop()
        self.replies: collections.deque[tuple[bytes, socket.socket | None]] = collections.deque()
        self.connecting: set[asyncio.Task] = set()
        self.reading = False
        self.writing = False
        self.rate_timer: asyncio.TimerHandle | None = None
        self.tokens = REQUEST_BURST
        self.refilled = self.loop.time()
        self.rejections = 0

    async def serve(self, stop: asyncio.Future) -> None:
        for index, listener in self.listeners:
            self.loop.add_reader(listener.fileno(), self._accept, index, listener)
        self._update_reading()
        try:
            await stop
        finally:
            for _, listener in self.listeners:
                self.loop.remove_reader(listener.fileno())
            self._stop_channel()
            for task in self.connecting:
                task.cancel()
            await asyncio.gather(*self.connecting, return_exceptions=True)

    # inbound: accepted host connections go to the relay as they are
    def _accept(self, index: int, listener: socket.socket) -> None:
        inbound = self.spec.inbound[index]
        for _ in range(32):
            try:
                conn, _peer = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # EMFILE, ENFILE...: let the backlog wait a little
                log.error("bridge: accept on inbound port %d failed: %s", inbound.host_port, exc)
                self.loop.remove_reader(listener.fileno())
                self.loop.call_later(0.5, self.loop.add_reader, listener.fileno(), self._accept, index, listener)
                return
            if self.relay_gone.is_set() or len(self.replies) >= MAX_QUEUED_REPLIES:
                conn.close()
                continue
            self._send({"kind": "inbound", "index": index, "inner_port": inbound.inner_port}, conn)

    # outbound: requests from the (untrusted) relay
    def _update_reading(self) -> None:
        want = (not self.relay_gone.is_set() and self.rate_timer is None
                and len(self.replies) < MAX_QUEUED_REPLIES // (2 if not self.reading else 1))
        if want and not self.reading:
            self.loop.add_reader(self.channel.fileno(), self._on_readable)
        elif not want and self.reading:
            self.loop.remove_reader(self.channel.fileno())
        self.reading = want

    def _take_token(self) -> bool:
        now = self.loop.time()
        self.tokens = min(REQUEST_BURST, self.tokens + (now - self.refilled) * REQUESTS_PER_SECOND)
        self.refilled = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        self.rate_timer = self.loop.call_later(1.0 / REQUESTS_PER_SECOND * 16, self._rate_resume)
        self._update_reading()
        return False

    def _rate_resume(self) -> None:
        self.rate_timer = None
        self._update_reading()

    def _on_readable(self) -> None:
        for _ in range(64):
            if not self.reading or not self._take_token():
                return
            try:
                # No ancillary buffer: fds the relay attaches are closed by the kernel (MSG_CTRUNC).
                data, _anc, flags, _ = self.channel.recvmsg(MAX_MESSAGE + 1, 0, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self._lost(f"read failed: {exc}")
                return
            if not data and not flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC) and _peer_hung_up(self.channel):
                self._lost("relay closed the channel")
                return
            self._handle(data, flags)

    def _handle(self, data: bytes, flags: int) -> None:
        request_id = None
        try:
            if flags & socket.MSG_TRUNC or len(data) > MAX_MESSAGE:
                raise _Rejected(f"message longer than {MAX_MESSAGE} bytes")
            try:
                message = json.loads(data.decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError):
                raise _Rejected("not a JSON message") from None
            if not isinstance(message, dict):
                raise _Rejected("not a JSON object")
            rid = message.get("id")
            if isinstance(rid, int) and not isinstance(rid, bool) and 0 <= rid <= MAX_REQUEST_ID:
                request_id = rid
            else:
                raise _Rejected(f"'id' must be an integer in 0..{MAX_REQUEST_ID}")
            if flags & socket.MSG_CTRUNC:
                raise _Rejected("file descriptors are not accepted from the sandbox")
            if message.get("kind") != "connect" or set(message) != {"kind", "id", "name"}:
                raise _Rejected("only {kind: connect, id, name} requests are accepted")
            name = message["name"]
            target = self.spec.outbound_named(name) if isinstance(name, str) else None
            if target is None:
                raise _Rejected("no such outbound in this sandbox's bridge")
        except _Rejected as why:
            self._reject(str(why), data, request_id)
            return
        if len(self.connecting) >= MAX_PENDING_CONNECTS:
            self._send({"kind": "error", "id": request_id, "error": "too many connections in progress"})
            return
        task = self.loop.create_task(self._connect(request_id, target))
        self.connecting.add(task)
        task.add_done_callback(self.connecting.discard)

    def _reject(self, why: str, data: bytes, request_id: int | None) -> None:
        self.rejections += 1
        if self.rejections <= _LOGGED_REJECTIONS or self.rejections % 1000 == 0:
            log.warning("bridge: rejected a control message from the sandbox (%s; %d so far): %r",
                        why, self.rejections, data[:120])
        self._send({"kind": "error", "id": request_id, "error": why})

    async def _connect(self, request_id: int, target: Outbound) -> None:
        try:
            sock = await asyncio.wait_for(self._open(target), CONNECT_TIMEOUT_S)
        except (TimeoutError, OSError) as exc:
            reason = "connect timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
            log.info("bridge: outbound %r to %s:%d failed: %s", target.name, target.target_host, target.target_port, reason)
            self._send({"kind": "error", "id": request_id, "error": reason})
            return
        sock.setblocking(True)  # hand it over as accept() hands over inbound ones; the relay picks its mode
        self._send({"kind": "connected", "id": request_id}, sock)

    async def _open(self, target: Outbound) -> socket.socket:
        try:
            infos = socket.getaddrinfo(target.target_host, target.target_port, type=socket.SOCK_STREAM,
                                       flags=socket.AI_NUMERICHOST)
        except socket.gaierror:
            infos = await self.loop.getaddrinfo(target.target_host, target.target_port, type=socket.SOCK_STREAM)
        error: OSError = OSError(errno.EHOSTUNREACH, "no address for the target")
        for family, kind, proto, _, address in infos:
            if family not in (socket.AF_INET, socket.AF_INET6):
                continue
            sock = socket.socket(family, kind, proto)
            try:
                sock.setblocking(False)
                await self.loop.sock_connect(sock, address)
                return sock
            except OSError as exc:
                sock.close()
                error = exc
            except BaseException:
                sock.close()
                raise
        raise error

    # replies, in order; a reply's fd is closed here once the kernel holds it in the message
    def _send(self, message: dict, sock: socket.socket | None = None) -> None:
        if self.relay_gone.is_set():
            if sock is not None:
                sock.close()
            return
        self.replies.append((_encode(message), sock))
        self._flush()

    def _flush(self) -> None:
        while self.replies:
            data, sock = self.replies[0]
            try:
                if sock is None:
                    self.channel.send(data, socket.MSG_DONTWAIT | socket.MSG_NOSIGNAL)
                else:
                    rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [sock.fileno()]))]
                    self.channel.sendmsg([data], rights, socket.MSG_DONTWAIT | socket.MSG_NOSIGNAL)
            except (BlockingIOError, InterruptedError):
                if not self.writing:
                    self.loop.add_writer(self.channel.fileno(), self._flush)
                    self.writing = True
                self._update_reading()
                return
            except OSError as exc:
                if exc.errno in (errno.EPIPE, errno.ECONNRESET, errno.ECONNREFUSED, errno.ENOTCONN, errno.EBADF):
                    self._lost(f"send failed: {exc}")
                    return
                log.error("bridge: could not pass a message to the relay: %s", exc)  # ETOOMANYREFS...
            self.replies.popleft()
            if sock is not None:
                sock.close()
        if self.writing:
            self.loop.remove_writer(self.channel.fileno())
            self.writing = False
        self._update_reading()

    def _lost(self, why: str) -> None:
        if not self.relay_gone.is_set():
            log.info("bridge: relay gone (%s); inbound connections are refused from now on", why)
        self.relay_gone.set()
        self._stop_channel()

    def _stop_channel(self) -> None:
        if self.reading:
            self.loop.remove_reader(self.channel.fileno())
            self.reading = False
        if self.writing:
            self.loop.remove_writer(self.channel.fileno())
            self.writing = False
        if self.rate_timer is not None:
            self.rate_timer.cancel()
            self.rate_timer = None
        while self.replies:
            _, sock = self.replies.popleft()
            if sock is not None:
                sock.close()


class HostBroker:
    """The trusted end of a sandbox's bridge, run by the (root) launcher.

    ``HostBroker(spec)`` makes the socketpair; pass ``sandbox_fd`` to the sandbox with
    ``pass_fds`` (it is not inheritable here, so no other child of the launcher gets it) and
    call ``close_sandbox_end()`` once the sandbox has started. ``start()`` binds the inbound
    listeners at once (``BridgeError`` on a taken port) and serves on a background thread;
    ``close()`` stops it and closes every listener. Usable as a context manager.
    """

    def __init__(self, spec: BridgeSpec) -> None:
        if not isinstance(spec, BridgeSpec):
            raise TypeError("HostBroker needs a BridgeSpec")
        self.spec = spec
        self._channel, self._sandbox_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._listeners: list[tuple[int, socket.socket]] = []
        self._addresses: tuple[tuple[str, int], ...] = ()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Future | None = None
        self._relay_gone = threading.Event()
        self._closed = False

    @property
    def sandbox_fd(self) -> int:
        """The sandbox's end of the socketpair (give it to the relay: ``pass_fds``, ``--fd``)."""
        if self._sandbox_end is None:
            raise BridgeError("the sandbox end was already closed here")
        return self._sandbox_end.fileno()

    @property
    def inbound_addresses(self) -> tuple[tuple[str, int], ...]:
        """(host_ip, port) actually listened on, one per ``spec.inbound`` (ports 0 resolved)."""
        return self._addresses

    @property
    def relay_connected(self) -> bool:
        """False once the relay's end is closed (the sandbox ended, or its relay was killed)."""
        return not self._relay_gone.is_set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def close_sandbox_end(self) -> None:
        """Close the launcher's copy of ``sandbox_fd`` (after the sandbox has inherited it)."""
        if self._sandbox_end is not None:
            self._sandbox_end.close()
            self._sandbox_end = None

    def start(self) -> HostBroker:
        if self._closed or self._thread is not None:
            raise BridgeError("a HostBroker starts once")
        try:
            for index, inbound in enumerate(self.spec.inbound):
                self._listeners.append((index, _listen(inbound)))
        except BridgeError:
            self._close_listeners()
            raise
        self._addresses = tuple(lsock.getsockname()[:2] for _, lsock in self._listeners)
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, args=(ready, failure), daemon=True,
                                        name=f"bridge-broker-{self._channel.fileno()}")
        self._thread.start()
        ready.wait()
        if failure:
            self.close()
            raise BridgeError(f"the bridge broker did not start: {failure[0]}") from failure[0]
        return self

    def _run(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        try:
            self._loop = loop
            self._stop = loop.create_future()
            broker = loop.run_until_complete(_make_broker(self.spec, self._channel, self._listeners, self._relay_gone))
        except BaseException as exc:  # reported to start()
            failure.append(exc)
            ready.set()
            loop.close()
            return
        ready.set()
        try:
            loop.run_until_complete(broker.serve(self._stop))
        except Exception:
            log.exception("bridge: broker stopped on an error")
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the broker thread and close the listeners and the channel; idempotent."""
        self._closed = True
        loop, stop, thread = self._loop, self._stop, self._thread
        if thread is not None and thread.is_alive() and loop is not None and stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed
                loop.call_soon_threadsafe(lambda: stop.done() or stop.set_result(None))
            thread.join(timeout)
            if thread.is_alive():
                log.error("bridge: broker thread did not stop within %.1f s", timeout)
        self._close_listeners()
        self._channel.close()
        self.close_sandbox_end()
        self._relay_gone.set()

    def _close_listeners(self) -> None:
        for _, lsock in self._listeners:
            lsock.close()
        self._listeners = []

    def __enter__(self) -> HostBroker:
        return self if self._thread is not None else self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


async def _make_broker(spec: BridgeSpec, channel: socket.socket, listeners: list[tuple[int, socket.socket]],
                       relay_gone: threading.Event) -> _Broker:
    channel.setblocking(False)
    return _Broker(spec, channel, listeners, relay_gone)


def _listen(inbound: Inbound) -> socket.socket:
    family = socket.AF_INET6 if ipaddress.ip_address(inbound.host_ip).version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((inbound.host_ip, inbound.host_port))
        sock.listen(128)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise BridgeError(
            f"cannot listen on {inbound.host_ip}:{inbound.host_port} for the sandbox's port {inbound.inner_port}: "
            f"{exc.strerror or exc}"
        ) from exc
    return sock


# --- the relay (inside the sandbox; untrusted) -----------------------------------------------------


class _Relay:
    def __init__(self, spec: BridgeSpec, channel: socket.socket) -> None:
        self.spec = spec
        self.channel = channel
        self.loop = asyncio.get_running_loop()
        self.next_id = 0
        self.waiting: dict[int, asyncio.Future] = {}
        self.send_lock = asyncio.Lock()
        self.broker_gone = False
        self.tasks: set[asyncio.Task] = set()

    async def listen(self) -> list[asyncio.Server]:
        servers = []
        for outbound in self.spec.outbound:
            servers.append(await asyncio.start_server(
                lambda r, w, o=outbound: self._on_local(o, r, w), "127.0.0.1", outbound.listen_port,
                limit=CHUNK, reuse_address=True,
            ))
        return servers

    def attach(self) -> None:
        self.loop.add_reader(self.channel.fileno(), self._on_message)

    def detach(self) -> None:
        if not self.broker_gone:
            self.loop.remove_reader(self.channel.fileno())
        self.broker_gone = True
        for future in self.waiting.values():
            if not future.done():
                future.set_exception(ConnectionError("the bridge broker is gone"))

    def _on_message(self) -> None:
        for _ in range(64):
            try:
                data, anc, flags, _ = self.channel.recvmsg(
                    MAX_MESSAGE + 1, socket.CMSG_SPACE(4 * array.array("i").itemsize), socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.error("bridge relay: channel read failed: %s", exc)
                self.detach()
                return
            fds = _received_fds(anc)
            if not data and not fds and _peer_hung_up(self.channel):
                log.warning("bridge relay: the broker closed the channel; no more host connections")
                self.detach()
                return
            try:
                self._dispatch(data, flags, fds)
            except Exception as exc:  # a broker bug must not end the relay
                _close_fds(fds)
                log.error("bridge relay: bad message from the broker (%s): %r", exc, data[:120])

    def _dispatch(self, data: bytes, flags: int, fds: list[int]) -> None:
        message = json.loads(data)
        kind = message.get("kind")
        if kind == "inbound" and len(fds) == 1:
            inner_port = int(message["inner_port"])
            sock = socket.socket(fileno=fds[0])
            task = self.loop.create_task(self._serve_inbound(sock, inner_port))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            return
        future = self.waiting.get(message.get("id"))
        if kind == "connected" and len(fds) == 1 and future is not None and not future.done():
            future.set_result(socket.socket(fileno=fds[0]))
            return
        _close_fds(fds)
        if kind == "error" and future is not None and not future.done():
            future.set_exception(ConnectionError(str(message.get("error"))))
        elif kind not in ("connected", "error"):
            log.error("bridge relay: unexpected message from the broker: %r", data[:120])

    async def _request(self, outbound: Outbound) -> socket.socket:
        if self.broker_gone:
            raise ConnectionError("the bridge broker is gone")
        self.next_id += 1
        request_id = self.next_id
        future = self.loop.create_future()
        self.waiting[request_id] = future
        try:
            async with self.send_lock:
                await self.loop.sock_sendall(self.channel, _encode({"kind": "connect", "id": request_id,
                                                                     "name": outbound.name}))
            return await asyncio.wait_for(future, REQUEST_TIMEOUT_S)
        finally:
            del self.waiting[request_id]

    async def _on_local(self, outbound: Outbound, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            sock = await self._request(outbound)
            remote = await asyncio.open_connection(sock=sock, limit=CHUNK)
        except (TimeoutError, OSError) as exc:
            log.warning("bridge relay: %s (127.0.0.1:%d) unavailable: %s", outbound.name, outbound.listen_port,
                        exc or type(exc).__name__)
            writer.close()
            return
        await _splice((reader, writer), remote)

    async def _serve_inbound(self, sock: socket.socket, inner_port: int) -> None:
        """Deliver a host connection to the server inside, waiting briefly while it starts."""
        deadline = self.loop.time() + INBOUND_CONNECT_WINDOW_S
        delay = 0.02
        while True:
            try:
                inner = await asyncio.open_connection("127.0.0.1", inner_port, limit=CHUNK)
                break
            except OSError:
                if self.loop.time() + delay > deadline:
                    sock.close()
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.25)
        try:
            outer = await asyncio.open_connection(sock=sock, limit=CHUNK)
        except OSError:
            sock.close()
            inner[1].close()
            return
        await _splice(outer, inner)


def run_relay(spec: BridgeSpec, fd: int, command: Sequence[str]) -> int:
    """Inside the sandbox: listen for every outbound, run ``command``, relay; its exit status."""
    if not command:
        raise ValueError("the relay needs a command to run")
    return asyncio.run(_relay_main(spec, fd, list(command)))


async def _relay_main(spec: BridgeSpec, fd: int, command: list[str]) -> int:
    try:
        os.set_inheritable(fd, False)  # the command never gets the channel
        channel = socket.socket(fileno=fd)
        if channel.family != socket.AF_UNIX or channel.type != socket.SOCK_SEQPACKET:
            raise OSError(errno.ENOTSOCK, "not an AF_UNIX SOCK_SEQPACKET socket")
        channel.setblocking(False)
    except OSError as exc:
        log.error("bridge relay: fd %d is not the bridge channel: %s", fd, exc)
        return RELAY_SETUP_FAILED
    relay = _Relay(spec, channel)
    try:
        servers = await relay.listen()
    except OSError as exc:
        log.error("bridge relay: cannot listen inside the sandbox: %s", exc)
        return RELAY_SETUP_FAILED
    relay.attach()
    try:
        child = await asyncio.create_subprocess_exec(*command, close_fds=True)
    except OSError as exc:
        log.error("bridge relay: cannot start %s: %s", command[0], exc)
        return 127 if exc.errno == errno.ENOENT else 126
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, _forward, child, signum)
    status = await child.wait()
    for server in servers:
        server.close()
    relay.detach()
    channel.close()
    return status if status >= 0 else 128 - status


def _forward(child: asyncio.subprocess.Process, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        child.send_signal(signum)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if "--" not in args:
        print("usage: python -m practicum.sandbox.bridge --fd N --spec JSON -- COMMAND...", file=sys.stderr)
        return RELAY_SETUP_FAILED
    split = args.index("--")
    parser = argparse.ArgumentParser(prog="python -m practicum.sandbox.bridge",
                                     description="The sandbox end of the network bridge: relay, then run COMMAND.")
    parser.add_argument("--fd", type=int, required=True, help="the inherited end of the broker's socketpair")
    parser.add_argument("--spec", required=True, help="the BridgeSpec as JSON (BridgeSpec.to_json())")
    options = parser.parse_args(args[:split])
    command = args[split + 1:]
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    try:
        spec = BridgeSpec.from_json(options.spec)
    except ValueError as exc:
        log.error("bridge relay: %s", exc)
        return RELAY_SETUP_FAILED
    if not command:
        log.error("bridge relay: no COMMAND after --")
        return RELAY_SETUP_FAILED
    return run_relay(spec, options.fd, command)


if __name__ == "__main__":
    sys.exit(main())
