"""A small client for the InfluxDB v1 HTTP API: ``POST /write`` and ``POST /query``.

These two endpoints are served by InfluxDB 1.x, by 2.x (v1 compatibility, token
auth, DBRP mappings) and by 3 Core, so code on top of them runs on all three.
Transport failures, 5xx and auth / not-found answers raise
:class:`~collector.store.base.StoreUnavailable` (retrying later can succeed);
a 400 (bad line protocol or query) raises :class:`InfluxError`.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Iterator

import httpx

from collector.store.base import StoreUnavailable

log = logging.getLogger(__name__)


# Query errors that mean "not now" rather than "bad query": the database is not created / has no
# DBRP mapping yet, or the server is shutting down (seen when influxd is stopped mid-query).
_TRANSIENT_QUERY_ERRORS = ("database not found", "query engine shutdown", "shutting down")


class InfluxError(RuntimeError):
    """InfluxDB rejected a request as invalid: retrying the same request cannot succeed."""


class InfluxStatus(StoreUnavailable):
    """InfluxDB answered with an HTTP status that may clear up later (5xx, auth, not found)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


_RETRYABLE_4XX = {401, 403, 404, 408, 429}  # auth, missing database / DBRP, timeouts, rate limits


class InfluxHttp:
    """Thread-safe: each thread gets its own :class:`httpx.Client` (connection pool)."""

    def __init__(
        self,
        url: str,
        database: str,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.database = database
        self._headers = {"Authorization": f"Token {token}"} if token else {}
        self._auth = (username, password or "") if username else None
        self._timeout = timeout_s
        self._local = threading.local()
        self._clients: list[httpx.Client] = []
        self._lock = threading.Lock()

    def _client(self) -> httpx.Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = httpx.Client(
                base_url=self.url, headers=self._headers, auth=self._auth, timeout=self._timeout
            )
            self._local.client = client
            with self._lock:
                self._clients.append(client)
        return client

    def _post(self, path: str, params: dict[str, str], content: bytes | None = None,
              data: dict[str, str] | None = None) -> httpx.Response:
        try:
            resp = self._client().post(path, params=params, content=content, data=data)
        except httpx.TransportError as exc:
            raise StoreUnavailable(f"InfluxDB at {self.url}: {exc!r}") from exc
        if resp.status_code >= 500 or resp.status_code in _RETRYABLE_4XX:
            raise InfluxStatus(resp.status_code, f"InfluxDB {path}: HTTP {resp.status_code} {resp.text[:300]}")
        if resp.status_code >= 400:
            raise InfluxError(f"InfluxDB {path}: HTTP {resp.status_code} {resp.text[:300]}")
        return resp

    def write(self, lines: list[str], rp: str | None = None) -> None:
        """Write line protocol with nanosecond timestamps."""
        params = {"db": self.database, "precision": "ns"}
        if rp:
            params["rp"] = rp
        try:
            self._post("/write", params, content="\n".join(lines).encode())
        except InfluxError as exc:
            # Points older than the retention policy are dropped, the rest of the batch is
            # stored: expired data is not an error (a replayed spool may hold some).
            if "beyond retention policy" not in str(exc):
                raise
            log.warning("%s", exc)

    def query(self, q: str, database: bool = True) -> Iterator[dict[str, object]]:
        """Run InfluxQL; yield one dict per row: series tags + columns (times as epoch ns).

        Uses chunked responses, so results are not cut at the server's row limit."""
        params = {"q": q, "epoch": "ns", "chunked": "true", "chunk_size": "10000"}
        if database:
            params["db"] = self.database
        resp = self._post("/query", params={}, data=params)
        for line in resp.text.splitlines():
            if not line.strip():
                continue
            for result in json.loads(line).get("results", []):
                if "error" in result:
                    error = f"InfluxQL {q!r}: {result['error']}"
                    if any(m in result["error"] for m in _TRANSIENT_QUERY_ERRORS):
                        raise StoreUnavailable(error)
                    raise InfluxError(error)
                for series in result.get("series", []):
                    tags = series.get("tags", {})
                    columns = series["columns"]
                    for values in series.get("values", []):
                        yield {**tags, **dict(zip(columns, values, strict=True))}

    def command(self, q: str) -> None:
        """Run a statement for its effect (CREATE / ALTER / DROP)."""
        for _ in self.query(q, database=False):
            pass

    def close(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()
        self._local = threading.local()


def quote_ident(name: str) -> str:
    """An InfluxQL double-quoted identifier."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def quote_str(value: str) -> str:
    """An InfluxQL single-quoted string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


_TAG_ESCAPES = str.maketrans({",": "\\,", " ": "\\ ", "=": "\\=", "\\": "\\\\"})


@functools.lru_cache(maxsize=8192)
def tag(value: str) -> str:
    """Escape a line-protocol tag value (cached: ids repeat on every line)."""
    return value.translate(_TAG_ESCAPES)


def field_text(value: str) -> str:
    """A line-protocol string field value (uncached: for long, ever-new values)."""
    cleaned = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return f'"{cleaned}"'


@functools.lru_cache(maxsize=8192)
def field_str(value: str) -> str:
    """A line-protocol string field value (cached: boots and reasons repeat on every line)."""
    return field_text(value)
