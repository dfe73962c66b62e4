"""The live occupancy engine: sensor events and agent liveness in, zone and desk changes out.

Pure: no I/O, no clock of its own; every input carries its time.  The live collector calls it in
arrival order; :func:`collector.engine.timeline.replay_timeline` feeds it history in a canonical
order.  Rules and parameters: ``docs/engine.md``.
"""

from __future__ import annotations

import heapq
from datetime import datetime

from collector.engine.clock import event_time, to_dt
from collector.engine.dedup import Deduplicator
from collector.engine.liveness import INF, AgentTrack
from collector.engine.logic import OCCUPIED, UNKNOWN, SensorTrack
from collector.engine.profiles import resolve
from collector.engine.views import agent_health, zone_view, zone_views
from collector.engine.zones import ZoneTrack
from collector.model import ReceivedEvent, StateChange, ZoneView
from hubsense.config import Hub, Profile
from hubsense.protocol import SensorState, Signal, kind_spec


class Engine:
    """Occupancy state of one hub."""

    def __init__(self, hub: Hub, profiles: dict[str, Profile] | None = None, stale_factor: float = 3.0,
                 *, reasons: bool = False):
        self.hub = hub
        self.stale_factor = stale_factor
        # opt-in (``hubsense replay --reasons``): also emit a change when only the reason changes
        self.reasons = reasons
        profiles = profiles or {}
        self.sensors: dict[str, SensorTrack] = {
            s.id: SensorTrack(s.id, s.kind, a.id, s.zone, s.desk) for a in hub.agents for s in a.sensors
        }
        self.zones: dict[str, ZoneTrack] = {
            z.id: ZoneTrack(z, resolve(z, profiles.get(z.id)), [s for s in self.sensors.values() if s.zone == z.id])
            for z in hub.zones
        }
        self.agents: dict[str, AgentTrack] = {a.id: AgentTrack(a.id) for a in hub.agents}
        for zone in self.zones.values():
            for agent in zone.agents:
                self.agents[agent].zones.append(zone.id)
            zone.mask = self._mask(zone)
        # sensor id -> (its zone, its motion group, or None for a door): the event hot path
        self._route = {
            s.id: (self.zones[s.zone],
                   self.zones[s.zone].group_of(s) if kind_spec(s.kind).signal is Signal.MOTION else None)
            for s in self.sensors.values()
        }
        self.counters = {"events": 0, "duplicates": 0, "late": 0, "foreign": 0}
        self._dedup = Deduplicator()
        self._now = -INF  # newest time given to advance()
        self._due = INF  # no deadline of any zone or agent is earlier than this
        self._stuck_cache: dict[str, tuple] = {}
        # the two latest motion onsets of any zone's own PIRs, as (time, zone): "has motion moved on?"
        self._onsets: list[tuple[float, str]] = [(-INF, ""), (-INF, "")]

    # -- inputs --------------------------------------------------------------

    def event(self, ev: ReceivedEvent) -> list[StateChange]:
        """A sensor event; duplicates are dropped, stale (older) ones do not move live state."""
        if ev.hub != self.hub.id:
            self.counters["foreign"] += 1
            return []
        return self.event_ts(ev.agent, ev.boot, ev.seq, ev.sensor, ev.state, ev.ts.timestamp(),
                             ev.received.timestamp())

    def event_ts(
        self, agent_id: str, boot: str, seq: int, sensor_id: str, state: SensorState, ts: float, received: float
    ) -> list[StateChange]:
        """:meth:`event` with epoch times (the replay hot path)."""
        sensor = self.sensors.get(sensor_id)
        if sensor is None or sensor.agent != agent_id:
            self.counters["foreign"] += 1
            return []
        if not self._dedup.first_time(agent_id, boot, seq):
            self.counters["duplicates"] += 1
            return []
        self.counters["events"] += 1
        out: list[StateChange] = []
        agent = self.agents[agent_id]
        agent.clock_offset = ts - received
        was: str | None = None  # the agent's liveness reason, when this event may bring it back
        if agent.stale or agent.offline_at is not None or agent.last_seen is None:
            was = agent.reason()
            self._seen(agent, received)
        elif received > agent.last_seen:  # fast path: alive, and stays alive
            agent.last_seen = received
        t = event_time(ts, received)
        if t < sensor.last_t:
            self.counters["late"] += 1
        else:
            sensor.last_t = t
            self._observe(sensor, state, t, out)
        # an agent that came back is re-evaluated with its event applied: its zones go from
        # unknown straight to what the event says, never through a zero-length 'free'
        if was is not None and agent.reason() != was:
            self._refresh_agent(agent, received, out)
        return out

    def status(self, agent: str, online: bool, at: datetime, ts: datetime | None = None,
               retained: bool = False) -> list[StateChange]:
        """An agent status message (``at`` = receive time); 'offline' includes the Last Will.

        An 'online' that does not prove life (:meth:`proves_life`) changes nothing."""
        track = self.agents.get(agent)
        if track is None:
            return []
        out: list[StateChange] = []
        received = at.timestamp()
        if online and not self.proves_life(agent, at, ts, retained):
            self.counters["stale_status"] = self.counters.get("stale_status", 0) + 1
            return out
        if online:
            was = track.reason()
            if track.offline_at is not None and received >= track.offline_at:
                track.offline_at = None
            self._evidence(track, received, out, was)
            return out
        was = track.reason()
        track.offline_at = received if track.offline_at is None else max(track.offline_at, received)
        if was != "offline":
            self._refresh_agent(track, received, out)
        return out

    def proves_life(self, agent: str, at: datetime, ts: datetime | None, retained: bool = False) -> bool:
        """Is an 'online' status received at ``at`` evidence that the agent is alive now?

        Not when the broker kept it (retained: it may be years old and the agent long gone), nor when
        its own ``ts`` is older than the staleness window; the zone then waits for a fresh heartbeat
        or event.  Agents send a heartbeat right after connecting, so a live agent loses nothing."""
        if retained:
            return False
        track = self.agents.get(agent)
        if ts is None or track is None:
            return True
        return at.timestamp() - ts.timestamp() <= self.stale_factor * track.interval

    def heartbeat(
        self,
        agent: str,
        at: datetime,
        interval_s: float,
        sensors: dict[str, SensorState],
        *,
        ts: datetime | None = None,
        boot: str | None = None,
    ) -> list[StateChange]:
        """A heartbeat received at ``at``; its sensor states repair missed events.

        ``ts`` (the agent's clock) is optional: with it, sensor states are placed at the event
        time (see :mod:`collector.engine.clock`) and the clock offset is tracked.
        """
        track = self.agents.get(agent)
        if track is None:
            return []
        out: list[StateChange] = []
        received = at.timestamp()
        if received >= (track.last_heartbeat or -INF):
            track.interval = float(interval_s)
            track.last_heartbeat = received
            if boot:
                track.boot = boot
        if ts is not None:
            agent_ts = ts.timestamp()
            track.clock_offset = agent_ts - received
        else:  # estimate the agent's clock from its last event
            agent_ts = received + (track.clock_offset or 0.0)
        t = event_time(agent_ts, received)
        was = track.reason()
        self._seen(track, received)
        for sensor_id, state in sensors.items():
            sensor = self.sensors.get(sensor_id)
            if sensor is None or sensor.agent != agent or sensor.state is state or t < sensor.last_t:
                continue
            sensor.last_t = t  # only a repair moves the guard: newer queued events still apply
            self._observe(sensor, state, t, out)
        if track.reason() != was:  # came back: re-evaluated with its repairs applied (as for events)
            self._refresh_agent(track, received, out)
        return out

    def advance(self, now: datetime) -> list[StateChange]:
        """Fire timeouts and staleness due by ``now``; each change carries its own effective time."""
        return self.advance_ts(now.timestamp())

    def advance_ts(self, n: float) -> list[StateChange]:
        """:meth:`advance` with an epoch time (the replay hot path)."""
        if n > self._now:
            self._now = n
        if n < self._due:
            return []
        out: list[StateChange] = []
        self._fire_due(n, out)
        while True:  # whatever firing made due after all (rare): one scan per item, in time order
            t, agent, zone = self._earliest()
            if t > n:
                self._due = t
                return out
            self._fire(t, agent, zone, out)

    def _fire(self, t: float, agent: AgentTrack | None, zone: ZoneTrack | None, out: list[StateChange]) -> None:
        if agent is not None:
            agent.stale = True
            self._refresh_agent(agent, t, out)
        else:
            self._refresh(zone, t, out)

    def _fire_due(self, n: float, out: list[StateChange]) -> None:
        """Fire every deadline ≤ ``n`` in time order with a heap (one scan, not one per item: a hub
        where hundreds of zones time out in the same second would otherwise be quadratic).  Ties
        go agents first, then config order, as :meth:`_earliest` orders them; an entry whose
        deadline moved is re-queued or dropped when popped."""
        factor = self.stale_factor
        agents, zones = list(self.agents.values()), list(self.zones.values())
        heap = [(d, 0, i) for i, a in enumerate(agents) if (d := a.deadline(factor)) <= n]
        heap += [(z.deadline, 1, i) for i, z in enumerate(zones) if z.deadline <= n]
        heapq.heapify(heap)
        while heap:
            t, kind, i = heapq.heappop(heap)
            agent, zone = (agents[i], None) if kind == 0 else (None, zones[i])
            current = agent.deadline(factor) if agent is not None else zone.deadline
            if current != t:
                if current <= n:
                    heapq.heappush(heap, (current, kind, i))
                continue
            self._fire(t, agent, zone, out)
            after = agent.deadline(factor) if agent is not None else zone.deadline
            if after <= n:
                heapq.heappush(heap, (after, kind, i))

    # -- outputs -------------------------------------------------------------

    def views(self, now: datetime) -> list[ZoneView]:
        """One view per zone, in config order (read-only; staleness judged at ``now``)."""
        return zone_views(self, now.timestamp())

    def view(self, zone: str, now: datetime) -> ZoneView:
        """The view of one zone (cheaper than :meth:`views` on a large hub)."""
        return zone_view(self, self.zones[zone], now.timestamp())

    def learned(self) -> dict[str, dict]:
        """What each zone has learned, JSON-able; :meth:`restore` takes it back after a restart."""
        return {zone_id: zone.learned() for zone_id, zone in self.zones.items()}

    def restore(self, learned: dict[str, dict]) -> None:
        """Take back :meth:`learned` (zones that no longer exist are ignored)."""
        for zone_id, data in learned.items():
            if zone_id in self.zones:
                self.zones[zone_id].restore(data)

    def parameters(self, zone: str) -> dict:
        """The effective parameters of one zone and whether each is learned, configured or a default."""
        return self.zones[zone].parameters()

    def health(self, now: datetime) -> list[dict]:
        """One dict per agent: liveness, heartbeat, clock offset, stuck sensors, counters."""
        return agent_health(self, now.timestamp())

    # -- internals -----------------------------------------------------------

    def _earliest(self) -> tuple[float, AgentTrack | None, ZoneTrack | None]:
        best, agent_best, zone_best = INF, None, None
        factor = self.stale_factor
        for agent in self.agents.values():
            d = agent.deadline(factor)
            if d < best:
                best, agent_best, zone_best = d, agent, None
        for zone in self.zones.values():
            if zone.deadline < best:
                best, agent_best, zone_best = zone.deadline, None, zone
        return best, agent_best, zone_best

    def _evidence(self, agent: AgentTrack, received: float, out: list[StateChange], was: str | None = "") -> None:
        if was == "":
            was = agent.reason()
        self._seen(agent, received)
        if agent.reason() != was:
            self._refresh_agent(agent, received, out)

    def _seen(self, agent: AgentTrack, received: float) -> None:
        """A sign of life at ``received`` (liveness only; the caller re-evaluates the zones)."""
        agent.seen(received, self._now, self.stale_factor)
        deadline = agent.deadline(self.stale_factor)
        if deadline < self._due:
            self._due = deadline

    def _refresh_agent(self, agent: AgentTrack, t: float, out: list[StateChange]) -> None:
        """The agent's liveness changed: re-evaluate its zones."""
        for zone_id in agent.zones:
            zone = self.zones[zone_id]
            zone.mask = self._mask(zone)
            self._refresh(zone, t, out)

    def _observe(self, sensor: SensorTrack, state: SensorState, t: float, out: list[StateChange]) -> None:
        """Apply a new sensor state at event time ``t`` and re-evaluate its zone."""
        zone, group = self._route[sensor.id]
        while zone.deadline <= t:  # timeouts that fell due before this observation come first
            self._refresh(zone, zone.deadline, out)
        at = t if t > zone.clock else zone.clock
        if group is not None:
            main = sensor.desk is None
            what = group.apply(sensor, state, t, moved_on=main and self._moved_on(zone.id, group.last_onset))
            if what == "onset" and main:
                self._note_onset(zone.id, t)
            if what is not None and zone.room is not None:
                zone.room.motion(what, t, group, zone.params.door_exit_window_s)
        elif state is not sensor.state:
            before = zone.evaluate(at)[0][0] is OCCUPIED
            sensor.state = state
            sensor.changed_at = t
            if zone.room is not None:
                zone.room.door_moved(t, before, zone.params.door_exit_window_s)
        self._refresh(zone, at, out, sensor.desk)

    def _note_onset(self, zone: str, t: float) -> None:
        first, second = self._onsets
        if zone == first[1]:
            self._onsets[0] = (max(t, first[0]), zone)
        elif t >= first[0]:
            self._onsets = [(t, zone), first]
        elif t > second[0]:
            self._onsets[1] = (t, zone)
        if self._onsets[0][0] < self._onsets[1][0]:
            self._onsets.reverse()

    def _moved_on(self, zone: str, since: float) -> bool:
        """Did another zone's own PIRs start seeing motion after ``since``?"""
        return any(t > since and z != zone for t, z in self._onsets)

    def _refresh(self, zone: ZoneTrack, t: float, out: list[StateChange], touched: str | None = None) -> None:
        """Re-evaluate a zone at ``t`` and emit what changed."""
        if t < zone.clock:
            t = zone.clock
        zone.clock = t
        mask = zone.mask
        began = None
        if mask is None:
            (state, reason, deadline, began), desks = zone.evaluate(t, touched)
        else:
            state, reason, deadline = UNKNOWN, mask, INF
            desks = [(d, UNKNOWN, mask) for d in zone.desks.values()]
        zone.deadline = deadline
        if deadline < self._due:
            self._due = deadline
        hub = self.hub.id
        for desk, d_state, d_reason in desks:
            if d_state is not desk.state:
                desk.state, desk.since = d_state, t
                out.append(StateChange(hub, zone.id, desk.id, d_state, to_dt(t), d_reason))
            elif self.reasons and d_reason != desk.reason:
                out.append(StateChange(hub, zone.id, desk.id, d_state, to_dt(t), d_reason))
            desk.reason = d_reason
        if state is not zone.state:
            if began is not None and began < t:  # known to have begun earlier (e.g. the door shut)
                t = max(began, zone.since if zone.since is not None else began)
            zone.state, zone.since = state, t
            out.append(StateChange(hub, zone.id, None, state, to_dt(t), reason))
        elif self.reasons and reason != zone.reason:
            out.append(StateChange(hub, zone.id, None, state, to_dt(t), reason))
        zone.reason = reason

    def _mask(self, zone: ZoneTrack) -> str | None:
        """Why liveness makes the zone unknown (first agent that is not alive), or None."""
        if not zone.agents:
            return "no_sensors"
        for agent_id in zone.agents:
            reason = self.agents[agent_id].reason()
            if reason is not None:
                return reason
        return None
