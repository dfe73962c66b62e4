"""One webhook POST over a connection pinned to a checked address (stdlib ``http.client``).

``http.client`` never follows redirects by itself; :func:`post` follows a 301/302/303/307/308
only where :mod:`collector.notify.targets` allows it, re-checking the new URL first.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urljoin

from collector.notify.targets import Target, TargetPolicy, TargetRefused, check

MAX_REDIRECTS = 3
ERROR_BODY_BYTES = 512  # of a failed response, kept for the delivery log
USER_AGENT = "hubsense-webhooks/1"


@dataclass(frozen=True)
class Result:
    status: int | None  # HTTP status of the final response; None if none came
    error: str | None  # None: delivered (2xx)

    @property
    def ok(self) -> bool:
        return self.error is None


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, target: Target, address: str, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, target: Target, address: str, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(target: Target, body: bytes, headers: dict[str, str], timeout: float, policy: TargetPolicy,
         context: ssl.SSLContext | None = None) -> Result:
    """POST ``body``; follows allowed redirects.  Never raises for network trouble: the result says."""
    for _ in range(MAX_REDIRECTS + 1):
        status, location, error = _once(target, body, headers, timeout, context)
        if location is None:
            return Result(status, error)
        try:
            target = _redirect(target, location, policy)
        except TargetRefused as exc:
            return Result(status, f"redirect refused: {exc}")
    return Result(status, f"more than {MAX_REDIRECTS} redirects")


def _redirect(current: Target, location: str, policy: TargetPolicy) -> Target:
    nxt = check(urljoin(current.url, location), policy)
    if nxt.origin != current.origin and not policy.host_listed(nxt.host):
        raise TargetRefused(f"{location} is another host than {current.host}:{current.port} "
                            "(only hosts in webhook_allowed_hosts may be redirected to)")
    return nxt


def _once(target: Target, body: bytes, headers: dict[str, str], timeout: float,
          context: ssl.SSLContext | None) -> tuple[int | None, str | None, str | None]:
    """(status, redirect location or None, error or None)."""
    last_error = "no address"
    for address in target.addresses:
        if target.scheme == "https":
            conn: http.client.HTTPConnection = _PinnedHTTPS(target, address, timeout,
                                                            context or ssl.create_default_context())
        else:
            conn = _PinnedHTTP(target, address, timeout)
        try:
            conn.connect()
        except (OSError, ssl.SSLError) as exc:
            last_error = _describe(exc, "connect")
            conn.close()
            continue
        try:
            return _exchange(conn, target, body, headers)
        except (OSError, http.client.HTTPException) as exc:
            return None, None, _describe(exc, "request")
        finally:
            conn.close()
    return None, None, last_error


def _exchange(conn: http.client.HTTPConnection, target: Target, body: bytes,
              headers: dict[str, str]) -> tuple[int | None, str | None, str | None]:
    conn.request("POST", target.path, body=body, headers={
        "Content-Type": "application/json", "User-Agent": USER_AGENT, **headers})
    response = conn.getresponse()
    status = response.status
    if 200 <= status < 300:
        return status, None, None
    if status in (301, 302, 303, 307, 308) and response.getheader("Location"):
        return status, response.getheader("Location"), None
    text = response.read(ERROR_BODY_BYTES).decode("utf-8", "replace").strip()
    return status, None, f"HTTP {status}" + (f": {text[:200]}" if text else "")


def _describe(exc: BaseException, during: str) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"timeout ({during})"
    return f"{type(exc).__name__} ({during}): {exc}"
