"""Storage acknowledgements: the collector tells each agent which of its events are durably stored.

An agent keeps every event in its on-disk queue until it appears here (``hubsense.protocol.StorageAck``
on ``hubsense/{hub}/_ack/{agent}/stored``, which only that agent may read), so a broker that crashes
with acknowledged-but-undelivered events, or a collector session the broker lost, costs a resend,
never an event.  The ranges are explicit: nothing is inferred from a high-water mark, so an event
still in transit or lost with the broker is never confirmed by a later one.

Called from the ingest writer thread: :meth:`StorageAcks.stored` after each commit and
:meth:`flush` on each tick (a few messages a second at most, however busy).  :meth:`announce`, once
subscribed after the collector's first connect and whenever its MQTT session started afresh, asks
every agent to send all its unacknowledged events again: the broker's copies (fresh session) or
acknowledgements a killed collector never sent may be gone.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import datetime

import paho.mqtt.client as mqtt

from collector.model import ReceivedEvent
from hubsense.config import Hub
from hubsense.protocol import MAX_ACK_RANGES, StorageAck, ack_topic, encode, stored_ranges

log = logging.getLogger(__name__)


class StorageAcks:
    def __init__(self, hubs: dict[str, Hub]) -> None:
        self.hubs = hubs
        self._pending: dict[tuple[str, str], set[tuple[str, int]]] = {}
        self._lock = threading.Lock()
        self.published = 0  # acknowledgement messages sent

    def stored(self, events: Iterable[ReceivedEvent]) -> None:
        """These events are committed (or given up as unstorable): acknowledge them at the next flush."""
        with self._lock:
            for e in events:
                self._pending.setdefault((e.hub, e.agent), set()).add((e.boot, e.seq))

    def flush(self, client: mqtt.Client, now: datetime) -> None:
        """Publish what was stored since the last flush, one retained QoS 1 message per agent (more
        if it spans over :data:`MAX_ACK_RANGES` ranges)."""
        with self._lock:
            pending, self._pending = self._pending, {}
        for (hub, agent), keys in pending.items():
            ranges = stored_ranges(keys)
            for i in range(0, len(ranges), MAX_ACK_RANGES):
                ack = StorageAck(hub=hub, agent=agent, stored=ranges[i:i + MAX_ACK_RANGES], ts=now)
                client.publish(ack_topic(hub, agent), encode(ack), qos=1, retain=True)
                self.published += 1

    def announce(self, client: mqtt.Client, now: datetime, fresh_session: bool) -> None:
        """Ask every configured agent to send its unacknowledged events again."""
        for hub in self.hubs.values():
            for agent in hub.agents:
                ack = StorageAck(hub=hub.id, agent=agent.id, resend=True, ts=now)
                client.publish(ack_topic(hub.id, agent.id), encode(ack), qos=1, retain=True)
        log.info("storage acknowledgements: asked every agent to send its unacknowledged events again (%s)",
                 "fresh MQTT session" if fresh_session else "collector started")
