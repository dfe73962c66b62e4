"""Where webhooks may go (SSRF protection), checked before any request.

* only ``http`` and ``https`` URLs, without credentials in them;
* the host is resolved and **every** address checked: loopback, private, link-local, shared,
  multicast, reserved and unspecified addresses are refused unless they lie in one of the
  ``webhook_private_networks``; with a non-empty ``webhook_allowed_hosts`` the host must also be one
  of those names (``*.example.org`` for its subdomains) or lie in one of those networks;
* the connection then goes to an address that was checked (:class:`Target` keeps them), so a DNS
  answer that changes between check and connect (rebinding) cannot redirect it;
* redirects are followed only to the same scheme, host and port (each checked again), or to a host
  named in ``webhook_allowed_hosts``.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_URL = 2000


class TargetRefused(ValueError):
    """A webhook URL the policy refuses (the message says why)."""


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


@dataclass(frozen=True)
class TargetPolicy:
    allowed_hosts: tuple[str, ...] = ()  # names, '*.domain' or CIDR networks; empty: any public host
    private_networks: tuple[Network, ...] = ()  # private / loopback ranges allowed nonetheless
    resolve: Callable[[str, int], list[str]] = field(default=_resolve, compare=False)

    @classmethod
    def from_lists(cls, allowed_hosts: Iterable[str], private_networks: Iterable[str]) -> TargetPolicy:
        """Raises ValueError naming a network that does not parse."""
        nets = []
        for text in private_networks:
            try:
                nets.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                raise ValueError(f"not an IP network: {text!r} (e.g. '10.1.2.0/24' or '127.0.0.1/32')") from None
        return cls(tuple(h.strip().lower().rstrip(".") for h in allowed_hosts if h.strip()), tuple(nets))

    def _listed_networks(self) -> list[Network]:
        out = []
        for entry in self.allowed_hosts:
            try:
                out.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                continue
        return out

    def host_listed(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(entry == host or (entry.startswith("*.") and host.endswith(entry[1:]))
                   for entry in self.allowed_hosts)

    def address_problem(self, address: IPAddress) -> str | None:
        """Why this address may not be called, or None."""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if any(address in net for net in self.private_networks):
            return None
        if address.is_loopback:
            return f"{address} is a loopback address"
        if address.is_link_local:
            return f"{address} is a link-local address"
        if address.is_multicast or address.is_unspecified or address.is_reserved:
            return f"{address} is not a unicast address"
        if address.is_private or not address.is_global:
            return f"{address} is a private address"
        return None


@dataclass(frozen=True)
class Target:
    """A checked URL and the addresses it may be reached at."""

    url: str
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line
    addresses: tuple[str, ...]

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)


def parse_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path?query) of an acceptable URL, or TargetRefused."""
    if len(url) > MAX_URL:
        raise TargetRefused(f"URL longer than {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise TargetRefused(f"only http and https URLs are allowed, not {scheme or 'a URL without scheme'!r}")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("credentials in the URL are not allowed (the signature authenticates us)")
    host = (parts.hostname or "").rstrip(".")
    if not host or any(c in host for c in " \t\r\n/\\"):
        raise TargetRefused("the URL has no valid host")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if any(c in path for c in "\r\n "):
        raise TargetRefused("the URL's path has spaces or line breaks")
    return scheme, host, port or (443 if scheme == "https" else 80), path


def check(url: str, policy: TargetPolicy) -> Target:
    """Resolve and check a URL; raises TargetRefused with the reason."""
    scheme, host, port, path = parse_url(url)
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if policy.allowed_hosts:
        in_nets = literal is not None and any(literal in n for n in policy._listed_networks())
        if not (policy.host_listed(host) or in_nets):
            raise TargetRefused(f"{host} is not on the allow-list (webhook_allowed_hosts)")
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = policy.resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise TargetRefused(f"{host} does not resolve: {exc}") from None
        if not addresses:
            raise TargetRefused(f"{host} has no address")
    for text in addresses:
        problem = policy.address_problem(ipaddress.ip_address(text.split("%")[0]))
        if problem is not None:
            via = "" if literal is not None else f"{host} resolves to "
            raise TargetRefused(f"{via}{problem}; refused unless listed in webhook_private_networks")
    return Target(url, scheme, host, port, path, tuple(addresses))
