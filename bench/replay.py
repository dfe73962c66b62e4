"""Events/s through ``hubsense replay``, and through the engine alone (the live ingest hot path).

A deterministic recording for the Stockholm hub is generated first: every agent online, a
heartbeat from each agent every 30 s, and N sensor events about 1.5 s apart on average, from a
few active sensors at a time (the active set changes every 1,000 events, ~25 minutes, so zones
and desks go occupied and free again), written as wire-format JSONL exactly as
``hubsense export`` does.

Measured in the same run:

* ``parse only``: JSON decode + ``hubsense.protocol.parse_message`` of every line (the floor the
  replay path cannot beat);
* ``replay``: :func:`collector.replay.replay_lines` (parse, de-duplicate, canonical sort, engine);
* ``engine live``: ``Engine.event`` / ``heartbeat`` / ``advance`` on already-validated
  messages in arrival order, as the live collector calls it.

Rates are events per second of *CPU time* of this process (``time.process_time``), so other
load on the machine does not distort them; wall-clock rates are printed next to them.

Usage: ``.venv/bin/python bench/replay.py [--events N]``.  The last line is JSON with
``events_per_s`` (the replay path, CPU time).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from collector.engine import Engine
from collector.model import ReceivedEvent
from collector.replay import replay_lines
from hubsense.config import DEFAULT_CONFIG_DIR, load_hubs
from hubsense.protocol import (
    AgentState,
    AgentStatus,
    Heartbeat,
    MessageKind,
    SensorEvent,
    SensorState,
    encode,
    kind_spec,
    parse_message,
    topic,
)

T0 = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)


def generate(path: Path, events: int, seed: int = 7) -> int:
    """Write a recording with ``events`` sensor events; returns the number of lines."""
    hub = load_hubs([DEFAULT_CONFIG_DIR])["stockholm"]
    rnd = random.Random(seed)
    sensors = [(a.id, s) for a in hub.agents for s in a.sensors]
    state = {s.id: kind_spec(s.kind).rest for _, s in sensors}
    seq = {a.id: 0 for a in hub.agents}
    lines = 0
    with path.open("w", encoding="utf-8") as out:
        def write(msg, kind: MessageKind, received: datetime) -> None:
            nonlocal lines
            out.write(json.dumps({"topic": topic(hub.id, msg.agent, kind), "payload": encode(msg).decode(),
                                  "received": received.isoformat()}) + "\n")
            lines += 1

        def event(agent: str, sensor, new: SensorState, t: datetime) -> None:
            state[sensor.id] = new
            seq[agent] += 1
            ev = SensorEvent(hub=hub.id, agent=agent, boot="b1", sensor=sensor.id, kind=sensor.kind,
                             state=new, ts=t, seq=seq[agent])
            write(ev, MessageKind.EVENT, t + timedelta(milliseconds=rnd.randint(1, 50)))

        for a in hub.agents:
            online = AgentStatus(hub=hub.id, agent=a.id, boot="b1", state=AgentState.ONLINE, ts=T0)
            write(online, MessageKind.STATUS, T0)
        t, next_beat = T0, T0
        active: list = []
        n = 0
        while n < events:
            if n % 1000 == 0:  # the old active sensors go quiet, others become active
                for agent, sensor in active:
                    if state[sensor.id] is not kind_spec(sensor.kind).rest and n < events:
                        event(agent, sensor, kind_spec(sensor.kind).rest, t)
                        n += 1
                active = rnd.sample(sensors, 4)
            t += timedelta(seconds=rnd.uniform(0, 3))
            while next_beat <= t:
                for a in hub.agents:
                    write(Heartbeat(hub=hub.id, agent=a.id, boot="b1", ts=next_beat, seq=seq[a.id], uptime_s=1,
                                    interval_s=30), MessageKind.HEARTBEAT, next_beat)
                next_beat += timedelta(seconds=30)
            agent, sensor = rnd.choice(active)
            states = sorted(kind_spec(sensor.kind).states)
            event(agent, sensor, states[1 - states.index(state[sensor.id])], t)
            n += 1
    return lines


def _parse_all(lines: list[str]) -> list:
    out = []
    for line in lines:
        record = json.loads(line)
        received = datetime.fromisoformat(record["received"])
        out.append((parse_message(record["topic"], record["payload"].encode(), received), received))
    return out


def _timed(fn, *args) -> tuple[object, float, float]:
    """(result, cpu seconds, wall seconds)."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = fn(*args)
    return result, time.process_time() - cpu, time.perf_counter() - wall


def _engine_live(parsed: list) -> tuple[float, float]:
    hub = load_hubs([DEFAULT_CONFIG_DIR])["stockholm"]
    engine = Engine(hub)
    inputs = []
    for msg, received in parsed:
        if isinstance(msg, SensorEvent):
            inputs.append((0, ReceivedEvent.from_message(msg, received)))
        elif isinstance(msg, Heartbeat):
            inputs.append((1, msg, received))
        else:
            inputs.append((2, msg, received))
    cpu, wall = time.process_time(), time.perf_counter()
    for item in inputs:
        if item[0] == 0:
            engine.event(item[1])
            engine.advance(item[1].received)
        elif item[0] == 1:
            engine.heartbeat(item[1].agent, item[2], item[1].interval_s, dict(item[1].sensors))
        else:
            engine.status(item[1].agent, item[1].state is AgentState.ONLINE, item[2])
    return time.process_time() - cpu, time.perf_counter() - wall


def run(events: int = 100_000) -> dict:
    hubs = load_hubs([DEFAULT_CONFIG_DIR])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "recording.jsonl"
        n_lines = generate(path, events)
        lines = path.read_text(encoding="utf-8").splitlines()
    parsed, parse_cpu, parse_wall = _timed(_parse_all, lines)
    result, replay_cpu, replay_wall = _timed(replay_lines, lines, hubs)
    engine_cpu, engine_wall = _engine_live(parsed)
    assert result.messages == n_lines and not result.bad, result.bad
    return {
        "events": events,
        "lines": n_lines,
        "changes": len(result.changes),
        "parse_events_per_s": events / parse_cpu,
        "events_per_s": events / replay_cpu,
        "engine_events_per_s": events / engine_cpu,
        "wall": {"parse": events / parse_wall, "replay": events / replay_wall, "engine": events / engine_wall},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    r = run(parser.parse_args().events)
    print(f"{r['events']} events, {r['lines']} lines, {r['changes']} state changes")
    print(f"{'path':<34} {'events/s (cpu)':>15} {'events/s (wall)':>16}")
    for label, key, wall in [("parse only (json + parse_message)", "parse_events_per_s", "parse"),
                             ("hubsense replay (replay_lines)", "events_per_s", "replay"),
                             ("engine live (event + advance)", "engine_events_per_s", "engine")]:
        print(f"{label:<34} {r[key]:>15,.0f} {r['wall'][wall]:>16,.0f}")
    print(json.dumps({"events_per_s": round(r["events_per_s"])}))


if __name__ == "__main__":
    main()
