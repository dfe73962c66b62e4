"""The collector's MQTT connection, in a process of its own (docs/reliability.md, "The MQTT process").

:mod:`collector.mqtt_link` starts this as ``python -m collector.mqtt_child IN OUT`` with two pipes:
commands from the collector on file descriptor ``IN`` (the first one is the connection's
configuration), events to it on ``OUT``.  It owns the paho-mqtt client, so decoding MQTT no longer
competes for the collector's GIL with validation, the engine and the store:

* every PUBLISH received goes to the collector as ``(topic, payload, mid, qos, retain, subscription
  ids, received, connection)``, in one frame per burst read from the socket;
* nothing is acknowledged here: the collector sends back the ``(connection, mid)`` of the messages
  it has committed, and they are acknowledged then (``manual_ack``); an acknowledgement for an
  earlier connection is dropped (the broker sends that message again on the new one);
* it subscribes on every (re)connect, publishes what the collector asks, and tells it about
  connects, subscription results, disconnects and completed publishes.

It imports paho-mqtt and the standard library only, runs in a session of its own and ignores
SIGINT and SIGTERM.  It ends when the collector's end of the command pipe closes (the collector
exited or was killed), when no command came for ``watchdog_s`` (the collector hangs or is stopped:
the broker then sees the connection drop, as it would have without this process, and fires the
Last Will), or on a ``stop`` command (a clean disconnect).

Decoding is leaner than paho's: a PUBLISH without MQTT v5 properties (what agents send, and what
the broker delivers unless subscription identifiers are in use) is taken apart here without
building paho's ``Properties`` and ``MQTTMessage`` objects (most of paho's time per message), and
the socket is read 64 kB at a time instead of paho's two or three reads per packet.  Anything
else takes paho's own path.
"""

from __future__ import annotations

import logging
import os
import pickle
import select
import signal
import struct
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hubsense.logs import setup_logging
from hubsense.mqtt_client import make_client

log = logging.getLogger("collector.mqtt")

HEADER = struct.Struct("!I")
RECV_CHUNK = 65536
MAX_BATCH = 2000  # messages per frame to the collector
_PUBACK = 0x40
_SUCCESS = mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS


# --- frames: a 4-byte length and a pickled tuple (both ends are this program and the collector) ---

