"""Where the LMS may send requests (webhooks): public addresses only, unless an admin allows a host.

A target is checked when it is registered and again at every delivery, after DNS resolution, and the
request then goes to the address that was checked (so a name that resolves to a public address when
checked and to 127.0.0.1 a moment later reaches nothing internal). Refused: loopback, private,
link-local, shared (CGNAT), multicast, reserved and documentation ranges, the unspecified address,
their IPv6 equivalents, and IPv4-mapped/-compatible, 6to4 and Teredo IPv6 addresses of any of them.
The admin setting `webhook_allowed_hosts` (`PRACTICUM_LMS_WEBHOOK_ALLOWED_HOSTS`, comma-separated
host names or addresses as written in the URL, optionally `host:port`) names the exceptions.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from .errors import ApiError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]


class TargetRefused(Exception):
    """The URL may not be called; `reason` is safe to show (it says nothing about what answered)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in ipaddress.IPv6Network("::/96") and int(address) > 1:  # deprecated IPv4-compatible
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """Whether `address` is a globally routable unicast address (and so not an internal one)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public(embedded)
    return address.is_global and not (
        address.is_multicast or address.is_loopback or address.is_link_local or address.is_reserved
        or address.is_unspecified or address.is_private
    )


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise TargetRefused("host does not resolve") from exc
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (`address`, None for an allowed host: connect by name)."""

    url: str
    host: str
    port: int
    address: str | None


def _allowed(host: str, port: int, allowed_hosts: Iterable[str]) -> bool:
    names = {h.strip().lower() for h in allowed_hosts if h.strip()}
    bare = host.lower()
    return bare in names or f"{bare}:{port}" in names or (":" in bare and f"[{bare}]:{port}" in names)


def check_target(url: str, allowed_hosts: Iterable[str] = (), resolver: Resolver = system_resolver) -> Target:
    """The target of `url` if it may be called; raises `TargetRefused` otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("only http and https URLs with a host")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("no credentials in the URL")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise TargetRefused("invalid port") from exc
    host = parts.hostname
    if _allowed(host, port, allowed_hosts):
        return Target(url=url, host=host, port=port, address=None)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is None:
        try:
            # Whatever the C library would read as an address (0x7f.1, 2130706433, 127.1) is one.
            literal = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            literal = None
    candidates = [str(literal)] if literal is not None else resolver(host, port)
    addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in candidates]
    if not addresses:
        raise TargetRefused("host does not resolve")
    if not all(is_public(a) for a in addresses):
        raise TargetRefused("address not allowed (internal or reserved)")
    return Target(url=url, host=host, port=port, address=str(addresses[0]))


def check_registration(url: str, allowed_hosts: Iterable[str]) -> None:
    """For the API and the CLI: 422 when a webhook URL may not be called."""
    try:
        check_target(url, allowed_hosts)
    except TargetRefused as exc:
        raise ApiError(422, "webhook_url_not_allowed", f"This webhook URL may not be used: {exc.reason}.") from exc


def pinned_request(target: Target) -> tuple[str, dict[str, str], dict[str, str]]:
    """(URL to request, extra headers, httpx extensions) that connect to the checked address while the
    receiver still sees its own host name (Host header; TLS SNI and certificate check on the name)."""
    if target.address is None:
        return target.url, {}, {}
    parts = urlsplit(target.url)
    address = f"[{target.address}]" if ":" in target.address else target.address
    default_port = 443 if parts.scheme == "https" else 80
    netloc = address if target.port == default_port else f"{address}:{target.port}"
    host_header = parts.netloc.rsplit("@", 1)[-1]
    extensions = {"sni_hostname": target.host} if parts.scheme == "https" else {}
    return parts._replace(netloc=netloc).geturl(), {"Host": host_header}, extensions
