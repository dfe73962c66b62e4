"""``hubsense simulate``: months of realistic sensor history, written through the engine.

People arrive by time of day and weekday (Poisson arrivals, more in the morning and
after lunch, fewer on Fridays and Saturdays, none when the hub is closed); each zone
kind has its own visit pattern: groups in open zones, slot-aligned meetings behind a
door in bookable rooms, one person per desk.  While a zone or desk is occupied its
PIR pulses (motion / no_motion) at gaps well inside the zone's vacancy timeout; room
doors open and close as people enter and leave.  Agents send heartbeats and now and
then go offline for an hour or two (their events are lost), so statistics show
unknown time and data quality below 100 %.

Every message goes through the real :class:`collector.engine.engine.Engine` in
receive-time order (clock advanced first, like the live collector), and events,
state changes and health records are written to the store, so the dashboard and the
statistics API show a realistic history from the first minute.
"""

from __future__ import annotations

import argparse
import heapq
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from collector.engine.engine import Engine
from collector.engine.profiles import resolve
from collector.model import AgentHealth, ReceivedEvent, StateChange
from collector.store.base import Store
from hubsense.config import Hub, Zone, ZoneKind
from hubsense.progress import add_progress_argument, progress
from hubsense.protocol import SensorState, Signal, kind_spec
from hubsense.spans import merge_spans

HEARTBEAT_S = 300.0
LATENCY_S = 0.2
BURST_S = 360.0  # mean length of a burst of motion
# arrivals per open hour at the busiest hour, by local hour of day and weekday (Mon..Sun)
HOUR_SHAPE = np.array([0, 0, 0, 0, 0, 0, 0.1, 0.4, 0.8, 1.0, 1.0, 0.8, 0.6, 0.9, 1.0, 0.9, 0.7, 0.5, 0.3, 0.15,
                       0.05, 0, 0, 0])
DAY_SHAPE = np.array([0.9, 1.0, 1.0, 0.95, 0.7, 0.4, 0.3])
MOTION, NO_MOTION, OPEN, CLOSED = SensorState.MOTION, SensorState.NO_MOTION, SensorState.OPEN, SensorState.CLOSED


@dataclass(frozen=True)
class Pattern:
    """How people use one zone (or one desk)."""

    arrivals_per_hour: float  # at the busiest hour
    mean_stay_s: float
    slot_s: float = 0.0  # bookable rooms: meetings start on these boundaries


def pattern(zone: Zone) -> Pattern:
    if zone.kind is ZoneKind.DESK_AREA:
        return Pattern(0.35, 2.5 * 3600)
    if zone.kind is ZoneKind.ROOM and zone.bookable:
        return Pattern(0.45 + zone.capacity / 80, 55 * 60, slot_s=1800)
    if zone.kind is ZoneKind.ROOM:
        return Pattern(0.5, 25 * 60)
    return Pattern(0.6 + zone.capacity / 30, 35 * 60)


# -- occupancy -----------------------------------------------------------------


def visits(rng: np.random.Generator, hub: Hub, p: Pattern, spans: list[tuple[float, float]]) -> np.ndarray:
    """(n, 2) occupied periods (merged visits) inside / slightly beyond opening hours."""
    out = []
    tz = hub.tz
    for a, b in spans:
        local = datetime.fromtimestamp(a, tz)
        hours = np.arange(a, b, 3600.0)
        shape = HOUR_SHAPE[[(local.hour + i) % 24 for i in range(len(hours))]] * DAY_SHAPE[local.weekday()]
        counts = rng.poisson(p.arrivals_per_hour * shape)
        starts = np.repeat(hours, counts) + rng.uniform(0, 3600, counts.sum())
        starts = starts[starts < b - 600]
        if p.slot_s:
            starts = np.floor(starts / p.slot_s) * p.slot_s
            stays = rng.choice([1, 2, 2, 2, 3, 4], len(starts)) * p.slot_s * (p.mean_stay_s / (2.3 * p.slot_s))
        else:
            stays = rng.gamma(2.0, p.mean_stay_s / 2.0, len(starts)).clip(300, None)
        ends = np.minimum(starts + stays, b + rng.uniform(0, 900, len(starts)))
        out.append(np.column_stack((np.maximum(starts, a - 600), ends)))
    merged = merge_spans(map(tuple, np.concatenate(out).tolist())) if out else []
    return np.array(merged, dtype=np.float64).reshape(-1, 2)


# -- sensor signals --------------------------------------------------------------


