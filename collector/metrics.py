"""Prometheus metrics of one collector, in a registry of its own (never the global one,
so several apps in one process do not clash).

Almost everything is read at scrape time from what the collector already keeps
(ingest counters, live engine state, the spool), so the ingest hot path pays
for nothing but one ``Histogram.observe`` per stored batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from collector.handler import IngestCounters
from collector.ingest import Commit
from collector.live import LiveState
from collector.model import OccupancyState
from collector.store.base import ReportsStatus, Store

WRITE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _Snapshot(Collector):
    """Metrics computed from the collector's state on every scrape."""

    def __init__(self, live: LiveState, counters: Callable[[], IngestCounters], store: Store,
                 connected: Callable[[], bool | None]) -> None:
        self.live = live
        self.counters = counters
        self.store = store
        self.connected = connected

    def collect(self) -> Iterator[Metric]:
        yield from self._ingest()
        yield from self._live(datetime.now(UTC))
        if isinstance(self.store, ReportsStatus):
            status = self.store.status()
            yield GaugeMetricFamily("hubsense_spool_depth", "Records waiting in the on-disk spool for the "
                                    "store (InfluxDB) to come back.", value=status["depth"])
            yield GaugeMetricFamily("hubsense_spool_capacity", "Spool bound (records); when full the collector "
                                    "stops acknowledging MQTT messages.", value=status["max"])

    def _ingest(self) -> Iterator[Metric]:
        snap = self.counters().snapshot()
        for key, help_text in (("received", "MQTT messages received."),
                               ("accepted", "MQTT messages that passed validation."),
                               ("stored", "Sensor events newly stored."),
                               ("duplicates", "Sensor events that were already stored (redeliveries).")):
            name = "hubsense_mqtt_messages_" + key if key in ("received", "accepted") else f"hubsense_events_{key}"
            yield CounterMetricFamily(name, help_text, value=snap[key])
        rejected = CounterMetricFamily("hubsense_mqtt_messages_rejected", "MQTT messages rejected, by reason.",
                                       labels=["reason"])
        for reason, n in sorted(snap["rejected"].items()):
            rejected.add_metric([reason], n)
        yield rejected
        retained = CounterMetricFamily("hubsense_mqtt_retained_messages", "Retained messages handed over by the "
                                       "broker at (re)subscribe, by outcome ('accepted' or a rejection reason).",
                                       labels=["outcome"])
        retained.add_metric(["accepted"], snap["retained"]["accepted"])
        for reason, n in sorted(snap["retained"]["rejected"].items()):
            retained.add_metric([reason], n)
        yield retained
        connected = self.connected()
        if connected is not None:
            yield GaugeMetricFamily("hubsense_mqtt_connected", "1 while connected to the MQTT broker.",
                                    value=int(connected))

    def _live(self, now: datetime) -> Iterator[Metric]:
        zone_state = GaugeMetricFamily("hubsense_zone_state", "1 for the zone's current state (free, occupied, "
                                       "unknown), 0 for the others.", labels=["hub", "zone", "state"])
        free_desks = GaugeMetricFamily("hubsense_zone_free_desks", "Free desks of a desk area.",
                                       labels=["hub", "zone"])
        agent_up = GaugeMetricFamily("hubsense_agent_online", "1 while the agent is online and not stale.",
                                     labels=["hub", "agent"])
        agents_online = GaugeMetricFamily("hubsense_agents_online", "Agents online and not stale.", labels=["hub"])
        stuck = GaugeMetricFamily("hubsense_agent_stuck_sensors", "Sensors of the agent flagged stuck (motion "
                                  "beyond max_occupied_s, or no change for stuck_after_s of opening hours).",
                                  labels=["hub", "agent"])
        skew = GaugeMetricFamily("hubsense_agent_clock_offset_seconds", "Agent clock minus collector clock "
                                 "(last event or heartbeat).", labels=["hub", "agent"])
        for hub in sorted(self.live.hubs):
            for view in self.live.views(hub, now):
                for state in OccupancyState:
                    zone_state.add_metric([hub, view.zone, state.value], float(view.state is state))
                if view.free_desks is not None:
                    free_desks.add_metric([hub, view.zone], view.free_desks)
            health = self.live.health(hub, now)
            for agent in health:
                agent_up.add_metric([hub, agent["agent"]], float(bool(agent["online"])))
                stuck.add_metric([hub, agent["agent"]], len(agent["stuck_sensors"]))
                if agent["clock_offset_s"] is not None:
                    skew.add_metric([hub, agent["agent"]], agent["clock_offset_s"])
            agents_online.add_metric([hub], sum(1 for a in health if a["online"]))
        yield from (zone_state, free_desks, agent_up, agents_online, stuck, skew)
        yield GaugeMetricFamily("hubsense_sse_listeners", "Open Server-Sent-Event streams.",
                                value=self.live.broadcaster.listener_count)


class CollectorMetrics:
    """The registry of one app; :meth:`on_commit` listens to the ingest writer."""

    def __init__(self, live: LiveState, store: Store, counters: Callable[[], IngestCounters],
                 connected: Callable[[], bool | None] = lambda: None) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.store_write = Histogram(
            "hubsense_store_write_seconds", "Time to write one ingest batch (events, changes, health) to the store.",
            buckets=WRITE_BUCKETS, registry=self.registry,
        )
        self.registry.register(_Snapshot(live, counters, store, connected))

    def on_commit(self, commit: Commit) -> None:
        """Time the batch's store writes (batches that wrote nothing are not counted)."""
        if commit.records:
            self.store_write.observe(commit.store_s)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
