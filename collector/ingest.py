"""MQTT ingest: a paho-mqtt v5 subscriber feeding one writer thread.

The paho network thread only timestamps each message and queues it.  The
writer thread drains the queue in batches, runs them through the
:class:`~collector.handler.MessageHandler`, writes the batch to the store and
only then acknowledges the messages to the broker (``manual_ack``), so a
message the broker considers delivered is always stored.  A ticker puts a
tick into the same queue every second so timeouts are applied by the same
single writer.  After each stored batch, and before its acknowledgement, every
:attr:`Ingest.after_commit` listener gets a :class:`Commit` (SSE fan-out, Home
Assistant, the store-latency metric: wired by :class:`collector.service.Collector`).
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from collector.acks import StorageAcks
from collector.handler import IngestCounters, MessageHandler, Outcome
from collector.live import LiveState
from collector.model import StateChange
from collector.settings import Settings
from collector.store.base import Store, StoreUnavailable
from hubsense.mqtt_client import make_client
from hubsense.protocol import MAX_PACKET_BYTES, TOPIC_ROOT, MessageKind

log = logging.getLogger(__name__)

# Store errors worth waiting out: the server is down, the disk is full, the file is locked.
_TRANSIENT = (StoreUnavailable, sqlite3.OperationalError, OSError)
_OTHER_ERROR_RETRIES = 4  # an error of no known kind is retried this often (0.1 + 0.2 + 0.4 + 0.8 s) first
# A record the store can never take: isolated at once, no retries.
_DATA_ERRORS = (OverflowError, ValueError, TypeError, sqlite3.IntegrityError, sqlite3.InterfaceError,
                sqlite3.DataError, sqlite3.ProgrammingError)
STORE_SUB_ID = 1  # subscription identifiers (MQTT v5) when scaling out
LIVE_SUB_ID = 2
_TICK = object()
_STOP = object()


@dataclass(frozen=True, slots=True)
class Commit:
    """What one stored batch produced, handed to the :attr:`Ingest.after_commit` listeners."""

    changes: list[StateChange]  # zone / desk state changes of the batch (maybe none)
    now: datetime  # when the batch was processed (UTC)
    records: int  # events, changes and health records written to the store
    store_s: float  # seconds the store writes took


@dataclass(slots=True)
class _Msg:
    topic: str
    payload: bytes
    received: datetime
    mid: int
    qos: int
    store: bool = True  # False: a copy for the live engine only (scale-out, docs/reliability.md)
    retained: bool = False  # delivered from the broker's retained store, not published just now


class Ingest:
    """Owns the MQTT connection, the writer thread and the ticker."""

    def __init__(self, settings: Settings, live: LiveState, store: Store,
                 counters: IngestCounters | None = None) -> None:
        self.settings = settings
        self.live = live
        self.store = store
        self.handler = MessageHandler(live, counters)
        self.acks = StorageAcks(live.hubs) if settings.storage_acks else None
        self.counters = self.handler.counters
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.connects = 0  # successful CONNACKs since start: 1 unless the connection was lost or taken over
        self.session_present: bool | None = None  # from the last CONNACK
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._next_prune = 0.0
        self._pending_subacks = 1
        # Called in the writer thread after each stored batch, before it is acknowledged, in order
        # (SSE fan-out, Home Assistant states, the store-latency histogram); and after each (re)connect.
        self.after_commit: list[Callable[[Commit], None]] = []
        self.connect_listeners: list[Callable[[mqtt.Client], None]] = []
        self.client = self._make_client()

    # -- MQTT ----------------------------------------------------------------

    def _make_client(self) -> mqtt.Client:
        s = self.settings
        client = make_client(s.mqtt_client_id, username=s.mqtt_username, password=s.mqtt_password,
                             ca_file=s.mqtt_tls_ca, certfile=s.mqtt_tls_cert, keyfile=s.mqtt_tls_key,
                             max_inflight=1000, manual_ack=True)
        client.max_queued_messages_set(0)
        client.reconnect_delay_set(0.2, 10)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def subscriptions(self) -> list[tuple[str, int]]:
        """Status topics are never shared (each collector needs every agent's retained status);
        events and heartbeats go through a shared subscription when scaling out."""
        group = self.settings.mqtt_share_group
        share = f"$share/{group}/" if group else ""
        return [
            (f"{TOPIC_ROOT}/+/+/{MessageKind.STATUS.value}", 1),
            (f"{share}{TOPIC_ROOT}/+/+/{MessageKind.EVENT.value}", 1),
            (f"{share}{TOPIC_ROOT}/+/+/{MessageKind.HEARTBEAT.value}", 1),
        ]

    def live_subscriptions(self) -> list[tuple[str, int]]:
        """Scale-out only: plain subscriptions to every event and heartbeat, so this collector's
        live engines see the whole hub although it stores only its share (docs/reliability.md)."""
        if not self.settings.mqtt_share_group:
            return []
        return [(f"{TOPIC_ROOT}/+/+/{k.value}", 1) for k in (MessageKind.EVENT, MessageKind.HEARTBEAT)]

    def _subscribe(self, client: mqtt.Client) -> None:
        """One SUBSCRIBE per role; with a share group each carries a subscription identifier so
        a delivery tells which role it is for (the broker sends one copy per matching role)."""
        live = self.live_subscriptions()
        self._pending_subacks = 2 if live else 1
        if not live:
            client.subscribe(self.subscriptions())
            return
        for sub_id, topics in ((STORE_SUB_ID, self.subscriptions()), (LIVE_SUB_ID, live)):
            props = Properties(PacketTypes.SUBSCRIBE)
            props.SubscriptionIdentifier = sub_id
            client.subscribe(topics, properties=props)

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("MQTT connection refused: %s", reason_code)
            return
        log.info("connected to MQTT %s:%s (session present: %s)", self.settings.mqtt_host,
                 self.settings.mqtt_port, flags.session_present)
        self.connects += 1
        self.session_present = bool(flags.session_present)
        self.connected.set()
        self._subscribe(client)
        for listener in self.connect_listeners:
            listener(client)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        failed = [rc for rc in reason_codes if rc.is_failure]
        if failed:
            log.error("MQTT subscription refused: %s", failed)
        self._pending_subacks -= 1
        if self._pending_subacks <= 0:
            first, fresh = self.connects == 1, not self.session_present
            if self.acks is not None and not self.subscribed.is_set() and (first or fresh):
                # subscribed: agents may send again what may be lost (see collector/acks.py)
                self.acks.announce(client, datetime.now(UTC), fresh_session=not first)
            self.subscribed.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()
        self.subscribed.clear()
        if not self._stop.is_set():
            log.warning("MQTT connection lost (%s); reconnecting", reason_code)

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        sub_ids = getattr(message.properties, "SubscriptionIdentifier", None) or ()
        store = LIVE_SUB_ID not in sub_ids or STORE_SUB_ID in sub_ids
        self.queue.put(_Msg(message.topic, message.payload, datetime.now(UTC), message.mid, message.qos, store,
                            message.retain))

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> None:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.settings.mqtt_session_expiry_s
        # The broker must not hand over anything bigger (it drops it for us, unread): a 100 MB message
        # from any agent credential would otherwise be read into memory before its size is checked.
        props.MaximumPacketSize = MAX_PACKET_BYTES
        self.client.connect_async(self.settings.mqtt_host, self.settings.mqtt_port, keepalive=30,
                                  clean_start=False, properties=props)
        self.client.loop_start()
        for target, name in ((self._writer, "ingest-writer"), (self._ticker, "ingest-ticker")):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        self._stop.set()
        self.queue.put(_STOP)
        for t in self._threads:
            t.join(10)
        self.client.disconnect()
        self.client.loop_stop()

    def wait_ready(self, timeout: float = 10.0) -> bool:
        return self.subscribed.wait(timeout)

    # -- writer --------------------------------------------------------------

    def _ticker(self) -> None:
        while not self._stop.wait(self.settings.tick_s):
            self.queue.put(_TICK)

    def _writer(self) -> None:
        while True:
            batch = self._next_batch()
            stop = _STOP in batch
            try:
                self._process([m for m in batch if m is not _STOP])
            except Exception:
                log.exception("writing a batch failed; the messages stay unacknowledged")
            if stop:
                return

    def _next_batch(self) -> list:
        first = self.queue.get()
        batch = [first]
        deadline = time.monotonic() + self.settings.batch_wait_s
        while len(batch) < self.settings.batch_max:
            try:
                batch.append(self.queue.get_nowait())
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or first is _STOP:
                    break
                try:
                    batch.append(self.queue.get(timeout=remaining))
                except queue.Empty:
                    break
        return batch

    def _process(self, batch: list) -> None:
        out = Outcome()
        tick = False
        for m in batch:
            if m is _TICK:
                tick = True
            else:
                self.handler.handle(m.topic, m.payload, m.received, out, store=m.store, retained=m.retained)
        now = datetime.now(UTC)
        if tick:
            out.changes.extend(self.live.advance(now))
            self._maybe_prune(now)
        started = time.perf_counter()
        self._store_until_done(out)
        if self.acks is not None:
            self.acks.stored(out.events)  # stored now (or given up as unstorable, counted)
            if tick and self.connected.is_set():
                self.acks.flush(self.client, now)
        commit = Commit(out.changes, now, len(out.events) + len(out.changes) + len(out.health),
                        time.perf_counter() - started)
        for listener in self.after_commit:
            listener(commit)
        for m in batch:
            if m is not _TICK and m.qos:
                self.client.ack(m.mid, m.qos)

    def _maybe_prune(self, now: datetime) -> None:
        """Apply the store's retention every ``prune_interval_s``, from the writer thread (the only writer)."""
        if time.monotonic() < self._next_prune:
            return
        self._next_prune = time.monotonic() + self.settings.prune_interval_s
        try:
            removed = self.store.prune(now)
        except Exception:
            log.exception("applying retention failed; will retry later")
            return
        if any(removed.values()):
            log.info("retention removed %s", removed)

    def _store_until_done(self, out: Outcome) -> None:
        """Store the batch: events, then changes, then health records (see :meth:`_write`)."""
        if out.events:
            self._write("events", out.events, _OTHER_ERROR_RETRIES)
        if out.changes:
            self._write("changes", out.changes, _OTHER_ERROR_RETRIES)
        if out.health:
            self._write("health", list(zip(out.health, out.health_retained, strict=True)), _OTHER_ERROR_RETRIES)

    def _write(self, kind: str, records: list, retries: int) -> None:
        """Write ``records``, retrying while the store is unavailable (down, disk full, locked: the
        messages stay unacknowledged meanwhile; acknowledging nothing also stops the broker sending
        more once its in-flight window is full).  A record the store cannot take (bad data, e.g. an
        integer beyond 64 bits) must not take the others with it: the batch is halved until the bad
        record is alone, and only that one is counted as ``store_error``.  An error of no known kind
        is first retried ``retries`` times (InfluxDB, for one, answers "query engine shutdown" while
        it stops)."""
        delay = 0.1
        while True:
            try:
                self._write_once(kind, records)
                return
            except _TRANSIENT as exc:
                if self._stop.is_set():
                    raise
                log.warning("store unavailable (%s); retrying %d %s in %.1f s", exc, len(records), kind, delay)
                if self._stop.wait(delay):
                    raise
                delay = min(delay * 2, 5.0)
            except Exception as exc:
                if isinstance(exc, _DATA_ERRORS) or retries <= 0 or self._stop.is_set():
                    self._isolate(kind, records, exc)
                    return
                retries -= 1
                log.warning("storing %d %s failed (%r); retrying in %.1f s", len(records), kind, exc, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 5.0)

    def _isolate(self, kind: str, records: list, exc: Exception) -> None:
        if len(records) > 1:
            half = len(records) // 2
            self._write(kind, records[:half], 0)
            self._write(kind, records[half:], 0)
            return
        log.error("the store refused one %s record (%r); counted as store_error: %r", kind.rstrip("s"), exc,
                  records[0])
        if kind == "events":
            self.counters.unstored(1)
        elif kind == "health":
            self.counters.unstored(1, retained=records[0][1])
        else:
            self.counters.unstored_change()

    def _write_once(self, kind: str, records: list) -> None:
        if kind == "events":
            new = self.store.add_events(records)
            self.counters.add_stored(new, len(records) - new)
        elif kind == "changes":
            self.store.add_changes(records)
        else:
            self.store.add_health([h for h, _ in records])
