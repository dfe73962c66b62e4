"""A real webhook receiver for the tests: an HTTP server on a loopback port that verifies every
signature with the recipe of docs/integrations.md and records what it got."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from collector.notify.signing import verify
from hubsense.services import free_port


@dataclass
class Received:
    id: str
    type: str
    body: dict
    headers: dict[str, str]
    signed: bool  # the signature verified with the receiver's secret
    answered: int  # the status the receiver answered


Behaviour = Callable[["Receiver", dict, int], tuple[int, float, dict[str, str]]]  # -> status, delay, headers


def always(status: int = 200) -> Behaviour:
    return lambda receiver, body, n: (status, 0.0, {})


@dataclass
class Receiver:
    """``behaviour(receiver, body, n)`` decides each answer (n: how many requests came before);
    ``start()`` / ``stop()`` can be repeated on the same port (a receiver that is down for a while)."""

    secret: str = ""
    behaviour: Behaviour = field(default_factory=always)
    port: int = field(default_factory=free_port)
    path: str = "/hook"
    got: list[Received] = field(default_factory=list)
    requests: int = 0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                body = json.loads(raw)
                with receiver._lock:
                    n = receiver.requests
                    receiver.requests += 1
                status, delay, extra = receiver.behaviour(receiver, body, n)
                if delay:
                    time.sleep(delay)
                signed = verify(receiver.secret, self.headers.get("Hubsense-Signature", ""), raw, time.time())
                with receiver._lock:
                    receiver.got.append(Received(body["id"], body["type"], body, dict(self.headers), signed, status))
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def accepted(self) -> list[Received]:
        """What the receiver answered 2xx to, in arrival order."""
        with self._lock:
            return [r for r in self.got if 200 <= r.answered < 300]

    def accepted_ids(self) -> list[str]:
        return [r.id for r in self.accepted()]
