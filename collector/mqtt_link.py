"""The collector's side of its MQTT process (:mod:`collector.mqtt_child`).

:class:`MqttLink` starts the process, reads its events in a thread of its own and hands them to
the ingest (:class:`LinkEvents`), and stands in for the paho client everywhere the collector used
one: ``publish`` (storage acknowledgements, Home Assistant), ``will_set``, ``is_connected``, plus
:meth:`MqttLink.ack` for the messages the ingest has committed.  If the process exits while the
collector runs (it should not), a new one is started after a pause: it reconnects with the same
persistent session, so the broker sends again whatever was not acknowledged.
"""

from __future__ import annotations

import itertools
import logging
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from typing import Protocol

from collector.mqtt_child import FrameReader, encode_frame, write_all
from hubsense.logs import JsonFormatter

log = logging.getLogger(__name__)

RESTART_DELAYS_S = (0.2, 1.0, 5.0)  # after an unexpected exit of the MQTT process: first, second, later


class LinkEvents(Protocol):
    """What the MQTT process reports, called in the link's reader thread."""

    def on_messages(self, batch: list[tuple]) -> None: ...
    def on_connect(self, failed: bool, reason: str, session_present: bool) -> None: ...
    def on_subscribe(self, results: list[tuple[bool, str]]) -> None: ...
    def on_disconnect(self, reason: str) -> None: ...


@dataclass
class LinkConfig:
    """The connection: what the paho client in the MQTT process is made with."""

    host: str
    port: int
    client_id: str
    username: str | None
    password: str | None
    ca_file: str | None
    certfile: str | None
    keyfile: str | None
    session_expiry_s: int
    max_packet_bytes: int
    subscriptions: list[tuple[int | None, list[tuple[str, int]]]]  # (subscription id, [(topic, qos)]) per SUBSCRIBE
    keepalive: int = 30
    max_inflight: int = 1000
    reconnect_delay: tuple[float, float] = (0.2, 10.0)
    watchdog_s: float = 90.0  # the process ends when the collector is silent this long (it says 'alive' 4 times a s)
    will: tuple[str, str | bytes, int, bool] | None = field(default=None)


class PublishInfo:
    """What :meth:`MqttLink.publish` returns: like paho's ``MQTTMessageInfo``, ``wait_for_publish``."""

    def __init__(self, connected: bool) -> None:
        self.connected = connected
        self.failed = False
        self._done = threading.Event()

    def _complete(self, failed: bool) -> None:
        self.failed = failed
        self._done.set()

    def is_published(self) -> bool:
        return self._done.is_set() and not self.failed

    def wait_for_publish(self, timeout: float | None = None) -> None:
        if not self.connected:
            raise RuntimeError("the message was not queued: not connected")
        self._done.wait(timeout)


