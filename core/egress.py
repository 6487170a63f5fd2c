"""Outbound HTTP to addresses a client chose (webhooks): public addresses only, unless allowed.

A target is checked twice: when it is registered (`target_check`, a 400 naming the field) and
when it is called (`target_resolve`), because a name can resolve elsewhere later (DNS
rebinding). The caller then connects to the address that was checked (`pinned_post`), never
to a second lookup of the name. Refused: loopback, private, link-local, multicast, reserved,
unspecified and every other non-global address, in IPv4 and IPv6, including IPv4-mapped,
6to4 and NAT64 forms of them, and names (or decimal/hex/short forms of an address) that resolve to one.

`WEBHOOK_ALLOWED_HOSTS` lists exceptions: host names (matched exactly, case-insensitively) and
addresses or CIDR networks (`127.0.0.1`, `10.0.0.0/8`, `fd00::/8`). `WEBHOOK_CA_BUNDLE` names a CA
bundle for receivers with a private CA (default: the bundle requests ships).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from core.errors import ValidationFailed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class TargetRefused(Exception):
    """The target resolves to an address outbound calls may not reach."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Target:
    scheme: str
    host: str  # as written in the URL, lowercased, without brackets
    port: int
    address: IPAddress  # the checked address to connect to


def _embedded_v4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_is_public(address: IPAddress) -> bool:
    """A globally routable unicast address (and so is any IPv4 address embedded in it)."""
    embedded = _embedded_v4(address)
    if embedded is not None and not address_is_public(embedded):
        return False
    return not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def _allowlist() -> tuple[set[str], list[ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    names: set[str] = set()
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for entry in settings.WEBHOOK_ALLOWED_HOSTS:
        entry = entry.strip().lower()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry)
    return names, networks


def address_allowed(address: IPAddress, *, host: str = "") -> bool:
    names, networks = _allowlist()
    if host.lower() in names:
        return True
    embedded = _embedded_v4(address)
    for candidate in (address, embedded):
        if candidate is not None and any(candidate in n for n in networks if n.version == candidate.version):
            return True
    return address_is_public(address)


def _resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the name resolves to (a literal resolves to itself, as the OS parses it)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def target_resolve(url: str) -> Target:
    """Resolve the URL's host now; every address must be allowed. Raises TargetRefused."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise TargetRefused("Not an http(s) URL with a host.")
    host = parts.hostname.lower()
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetRefused("The port is not a number between 0 and 65535.") from None
    try:
        addresses = _resolve(host, port)
    except (OSError, UnicodeError, ValueError):
        raise TargetRefused(f"The host {host!r} does not resolve.") from None
    refused = [str(a) for a in addresses if not address_allowed(a, host=host)]
    if refused or not addresses:
        raise TargetRefused(
            f"The host {host!r} resolves to an address that is not public ({', '.join(refused)}); "
            "only public addresses, or those in WEBHOOK_ALLOWED_HOSTS, may be called."
        )
    return Target(scheme=parts.scheme, host=host, port=port, address=addresses[0])


def target_check(url: str, *, field: str) -> str:
    """Registration check: a 400 naming `field` for a URL that is not an allowed http(s) target."""
    try:
        target_resolve(url)
    except TargetRefused as exc:
        raise ValidationFailed(f"Webhook target refused: {exc}", details={field: [str(exc)]}) from None
    return url


class _PinnedTLS(HTTPAdapter):
    """Connect to an address but verify the certificate and send SNI for the original host name."""

    def __init__(self, hostname: str) -> None:
        self._hostname = hostname
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["server_hostname"] = self._hostname
        kwargs["assert_hostname"] = self._hostname
        super().init_poolmanager(*args, **kwargs)


def pinned_post(url: str, *, data: bytes, headers: dict[str, str], timeout: float) -> requests.Response:
    """POST to `url` at the address resolved and checked now; no proxies from the environment, no redirects."""
    target = target_resolve(url)
    parts = urlsplit(url)
    literal = f"[{target.address}]" if target.address.version == 6 else str(target.address)
    netloc = f"{literal}:{target.port}"
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    if ":" in target.host:
        host_header = f"[{target.host}]" if target.port == default_port else f"[{target.host}]:{target.port}"
    with requests.Session() as session:
        session.trust_env = False
        session.verify = settings.WEBHOOK_CA_BUNDLE or True
        session.mount("https://", _PinnedTLS(target.host))
        return session.post(
            pinned,
            data=data,
            headers={**headers, "Host": host_header},
            timeout=timeout,
            allow_redirects=False,
        )
