"""The sensor agent: gpiozero sensors -> disk queue -> MQTT (paho-mqtt 2.x, MQTT v5).

Threads:

* gpiozero's threads call :meth:`Agent._on_change`, which numbers the event and
  writes it to the on-disk queue (nothing else, so a slow broker never blocks
  sensing);
* one network thread owns the paho client, driving it through paho's
  external-loop API (``select`` on its socket plus a wake-up socket pair, then
  ``loop_read``/``loop_write``/``loop_misc``): it connects and reconnects with
  exponential backoff, hands queued events to paho (at most ``WINDOW``
  unacknowledged at a time) and publishes status and heartbeats.  An event
  leaves the queue when the collector says it is durably stored (its storage
  acknowledgements on ``hubsense/{hub}/_ack/{agent}/stored``), or on the
  broker's PUBACK when ``storage_ack`` is off.  A sensor change wakes it at once; idle,
  it wakes once a second (keepalive bookkeeping), which keeps idle CPU low.
  Under systemd it also feeds the watchdog (``WATCHDOG=1``), during reconnect
  backoff too, so only a hung loop gets the service restarted.

After every (re)connect, and when the collector says its session started afresh, everything still
in the queue is sent again, oldest first: a PUBACK only means the broker holds the event in memory,
and a broker crash (or a lost collector session) can lose what it had acknowledged.  Copies that did
arrive are dropped by the collector (storage is idempotent on (agent, boot, seq)).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import secrets
import select
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import paho.mqtt.client as mqtt

from edge.layout import AgentLayout, SensorPin, layout_of
from edge.queue import EventQueue
from edge.sensors import SensorBank, make_pin_factory
from edge.settings import AgentSettings
from edge.systemd import notifier
from hubsense.mqtt_client import make_client
from hubsense.wire import (
    AgentState,
    HeartbeatInfo,
    MessageKind,
    SensorState,
    StoredAck,
    ack_topic,
    event_payload,
    heartbeat_payload,
    now_utc,
    read_storage_ack,
    status_payload,
    topic,
)

if TYPE_CHECKING:
    from hubsense.config import Hub

log = logging.getLogger(__name__)

IDLE_WAKE_S = 1.0  # longest select() timeout: paho's keepalive bookkeeping runs at least this often
WINDOW = 100  # events handed to paho and not yet acknowledged
STOP_TIMEOUT_S = 3.0
SUBACK_WAIT_S = 2.0  # after a connect, events go out once the acknowledgement topic is subscribed (or after this)


class Agent:
    """One Raspberry Pi's agent.  ``start()`` opens the sensors and connects; ``stop()`` is clean."""

    def __init__(
        self,
        hub: Hub | AgentLayout,
        agent_id: str,
        settings: AgentSettings | None = None,
        pin_factory=None,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        """``hub``: the validated hub config, or just this agent's layout (what ``hubsense agent`` runs with)."""
        self.config = hub if isinstance(hub, AgentLayout) else layout_of(hub, agent_id)
        self.hub_id = self.config.hub
        self.settings = settings or AgentSettings()
        self.pin_factory = pin_factory if pin_factory is not None else make_pin_factory(self.settings.pin_factory)
        self.clock = clock
        self.boot = secrets.token_urlsafe(9)
        self.delivered = 0  # events acknowledged by the broker (PUBACK) in this process
        self.confirmed = 0  # events the collector said it stored, deleted from the queue, in this process
        self.resends = 0  # times the whole queue was sent again (reconnects, collector's fresh session)
        self.rejected = 0  # PUBACKs with a failure reason (e.g. 135 not authorized)
        self.last_error: str | None = None
        self.connect_failures = 0
        self._seq = 0
        self._seq_lock = threading.Lock()
        self._topics = {k: topic(self.hub_id, agent_id, k) for k in MessageKind}
        self._in_flight: dict[int, int] = {}  # paho mid -> queue id
        self._acked: list[int] = []  # queue ids PUBACKed since the last service round
        self._failed: list[int] = []  # queue ids the broker refused (sent again after the next rewind)
        self._storage_acks: list[StoredAck] = []  # received, applied in the next service round
        self._ack_topic = ack_topic(self.hub_id, agent_id)
        self._ack_mid: int | None = None
        self._sending_from = 0.0  # monotonic time from which events may be handed to paho
        self._status_mids: set[int] = set()
        self._connected = threading.Event()
        self._stopping = threading.Event()
        self._just_connected = False
        self._next_heartbeat = 0.0
        self._started = time.monotonic()
        self._thread: threading.Thread | None = None
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self.queue: EventQueue | None = None
        self.sensors: SensorBank | None = None
        self._client = self._make_client()

    # -- lifecycle -----------------------------------------------------------------

    @property
    def id(self) -> str:
        return self.config.id

    @property
    def seq(self) -> int:
        """Sequence number of the last event of this boot (0 if none)."""
        return self._seq

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def start(self) -> Agent:
        s = self.settings
        self.queue = EventQueue(s.resolved_queue_path(self.hub_id, self.id), s.queue_max_events)
        self.sensors = SensorBank(self.config.sensors, self._on_change, self.pin_factory, s.door_bounce_s,
                                  s.pir_sample_hz)
        try:
            self.sensors.open()
        except BaseException:
            self.queue.close()
            raise
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name=f"agent-{self.id}", daemon=True)
        self._thread.start()
        log.info("agent %s/%s started (boot %s, %d sensors, %d queued)",
                 self.hub_id, self.id, self.boot, len(self.config.sensors), self.queue.depth)
        return self

    def stop(self) -> None:
        """Publish retained 'offline', disconnect cleanly (no Last Will), close sensors and queue.

        Events still unacknowledged stay in the queue for the next start.
        """
        self._stopping.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(2 * STOP_TIMEOUT_S + 2)
            self._thread = None
        if self.sensors is not None:
            self.sensors.close()
            self.sensors = None
        self._wake_r.close()
        self._wake_w.close()
        if self.queue is not None:
            self.queue.close()
            self.queue = None

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def __enter__(self) -> Agent:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- sensing (gpiozero threads) ------------------------------------------------------

    def _on_change(self, sensor: SensorPin, state: SensorState) -> None:
        queue = self.queue
        if queue is None:
            return
        with self._seq_lock:  # seq order == queue order
            self._seq += 1
            seq = self._seq
            payload = event_payload(self.hub_id, self.id, self.boot, sensor.id, sensor.kind, state, self.clock(), seq)
            queue.put(self.boot, seq, self._topics[MessageKind.EVENT], payload)
        self._wake()
        log.debug("%s %s -> %s (seq %d)", self.id, sensor.id, state.value, seq)

    # -- MQTT client ---------------------------------------------------------------------

    def _make_client(self) -> mqtt.Client:
        s = self.settings
        client = make_client(s.resolved_client_id(self.hub_id, self.id), username=s.username, password=s.password,
                             ca_file=s.ca_file, certfile=s.certfile, keyfile=s.keyfile, max_inflight=20)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _status(self, state: AgentState) -> bytes:
        return status_payload(self.hub_id, self.id, self.boot, state, self.clock())

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self.last_error = f"broker refused the connection: {reason_code}"
            log.error("agent %s: %s", self.id, self.last_error)
            return
        log.info("agent %s connected to %s:%d", self.id, self.settings.broker_host, self.settings.broker_port)
        self.last_error = None
        self._just_connected = True
        self._connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        was = self._connected.is_set()
        self._connected.clear()
        if was and not self._stopping.is_set():
            log.warning("agent %s lost the broker connection (%s); events are queued", self.id, reason_code)

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        self._status_mids.discard(mid)
        qid = self._in_flight.pop(mid, None)
        if qid is None:
            return
        if reason_code.is_failure:
            self.rejected += 1
            self._failed.append(qid)
            log.error("agent %s: broker rejected an event: %s", self.id, reason_code)
        else:
            self._acked.append(qid)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        if mid != self._ack_mid:
            return
        self._sending_from = 0.0
        if any(rc.is_failure for rc in reason_codes):
            self.last_error = (f"the broker refused the storage acknowledgements ({self._ack_topic}): events stay "
                               "queued until the queue bound drops them; fix the ACL or set storage_ack = false")
            log.error("agent %s: %s", self.id, self.last_error)

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        if message.topic != self._ack_topic:
            return
        try:
            ack = read_storage_ack(message.payload)
        except ValueError as exc:
            log.warning("agent %s: ignoring a bad storage acknowledgement: %s", self.id, exc)
            return
        if (ack.hub, ack.agent) != (self.hub_id, self.id):
            return
        if message.retain and ack.resend:  # an old request: this connection sends everything again anyway
            ack = dataclasses.replace(ack, resend=False)
        self._storage_acks.append(ack)

    # -- network thread ----------------------------------------------------------------------

    def _run(self) -> None:
        s = self.settings
        delay = s.reconnect_min_s
        need_connect = True  # connect() also closes whatever socket paho still holds
        while not self._stopping.is_set():
            if need_connect and not self._open_connection():
                self._pause(delay)
                delay = min(delay * 2, s.reconnect_max_s)
                continue
            need_connect = False
            if not self._io(self._idle_timeout()):  # lost (or no CONNACK within keepalive: paho closes)
                self._connected.clear()
                need_connect = True
                self._pause(delay)
                delay = min(delay * 2, s.reconnect_max_s)
                continue
            if self._connected.is_set():
                delay = s.reconnect_min_s
            try:
                self._service()
            except Exception:  # keep the network thread alive whatever happens
                log.exception("agent %s: error in the network loop", self.id)
            notifier().watchdog()
        try:
            self._shutdown()
        except Exception:
            log.exception("agent %s: error while stopping", self.id)

    def _pause(self, seconds: float) -> None:
        """Back off, still feeding systemd's watchdog (a broker may be away far longer than WatchdogSec)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self._stopping.wait(min(left, IDLE_WAKE_S)):
                return
            notifier().watchdog()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # buffer full (a wake-up is pending anyway) or closed
            self._wake_w.send(b"\0")

    def _idle_timeout(self) -> float:
        if not self._connected.is_set():
            return min(IDLE_WAKE_S, 0.1)  # CONNACK pending
        return max(0.0, min(IDLE_WAKE_S, self._next_heartbeat - time.monotonic()))

    def _io(self, timeout: float) -> bool:
        """One round of paho's external loop; False when the connection is gone."""
        client, ok = self._client, mqtt.MQTT_ERR_SUCCESS
        sock = client.socket()
        if sock is None:
            return False
        pending = sock.pending() if hasattr(sock, "pending") else 0  # TLS bytes already buffered
        wlist = [sock] if client.want_write() else []
        try:
            readable, _, _ = select.select([sock, self._wake_r], wlist, [], 0.0 if pending else timeout)
        except (OSError, TypeError, ValueError):
            return False
        if self._wake_r in readable:
            with contextlib.suppress(OSError):
                self._wake_r.recv(4096)
        rc = ok
        if sock in readable or pending:
            rc = client.loop_read()
        if rc == ok and client.socket() is not None and client.want_write():
            rc = client.loop_write()
        if rc == ok and client.socket() is not None:
            rc = client.loop_misc()
        return rc == ok and client.socket() is not None

    def _open_connection(self) -> bool:
        s = self.settings
        # Re-register the will each time so its timestamp is the time of this connection.
        self._client.will_set(
            self._topics[MessageKind.STATUS], self._status(AgentState.OFFLINE), qos=1, retain=True
        )
        try:
            self._client.connect(s.broker_host, s.broker_port, keepalive=s.keepalive_s)
        except (OSError, ValueError) as exc:
            self.connect_failures += 1
            self.last_error = f"cannot connect to MQTT broker {s.broker_host}:{s.broker_port}: {exc}"
            level = logging.WARNING if self.connect_failures in (1, 10) or self.connect_failures % 100 == 0 \
                else logging.DEBUG
            log.log(level, "agent %s: %s (attempt %d; retrying with backoff, events are queued)",
                    self.id, self.last_error, self.connect_failures)
            return False
        return True

    def _service(self) -> None:
        queue = self.queue
        if queue is None:
            return
        self._settle(queue)
        if not self._connected.is_set():
            return
        if self._just_connected:
            self._just_connected = False
            info = self._client.publish(
                self._topics[MessageKind.STATUS], self._status(AgentState.ONLINE), qos=1, retain=True
            )
            self._status_mids.add(info.mid)
            self._next_heartbeat = 0.0
            self._in_flight.clear()  # paho sends its own unacknowledged ones again; ours start over
            self._rewind(queue, "reconnected")
            if self.settings.storage_ack:  # events go out once the acknowledgements can come back
                self._ack_mid = self._client.subscribe(self._ack_topic, qos=1)[1]
                self._sending_from = time.monotonic() + SUBACK_WAIT_S
        if time.monotonic() >= self._sending_from:
            self._pump(queue)
        if time.monotonic() >= self._next_heartbeat:
            self._heartbeat()

    def _settle(self, queue: EventQueue) -> None:
        """Apply PUBACKs, refusals and storage acknowledgements gathered by the callbacks."""
        if self._acked:
            if self.settings.storage_ack:
                queue.sent(self._acked)  # kept until the collector has stored them
            else:
                queue.ack(self._acked)
            self.delivered += len(self._acked)
            self._acked = []
        if self._failed:
            queue.failed(self._failed)
            self._failed = []
        acks, self._storage_acks = self._storage_acks, []
        for ack in acks:
            self.confirmed += queue.confirm(ack.stored)
            if ack.resend:
                self._rewind(queue, "the collector (re)started or its MQTT session is new")

    def _rewind(self, queue: EventQueue, why: str) -> None:
        """Send everything still queued again, oldest first (see the module docstring)."""
        if queue.depth:
            log.info("agent %s: %s; sending the %d queued events again", self.id, why, queue.depth)
        queue.rewind()
        self.resends += 1

    def _pump(self, queue: EventQueue) -> None:
        room = WINDOW - len(self._in_flight)
        if room <= 0 or queue.pending <= 0:
            return
        for item in queue.take(room):
            info = self._client.publish(item.topic, item.payload, qos=1)
            self._in_flight[info.mid] = item.id

    def heartbeat(self) -> HeartbeatInfo:
        """The heartbeat the agent would publish now."""
        queue = self.queue
        sensors = self.sensors.states() if self.sensors is not None and self.sensors.devices else {}
        return HeartbeatInfo(
            hub=self.hub_id, agent=self.id, boot=self.boot, ts=self.clock(), seq=self._seq,
            uptime_s=round(time.monotonic() - self._started, 3), interval_s=self.settings.heartbeat_interval_s,
            queue_depth=queue.depth if queue else 0, dropped=queue.dropped if queue else 0, sensors=sensors,
        )

    def _heartbeat(self) -> None:
        self._next_heartbeat = time.monotonic() + self.settings.heartbeat_interval_s
        self._client.publish(self._topics[MessageKind.HEARTBEAT], heartbeat_payload(self.heartbeat()), qos=1)

    def _drain(self, timeout: float) -> None:
        """Give queued events a last chance to reach the broker before a clean stop (those not yet
        acknowledged by the collector stay in the queue for the next start)."""
        deadline = time.monotonic() + timeout
        while self._connected.is_set() and self.queue is not None and time.monotonic() < deadline:
            self._service()
            if not self._in_flight and self.queue.pending <= 0:
                break
            self._io(0.05)

    def _shutdown(self) -> None:
        client = self._client
        self._drain(STOP_TIMEOUT_S)
        if self._connected.is_set():
            info = client.publish(
                self._topics[MessageKind.STATUS], self._status(AgentState.OFFLINE), qos=1, retain=True
            )
            self._status_mids.add(info.mid)
            deadline = time.monotonic() + STOP_TIMEOUT_S
            while info.mid in self._status_mids and self._connected.is_set() and time.monotonic() < deadline:
                self._io(0.05)
        if client.socket() is not None:
            client.disconnect()
            self._io(0.05)
        self._connected.clear()
        if self.queue is not None:
            self._settle(self.queue)
        log.info("agent %s stopped (%d events delivered, %d queued)", self.id, self.delivered,
                 self.queue.depth if self.queue else 0)