class MqttLink:
    def __init__(self, config: LinkConfig, events: LinkEvents) -> None:
        self.config = config
        self.events = events
        self.connection = 0  # the MQTT process's connection number (acknowledgements name it)
        self._connected = False
        self._proc: subprocess.Popen | None = None
        self._cmd_fd: int | None = None
        self._cmd_lock = threading.Lock()
        self._tokens = itertools.count(1)
        self._waiting: dict[int, PublishInfo] = {}
        self._stopping = threading.Event()
        self._reader: threading.Thread | None = None
        self.restarts = 0

    # -- the paho-like surface -----------------------------------------------------------

    def will_set(self, topic: str, payload: str | bytes, qos: int = 0, retain: bool = False) -> None:
        """The Last Will (before :meth:`start`)."""
        self.config.will = (topic, payload, qos, retain)

    def is_connected(self) -> bool:
        return self._connected

    def publish(self, topic: str, payload: str | bytes, qos: int = 0, retain: bool = False) -> PublishInfo:
        info = PublishInfo(self._connected)
        token = next(self._tokens)
        self._waiting[token] = info
        data = payload.encode() if isinstance(payload, str) else payload
        if not self._command("publish", token, topic, data, qos, retain):
            self._waiting.pop(token, None)
            info._complete(True)
        return info

    def ack(self, connection: int, mids: list[int]) -> None:
        """Acknowledge these QoS 1 messages of that connection (dropped by the process if it has reconnected
        since: the broker sends them again)."""
        if mids:
            self._command("ack", connection, mids)

    def alive(self) -> None:
        """Tell the process the collector still runs (see ``watchdog_s``)."""
        self._command("alive")

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self._stopping.clear()
        self._spawn()

    def stop(self, timeout: float = 10.0) -> None:
        """A clean disconnect, then the process ends."""
        self._stopping.set()
        proc = self._proc
        self._command("stop")
        if proc is not None:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("the MQTT process did not stop within %.0f s; killing it", timeout)
                proc.kill()
                proc.wait(5)
        if self._reader is not None:
            self._reader.join(timeout)
        self._close_commands()

    def _spawn(self) -> None:
        cmd_read, cmd_write = os.pipe()
        evt_read, evt_write = os.pipe()
        try:
            self._proc = subprocess.Popen([sys.executable, "-m", "collector.mqtt_child", str(cmd_read), str(evt_write)],
                                          pass_fds=(cmd_read, evt_write), stdin=subprocess.DEVNULL,
                                          start_new_session=True)
        finally:
            os.close(cmd_read)
            os.close(evt_write)
        with self._cmd_lock:
            self._cmd_fd = cmd_write
        self._command("config", self._child_config())
        self._reader = threading.Thread(target=self._read, args=(self._proc, evt_read), name="mqtt-link", daemon=True)
        self._reader.start()

    def _child_config(self) -> dict:
        root = logging.getLogger()
        return {**vars(self.config), "log_level": logging.getLevelName(root.getEffectiveLevel()),
                "log_json": any(isinstance(h.formatter, JsonFormatter) for h in root.handlers)}

    def _command(self, *item: object) -> bool:
        frame = encode_frame(item)
        with self._cmd_lock:
            if self._cmd_fd is None:
                return False
            try:
                write_all(self._cmd_fd, frame)
                return True
            except OSError:  # the process is gone; the reader restarts it
                return False

    def _close_commands(self) -> None:
        with self._cmd_lock:
            if self._cmd_fd is not None:
                os.close(self._cmd_fd)
                self._cmd_fd = None

    # -- events ---------------------------------------------------------------------------

    def _read(self, proc: subprocess.Popen, fd: int) -> None:
        reader = FrameReader(fd)
        try:
            while reader.fill():
                for item in reader.frames():
                    self._dispatch(item)
        finally:
            os.close(fd)
            self._ended(proc)

    def _dispatch(self, item: tuple) -> None:
        kind = item[0]
        if kind == "msgs":
            self.events.on_messages(item[1])
        elif kind == "published":
            for token, failed in item[1]:
                if (info := self._waiting.pop(token, None)) is not None:
                    info._complete(failed)
        elif kind == "connect":
            _, failed, reason, session_present, connection = item
            self.connection = connection
            self._connected = not failed
            self.events.on_connect(failed, reason, session_present)
        elif kind == "suback":
            self.events.on_subscribe(item[1])
        elif kind == "disconnect":
            self._connected = False
            self.events.on_disconnect(item[1])

    def _ended(self, proc: subprocess.Popen) -> None:
        """The process's end of the event pipe closed: it exited."""
        code = proc.wait()
        was_connected, self._connected = self._connected, False
        for token in list(self._waiting):
            if (info := self._waiting.pop(token, None)) is not None:
                info._complete(True)
        if self._stopping.is_set():
            return
        log.error("the MQTT process exited (status %s); starting a new one", code)
        if was_connected:
            self.events.on_disconnect(f"MQTT process exited ({code})")
        self._close_commands()
        delay = RESTART_DELAYS_S[min(self.restarts, len(RESTART_DELAYS_S) - 1)]
        self.restarts += 1
        if not self._stopping.wait(delay):
            self._spawn()