def pir_signal(rng: np.random.Generator, periods: np.ndarray, timeout_s: float) -> list[tuple[float, SensorState]]:
    """Bursts of motion while occupied (the PIR stays high while people keep moving), separated by
    still gaps shorter than the zone's vacancy timeout."""
    out: list[tuple[float, SensorState]] = []
    burst_mean = BURST_S * (0.6 if timeout_s >= 900 else 1.0)
    for a, b in periods.tolist():
        t = a + 2.0
        while t < b - 10:
            end = min(t + max(rng.exponential(burst_mean), 20.0), b)
            out.append((t, MOTION))
            out.append((end, NO_MOTION))
            t = end + min(rng.exponential(timeout_s / 4), 0.8 * timeout_s)
    return out


def door_signal(rng: np.random.Generator, periods: np.ndarray) -> list[tuple[float, SensorState]]:
    """The door opens as people go in and as they leave."""
    out: list[tuple[float, SensorState]] = []
    for a, b in periods:
        for t in (a - 3.0, b + 1.0):
            out.append((t, OPEN))
            out.append((t + rng.uniform(3, 9), CLOSED))
    return out


# -- agents --------------------------------------------------------------------------


def outages(rng: np.random.Generator, spans: list[tuple[float, float]], end: float,
            per_30_days: float = 1.5) -> list[tuple[float, float]]:
    """An agent's offline periods (30 min to 3 h), starting inside opening hours so they show."""
    if not spans:
        return []
    days = (spans[-1][1] - spans[0][0]) / 86400
    picks = rng.integers(0, len(spans), rng.poisson(per_30_days * days / 30))
    out = []
    for i in np.sort(picks).tolist():
        a = rng.uniform(*spans[i])
        out.append((a, min(end, a + rng.uniform(1800, 3 * 3600))))
    return out


def _down(spans: list[tuple[float, float]], t: float) -> bool:
    return any(a <= t < b for a, b in spans)


@dataclass
class Written:
    events: int = 0
    changes: int = 0
    health: int = 0


def hub_messages(rng: np.random.Generator, hub: Hub, start: datetime, end: datetime) -> list[tuple]:
    """Every message of the hub in receive-time order: (received, order, kind, agent, data)."""
    spans = hub.open_spans(start.timestamp(), end.timestamp())
    zones = {z.id: z for z in hub.zones}
    periods: dict[tuple[str, str | None], np.ndarray] = {}
    streams = []
    for agent in hub.agents:
        down = outages(rng, spans, end.timestamp())
        items: list[tuple] = []
        for sensor in agent.sensors:
            zone = zones[sensor.zone]
            key = (zone.id, sensor.desk)
            if key not in periods:
                periods[key] = visits(rng, hub, pattern(zone), spans)
            if kind_spec(sensor.kind).signal is Signal.DOOR:
                signal = door_signal(rng, periods[key])
            else:
                signal = pir_signal(rng, periods[key], resolve(zone).vacancy_timeout_s)
            items.extend((t, 2, "event", agent.id, (sensor.id, sensor.kind, s)) for t, s in signal)
        for t in np.arange(start.timestamp() + rng.uniform(0, HEARTBEAT_S), end.timestamp(), HEARTBEAT_S):
            items.append((float(t), 1, "heartbeat", agent.id, None))
        t0, t1 = start.timestamp(), end.timestamp()
        # while the agent is down its messages are lost, but the sensors keep changing (next heartbeat says so)
        items = [it if not _down(down, it[0]) else (it[0], it[1], f"lost-{it[2]}", it[3], it[4])
                 for it in items if t0 <= it[0] < t1]
        for a, b in down:
            items.append((a + 90.0, 0, "offline", agent.id, None))  # Last Will after the keepalive
            items.append((b, 0, "online", agent.id, None))
        items.sort()
        streams.append(items)
    return list(heapq.merge(*streams))


def run_hub(hub: Hub, store: Store, start: datetime, end: datetime, seed: int, batch: int = 20_000) -> Written:
    """Generate, run through a fresh engine, and store one hub's history."""
    rng = np.random.default_rng([seed, sum(map(ord, hub.id))])
    engine = Engine(hub)
    boot = f"sim-{seed}"
    seq: dict[str, int] = {a.id: 0 for a in hub.agents}
    states: dict[str, dict[str, SensorState]] = {
        a.id: {s.id: kind_spec(s.kind).rest for s in a.sensors} for a in hub.agents
    }
    written = Written()
    events: list[ReceivedEvent] = []
    changes: list[StateChange] = []
    health: list[AgentHealth] = []
    for t, _, kind, agent, data in hub_messages(rng, hub, start, end):
        if kind.startswith("lost-"):
            if kind == "lost-event":
                sensor, _, state = data
                states[agent][sensor] = state
            continue
        received = t + LATENCY_S
        at = datetime.fromtimestamp(received, UTC)
        changes.extend(engine.advance_ts(received))
        if kind == "event":
            sensor, sensor_kind, state = data
            seq[agent] += 1
            states[agent][sensor] = state
            ev = ReceivedEvent(hub.id, agent, sensor, sensor_kind, state, datetime.fromtimestamp(t, UTC),
                               seq[agent], boot, at)
            events.append(ev)
            changes.extend(engine.event(ev))
        elif kind == "heartbeat":
            changes.extend(engine.heartbeat(agent, at, HEARTBEAT_S, dict(states[agent])))
            health.append(AgentHealth(hub.id, agent, True, at, boot, -LATENCY_S, 0, 0, HEARTBEAT_S))
        else:
            online = kind == "online"
            changes.extend(engine.status(agent, online, at))
            health.append(AgentHealth(hub.id, agent, online, at, boot, -LATENCY_S))
        if len(events) >= batch:
            _flush(store, events, changes, health, written)
    changes.extend(engine.advance(end))
    _flush(store, events, changes, health, written)
    return written


