"""MQTT ingest: an MQTT v5 subscriber (in a process of its own) feeding one writer thread.

The MQTT connection lives in a child process (:mod:`collector.mqtt_child`, driven through
:class:`~collector.mqtt_link.MqttLink`): it decodes the packets and forwards the messages in
batches, each stamped with its receive time.  The writer thread drains the queue in batches, runs
them through the :class:`~collector.handler.MessageHandler`, writes the batch to the store and
only then acknowledges the messages to the broker (``manual_ack``, through the link), so a
message the broker considers delivered is always stored.  A ticker puts a tick into the same
queue every ``tick_s`` so timeouts are applied by the same single writer.  After each stored
batch, and before its acknowledgement, every :attr:`Ingest.after_commit` listener gets a
:class:`Commit` (SSE fan-out, Home Assistant, the store-latency metric: wired by
:class:`collector.service.Collector`).  Why a process: docs/reliability.md, "The MQTT process".
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

from collector.acks import StorageAcks
from collector.handler import IngestCounters, MessageHandler, Outcome
from collector.live import LiveState
from collector.model import StateChange
from collector.mqtt_link import LinkConfig, MqttLink
from collector.settings import Settings
from collector.store.base import Store, StoreUnavailable
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


class Ingest:
    """Owns the MQTT connection (its process), the writer thread and the ticker.

    A queued message is the tuple the MQTT process sends: ``(topic, payload, mid, qos, retain,
    subscription ids, received (epoch s), connection)``.
    """

    def __init__(self, settings: Settings, live: LiveState, store: Store,
                 counters: IngestCounters | None = None) -> None:
        self.settings = settings
        self.live = live
        self.store = store
        self.handler = MessageHandler(live, counters)
        self.acks = StorageAcks(live.hubs) if settings.storage_acks else None
        self.counters = self.handler.counters
        self.queue: queue.SimpleQueue = queue.SimpleQueue()  # batches of messages, ticks, the stop
        self._waiting = 0  # messages received and not processed yet
        self._waiting_lock = threading.Lock()
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
        self.connect_listeners: list[Callable[[MqttLink], None]] = []
        self.client = MqttLink(self._link_config(), self)  # publish / will_set / is_connected, like a paho client

    # -- MQTT ----------------------------------------------------------------

    def _link_config(self) -> LinkConfig:
        s = self.settings

        def path(p: object) -> str | None:
            return str(p) if p else None

        # The broker must not hand over anything bigger (it drops it for us, unread): a 100 MB message
        # from any agent credential would otherwise be read into memory before its size is checked.
        return LinkConfig(host=s.mqtt_host, port=s.mqtt_port, client_id=s.mqtt_client_id, username=s.mqtt_username,
                          password=s.mqtt_password, ca_file=path(s.mqtt_tls_ca), certfile=path(s.mqtt_tls_cert),
                          keyfile=path(s.mqtt_tls_key), session_expiry_s=s.mqtt_session_expiry_s,
                          max_packet_bytes=MAX_PACKET_BYTES, subscriptions=self._subscribe_packets())

    def waiting(self) -> int:
        """Messages received from the broker and not processed yet."""
        return self._waiting

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

    def _subscribe_packets(self) -> list[tuple[int | None, list[tuple[str, int]]]]:
        """One SUBSCRIBE per role (the MQTT process sends them on every connect); with a share group each
        carries a subscription identifier so a delivery tells which role it is for (the broker sends
        one copy per matching role)."""
        live = self.live_subscriptions()
        if not live:
            return [(None, self.subscriptions())]
        return [(STORE_SUB_ID, self.subscriptions()), (LIVE_SUB_ID, live)]

    # -- events from the MQTT process (its reader thread) ----------------------

    def on_connect(self, failed: bool, reason: str, session_present: bool) -> None:
        if failed:
            log.error("MQTT connection refused: %s", reason)
            return
        log.info("connected to MQTT %s:%s (session present: %s)", self.settings.mqtt_host,
                 self.settings.mqtt_port, session_present)
        self.connects += 1
        self.session_present = session_present
        self._pending_subacks = len(self._subscribe_packets())
        self.connected.set()
        for listener in self.connect_listeners:
            listener(self.client)

    def on_subscribe(self, results: list[tuple[bool, str]]) -> None:
        failed = [reason for is_failure, reason in results if is_failure]
        if failed:
            log.error("MQTT subscription refused: %s", failed)
        self._pending_subacks -= 1
        if self._pending_subacks <= 0:
            first, fresh = self.connects == 1, not self.session_present
            if self.acks is not None and not self.subscribed.is_set() and (first or fresh):
                # subscribed: agents may send again what may be lost (see collector/acks.py)
                self.acks.announce(self.client, datetime.now(UTC), fresh_session=not first)
            self.subscribed.set()

    def on_disconnect(self, reason: str) -> None:
        self.connected.clear()
        self.subscribed.clear()
        if not self._stop.is_set():
            log.warning("MQTT connection lost (%s); reconnecting", reason)

    def on_messages(self, batch: list[tuple]) -> None:
        with self._waiting_lock:
            self._waiting += len(batch)
        self.queue.put(batch)

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> None:
        self.client.start()
        for target, name in ((self._writer, "ingest-writer"), (self._ticker, "ingest-ticker")):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        self._stop.set()
        self.queue.put(_STOP)
        for t in self._threads:
            t.join(10)
        self.client.stop()

    def wait_ready(self, timeout: float = 10.0) -> bool:
        return self.subscribed.wait(timeout)

    # -- writer --------------------------------------------------------------

    def _ticker(self) -> None:
        while not self._stop.wait(self.settings.tick_s):
            self.queue.put(_TICK)
            self.client.alive()

    def _writer(self) -> None:
        while True:
            messages, tick, stop = self._next_batch()
            try:
                self._process(messages, tick)
            except Exception:
                log.exception("writing a batch failed; the messages stay unacknowledged")
            finally:
                with self._waiting_lock:
                    self._waiting -= len(messages)
            if stop:
                return

    def _next_batch(self) -> tuple[list[tuple], bool, bool]:
        """(messages, a tick came, the stop came): what is queued, up to ``batch_max`` messages, waiting
        at most ``batch_wait_s`` for more once the queue is empty."""
        messages: list[tuple] = []
        tick = stop = False
        item = self.queue.get()
        deadline = time.monotonic() + self.settings.batch_wait_s
        while True:
            if item is _TICK:
                tick = True
            elif item is _STOP:
                stop = True
            else:
                messages += item
            if stop or len(messages) >= self.settings.batch_max:
                break
            try:
                item = self.queue.get_nowait()
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    item = self.queue.get(timeout=remaining)
                except queue.Empty:
                    break
        return messages, tick, stop

    def _process(self, messages: list[tuple], tick: bool = False) -> None:
        out = Outcome()
        handle = self.handler.handle
        for topic, payload, _mid, _qos, retained, sub_ids, received, _conn in messages:
            store = not sub_ids or LIVE_SUB_ID not in sub_ids or STORE_SUB_ID in sub_ids
            handle(topic.decode("utf-8", "replace"), payload, datetime.fromtimestamp(received, UTC), out,
                   store=store, retained=retained)
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
        self._acknowledge(messages)

    def _acknowledge(self, messages: list[tuple]) -> None:
        """PUBACK the QoS 1 messages, grouped by the connection they came on (one command each)."""
        by_connection: dict[int, list[int]] = {}
        for _topic, _payload, mid, qos, _retained, _sub_ids, _received, connection in messages:
            if qos:
                by_connection.setdefault(connection, []).append(mid)
        for connection, mids in by_connection.items():
            self.client.ack(connection, mids)

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