def encode_frame(item: tuple) -> bytes:
    data = pickle.dumps(item, protocol=5)
    return HEADER.pack(len(data)) + data


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class FrameReader:
    """Frames from a pipe read with ``os.read`` (so ``select`` sees what is not read yet)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buf = bytearray()

    def fill(self) -> bool:
        """Read what is there (blocks if nothing is); False at end of file."""
        data = os.read(self.fd, RECV_CHUNK)
        self.buf += data
        return bool(data)

    def frames(self) -> list[tuple]:
        out = []
        while len(self.buf) >= HEADER.size:
            (size,) = HEADER.unpack_from(self.buf)
            if len(self.buf) < HEADER.size + size:
                break
            out.append(pickle.loads(self.buf[HEADER.size:HEADER.size + size]))
            del self.buf[:HEADER.size + size]
        return out


# --- the client -------------------------------------------------------------------------

class LeanClient(mqtt.Client):
    """paho's client with a lean path for PUBLISH packets and buffered socket reads.

    ``deliver(topic, payload, mid, qos, retain, subscription_ids)`` gets every PUBLISH and
    ``after_read()`` is called after each burst; QoS 1 messages are acknowledged by :meth:`ack_many`
    only (``manual_ack``).  Relies on paho 2.x
    internals (``_handle_publish``, ``_sock_recv``, ``_packet_queue``, ``_in_packet``); the tests
    compare both paths on real packets (tests/collector/test_mqtt_child.py).
    """

    def __init__(self, *args: Any, deliver: Callable[..., None], after_read: Callable[[], None] = lambda: None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deliver = deliver
        self.after_read = after_read
        self.on_message = self._full_path
        self._rbuf = b""
        self._rpos = 0
        self._rsock: object = None

    # paho reads one byte, then the length, then the rest of each packet: three syscalls a message
    def _sock_recv(self, bufsize: int) -> bytes:
        if self._rsock is not self._sock:  # a new connection: nothing buffered belongs to it
            self._rbuf, self._rpos, self._rsock = b"", 0, self._sock
        if self._rpos >= len(self._rbuf):
            data = super()._sock_recv(RECV_CHUNK)
            if len(data) <= bufsize:
                return data
            self._rbuf, self._rpos = data, 0
        start, self._rpos = self._rpos, min(self._rpos + bufsize, len(self._rbuf))
        return self._rbuf[start:self._rpos]

    def buffered(self) -> bool:
        return self._rsock is self._sock and self._rpos < len(self._rbuf)

    def loop_read(self, max_packets: int = 1) -> mqtt.MQTTErrorCode:
        """Read every packet already buffered, not one per ``select`` (the socket may not be
        readable any more while packets wait in the buffer)."""
        rc = super().loop_read(max_packets)
        for _ in range(MAX_BATCH):
            if rc != _SUCCESS or self._sock is None or not self.buffered():
                break
            rc = super().loop_read(max_packets)
        self.after_read()
        return rc

    def _handle_publish(self) -> mqtt.MQTTErrorCode:
        packet, header = self._in_packet["packet"], self._in_packet["command"]
        qos = (header & 0x06) >> 1
        if self._protocol == mqtt.MQTTv5 and qos < 2 and len(packet) >= 2:
            end = 2 + ((packet[0] << 8) | packet[1])  # after the topic
            props = end + 2 * qos  # the property length, after the packet id (QoS 1)
            if len(packet) > props and packet[props] == 0:  # no properties: the lean path
                mid = (packet[end] << 8) | packet[end + 1] if qos else 0
                self.deliver(bytes(packet[2:end]), bytes(packet[props + 1:]), mid, qos, bool(header & 1), ())
                return _SUCCESS
        return super()._handle_publish()  # properties (subscription identifiers) or QoS 2: paho decodes

    def _full_path(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        sub_ids = getattr(message.properties, "SubscriptionIdentifier", None) or ()
        self.deliver(bytes(message._topic), bytes(message.payload), message.mid, message.qos,
                     bool(message.retain), tuple(sub_ids))

    def ack_many(self, mids: list[int]) -> None:
        """PUBACK these QoS 1 messages, in one write (one queued packet of many PUBACKs)."""
        if mids and self._sock is not None:
            data = b"".join(struct.pack("!BBH", _PUBACK, 2, mid) for mid in mids)
            self._packet_queue(_PUBACK, data, 0, 1)


# --- the process ------------------------------------------------------------------------

class Child:
    def __init__(self, config: dict, out_fd: int) -> None:
        self.config = config
        self.out_fd = out_fd
        self.out_lock = threading.Lock()
        self.batch: list[tuple] = []
        self.connection = 0  # +1 on every successful CONNACK
        self.pending: dict[int, int] = {}  # mid of a publish -> the collector's token for it
        self.early: set[int] = set()  # mids acknowledged before their token was noted
        self.published: list[tuple[int, bool]] = []  # (token, failed) to report at the next flush
        self.pending_lock = threading.Lock()  # never held while calling into paho (paho calls on_publish
        # holding its own lock, so on_publish only notes the token: pipe writes never happen under it)
        self.client = self._client()

    def send(self, *item: object) -> None:
        frame = encode_frame(item)
        with self.out_lock:
            write_all(self.out_fd, frame)

    def _client(self) -> LeanClient:
        c = self.config
        client = make_client(c["client_id"], username=c["username"], password=c["password"], ca_file=c["ca_file"],
                             certfile=c["certfile"], keyfile=c["keyfile"], max_inflight=c["max_inflight"],
                             manual_ack=True, client_class=LeanClient, deliver=self._deliver, after_read=self.flush)
        client.max_queued_messages_set(0)
        client.reconnect_delay_set(*c["reconnect_delay"])
        if c["will"] is not None:
            client.will_set(*c["will"])
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_publish = self._on_publish
        return client

    def _deliver(self, topic: bytes, payload: bytes, mid: int, qos: int, retain: bool, sub_ids: tuple) -> None:
        self.batch.append((topic, payload, mid, qos, retain, sub_ids, time.time(), self.connection))
        if len(self.batch) >= MAX_BATCH:
            self.flush()

    def flush(self) -> None:
        """Send what was received (and the publishes completed) since the last flush: after every read."""
        with self.pending_lock:
            published, self.published = self.published, []
        frames = b""
        if self.batch:
            batch, self.batch = self.batch, []
            frames += encode_frame(("msgs", batch))
        if published:
            frames += encode_frame(("published", published))
        if frames:
            with self.out_lock:
                write_all(self.out_fd, frames)

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if not reason_code.is_failure:
            self.connection += 1
        self.send("connect", reason_code.is_failure, str(reason_code), bool(flags.session_present), self.connection)
        if reason_code.is_failure:
            return
        for sub_id, topics in self.config["subscriptions"]:
            props = None
            if sub_id is not None:
                props = Properties(PacketTypes.SUBSCRIBE)
                props.SubscriptionIdentifier = sub_id
            client.subscribe([tuple(t) for t in topics], properties=props)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        self.send("suback", [(rc.is_failure, str(rc)) for rc in reason_codes])

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.flush()
        self.send("disconnect", str(reason_code))

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        with self.pending_lock:
            token = self.pending.pop(mid, None)
            if token is None:
                self.early.add(mid)
            else:
                self.published.append((token, reason_code.is_failure))

    # -- commands from the collector --

    def command(self, item: tuple) -> bool:
        """Carry out one command; False: stop."""
        kind = item[0]
        if kind == "ack":
            _, connection, mids = item
            if connection == self.connection:  # else: stale, the broker sends those again
                self.client.ack_many(mids)
        elif kind == "publish":
            self._publish(*item[1:])
        elif kind == "stop":
            self.client.disconnect()
            return False
        return True  # "alive": only resets the watchdog

    def _publish(self, token: int, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        done = not qos or info.rc != _SUCCESS
        if not done:
            with self.pending_lock:
                done = info.mid in self.early
                if done:
                    self.early.discard(info.mid)
                else:
                    self.pending[info.mid] = token
        if done:
            self.send("published", [(token, info.rc != _SUCCESS)])

    def run(self, reader: FrameReader, first: list[tuple]) -> int:
        c = self.config
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = c["session_expiry_s"]
        props.MaximumPacketSize = c["max_packet_bytes"]
        self.client.connect_async(c["host"], c["port"], keepalive=c["keepalive"], clean_start=False,
                                  properties=props)
        self.client.loop_start()
        try:
            if all(self.command(item) for item in first):
                return self._commands(reader)
            return 0
        finally:
            self.client.loop_stop()

    def _commands(self, reader: FrameReader) -> int:
        while True:
            ready, _, _ = select.select([reader.fd], [], [], self.config["watchdog_s"])
            if not ready:
                log.error("no word from the collector for %.0f s: closing the MQTT connection",
                          self.config["watchdog_s"])
                os._exit(3)  # no DISCONNECT: the broker fires the Last Will, as for a vanished collector
            if not reader.fill():
                os._exit(0)  # the collector is gone (its end of the pipe closed): the same, no DISCONNECT
            for item in reader.frames():
                if not self.command(item):
                    return 0


def main(argv: list[str]) -> int:
    # Ctrl-C in a terminal, or systemd stopping the service, signals every process: the collector
    # stops this one itself (a clean DISCONNECT), or its exit ends it (end of file on the pipe)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    in_fd, out_fd = int(argv[0]), int(argv[1])
    reader = FrameReader(in_fd)
    while not (frames := reader.frames()):
        if not reader.fill():
            return 1
    config = frames[0][1]
    setup_logging(config["log_level"], json=config["log_json"])
    return Child(config, out_fd).run(reader, frames[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