def _flush(store: Store, events: list, changes: list, health: list, written: Written) -> None:
    written.events += store.add_events(events)
    store.add_changes(changes)
    store.add_health(health)
    written.changes += len(changes)
    written.health += len(health)
    events.clear()
    changes.clear()
    health.clear()


def simulate_history(hubs: dict[str, Hub], store: Store, days: int = 28, *, seed: int = 1,
                     end: datetime | None = None) -> dict[str, Written]:
    """``days`` of history up to ``end`` (default: now) for every hub, written to ``store``."""
    end = end or datetime.now(UTC)
    start = end - timedelta(days=days)
    return {hub_id: run_hub(hub, store, start, end, seed) for hub_id, hub in hubs.items()}


# -- command line ----------------------------------------------------------------------


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="write days of simulated sensor history (events, states, health) "
                       "through the engine into the database")
    p.add_argument("--days", type=int, default=28, help="days of history ending now (default 28)")
    p.add_argument("--hub", action="append", default=None, help="only this hub (repeatable; default all)")
    p.add_argument("--db", type=Path, default=None, help="SQLite database file (default: settings)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--end", type=datetime.fromisoformat, default=None,
                   help="ISO 8601 end with offset (default: now)")
    p.add_argument("--config", dest="config_paths", type=Path, action="append",
                   help="hub config file or directory (default firmware_config/)")
    p.add_argument("--hubs", type=int, default=None, metavar="N",
                   help="instead: write N hub configs like firmware_config/stockholm.toml (own ids, names, cities "
                   "and regions) into --out, for scale tests (bench/scale.py drives agents for them)")
    p.add_argument("--out", type=Path, default=None, help="with --hubs: the directory to write the configs to")
    add_progress_argument(p)
    p.set_defaults(func=_run)


def _write_fleet(args: argparse.Namespace) -> int:
    from collector.fleet import write_hub_configs

    if args.hubs < 1 or args.out is None:
        print("error: --hubs needs N >= 1 and --out DIR", file=sys.stderr)
        return 2
    paths = write_hub_configs(args.hubs, args.out)
    print(f"{len(paths)} hub configs in {args.out}; history: hubsense simulate --config {args.out} --days 7; "
          f"collector: HUBSENSE_CONFIG_PATHS='[\"{args.out}\"]' hubsense collector")
    return 0


def _run(args: argparse.Namespace) -> int:
    if args.hubs is not None:
        return _write_fleet(args)
    from collector.settings import Settings
    from collector.store.sqlite import SqliteStore
    from hubsense.config import load_hubs

    overrides = {k: v for k, v in (("sqlite_path", args.db), ("config_paths", args.config_paths)) if v}
    settings = Settings(**overrides)
    hubs = load_hubs(settings.config_paths)
    unknown = sorted(set(args.hub or []) - set(hubs))
    if unknown or args.days < 1 or (args.end is not None and args.end.tzinfo is None):
        reason = f"unknown hub(s) {unknown}" if unknown else "--days must be >= 1 and --end needs an offset"
        print(f"error: {reason}", file=sys.stderr)
        return 2
    if args.hub:
        hubs = {h: hubs[h] for h in args.hub}
    store = SqliteStore(settings.sqlite_path)
    end = args.end or datetime.now(UTC)
    try:  # one hub at a time, for the progress bar
        result = {hub_id: simulate_history({hub_id: hub}, store, args.days, seed=args.seed, end=end)[hub_id]
                  for hub_id, hub in progress(hubs.items(), total=len(hubs), desc="simulate", unit=" hub",
                                              enabled=getattr(args, "progress", None))}
    finally:
        store.close()
    for hub_id, w in result.items():
        print(f"{hub_id}: {w.events} events, {w.changes} state changes, {w.health} health records "
              f"-> {settings.sqlite_path}")
    return 0
