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

**A year of a 100-sensor hub** (``--year-days``, default 365): a hub of 20 open zones (2 PIRs
each), 10 rooms (PIR + door) and 2 desk areas of 20 desks on 4 agents; each PIR starts motion
about 100 times on a working day (7-19 h), each door opens 40 times, every agent sends a
heartbeat with its sensors' states every 30 s around the clock.  The recording is generated day
by day straight into the stdin of ``hubsense replay /dev/stdin --summary -o /dev/null`` in a
child process (never held in memory or on disk), and that process's CPU time and peak resident
memory (``wait4``) give ``year_events_per_s`` and ``peak_rss_mb``.

Usage: ``.venv/bin/python bench/replay.py [--events N] [--year-days D]``.  The last line is JSON
with ``events_per_s`` (the replay path, CPU time), ``year_events_per_s`` and ``peak_rss_mb``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
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
    SensorKind,
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


# -- a year of a 100-sensor hub, streamed into hubsense replay ----------------------------------------

DAY = 86400.0
YEAR_T0 = datetime(2026, 1, 5, tzinfo=UTC).timestamp()  # a Monday


def big_hub():
    """20 open zones with 2 PIRs, 10 rooms with a PIR and a door, 2 desk areas of 20 desks: 100 sensors."""
    from bench.accuracy_data import make_hub

    spaces = [{"id": f"open-{i:02}", "kind": "open", "sensors": [{"id": f"open-{i:02}-pir{k}", "kind": "pir"}
                                                                for k in (1, 2)]} for i in range(20)]
    spaces += [{"id": f"room-{i:02}", "kind": "room", "sensors": [{"id": f"room-{i:02}-pir", "kind": "pir"},
                                                                 {"id": f"room-{i:02}-door", "kind": "door"}]}
               for i in range(10)]
    for a in range(2):
        desks = [{"id": f"desk-{a}{d:02}", "name": f"Desk {a}{d:02}"} for d in range(20)]
        spaces.append({"id": f"desks-{a}", "kind": "desk_area", "capacity": 20, "desks": desks,
                       "sensors": [{"id": f"{d['id']}-pir", "kind": "pir", "desk": d["id"]} for d in desks]})
    return make_hub("year", spaces)


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _day_changes(hub, day0: float, rnd: random.Random) -> list[tuple[float, str, str]]:
    """One working day's sensor changes (t, sensor, state), in time order."""
    out = []
    open_, close = day0 + 7 * 3600, day0 + 19 * 3600
    for a in hub.agents:
        for s in a.sensors:
            if s.kind is SensorKind.DOOR:
                for t in sorted(rnd.uniform(open_, close) for _ in range(40)):
                    out += [(t, s.id, "open"), (t + rnd.uniform(3, 20), s.id, "closed")]
                continue
            busy = 0.0
            for t in sorted(rnd.uniform(open_, close) for _ in range(100)):
                if t <= busy + 1:
                    continue
                busy = t + rnd.uniform(4, 60)
                out += [(t, s.id, "motion"), (busy, s.id, "no_motion")]
    out.sort()
    return out


def write_year(hub, out, days: int, seed: int = 11) -> tuple[int, int]:
    """Write ``days`` days of the hub's wire messages to the binary stream ``out``, in receive-time
    order; returns (sensor events, lines)."""
    import orjson

    rnd = random.Random(seed)
    agent_of = {s.id: (a.id, s.kind.value) for a in hub.agents for s in a.sensors}
    states = {s.id: ("closed" if s.kind is SensorKind.DOOR else "no_motion") for a in hub.agents for s in a.sensors}
    seq = {a.id: 0 for a in hub.agents}
    events = lines = 0

    def line(agent: str, kind: str, payload: str, t: float) -> bytes:
        return orjson.dumps({"topic": f"hubsense/{hub.id}/{agent}/{kind}", "payload": payload,
                             "received": datetime.fromtimestamp(t + 0.02, UTC).isoformat()}) + b"\n"

    for a in hub.agents:
        status = f'{{"v":1,"hub":"{hub.id}","agent":"{a.id}","boot":"b1","state":"online","ts":"{_iso(YEAR_T0)}"}}'
        out.write(line(a.id, "status", status, YEAR_T0))
        lines += 1
    for d in range(days):
        day0 = YEAR_T0 + d * DAY
        changes = _day_changes(hub, day0, rnd) if d % 7 < 5 else []
        beats = [(day0 + k * 30.0, "", "") for k in range(int(DAY // 30))]
        chunk = []
        for t, sensor, state in sorted(changes + beats):
            if sensor:
                agent, kind = agent_of[sensor]
                seq[agent] += 1
                states[sensor] = state
                payload = (f'{{"v":1,"hub":"{hub.id}","agent":"{agent}","boot":"b1","sensor":"{sensor}","kind":'
                           f'"{kind}","state":"{state}","ts":"{_iso(t)}","seq":{seq[agent]}}}')
                chunk.append(line(agent, "event", payload, t))
                events += 1
                continue
            for a in hub.agents:
                seq[a.id] += 1
                sensors = ",".join(f'"{s.id}":"{states[s.id]}"' for s in a.sensors)
                payload = (f'{{"v":1,"hub":"{hub.id}","agent":"{a.id}","boot":"b1","ts":"{_iso(t)}","seq":'
                           f'{seq[a.id]},"uptime_s":{t - YEAR_T0:.1f},"interval_s":30.0,"queue_depth":0,'
                           f'"dropped":0,"sensors":{{{sensors}}}}}')
                chunk.append(line(a.id, "heartbeat", payload, t))
        out.write(b"".join(chunk))
        lines += len(chunk)
    return events, lines


def year(days: int = 365) -> dict:
    """Replay ``days`` of the 100-sensor hub in a child process; its CPU time and peak RSS."""
    from bench.accuracy_data import hub_toml

    hub = big_hub()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "year.toml"
        config.write_text(hub_toml(hub), encoding="utf-8")
        cmd = [sys.executable, "-m", "hubsense.cli", "replay", "/dev/stdin", "--config", str(config), "--summary",
               "-o", os.devnull]
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            events, lines = write_year(hub, proc.stdin, days)
            proc.stdin.close()
        except BrokenPipeError:
            events = lines = 0
        err = proc.stderr.read().decode()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
    if proc.returncode != 0 or f"replay: {lines} messages" not in err or "0 bad lines" not in err:
        raise RuntimeError(f"hubsense replay failed ({proc.returncode}): {err.strip()[-500:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return {"days": days, "sensors": sum(len(a.sensors) for a in hub.agents), "events": events, "lines": lines,
            "events_per_s": events / cpu, "lines_per_s": lines / cpu, "peak_rss_mb": usage.ru_maxrss / 1024,
            "cpu_s": cpu, "wall_s": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--year-days", type=int, default=365, help="days of the 100-sensor hub (0: skip)")
    args = parser.parse_args()
    r = run(args.events)
    print(f"{r['events']} events, {r['lines']} lines, {r['changes']} state changes")
    print(f"{'path':<34} {'events/s (cpu)':>15} {'events/s (wall)':>16}")
    for label, key, wall in [("parse only (json + parse_message)", "parse_events_per_s", "parse"),
                             ("hubsense replay (replay_lines)", "events_per_s", "replay"),
                             ("engine live (event + advance)", "engine_events_per_s", "engine")]:
        print(f"{label:<34} {r[key]:>15,.0f} {r['wall'][wall]:>16,.0f}")
    summary = {"events_per_s": round(r["events_per_s"])}
    if args.year_days:
        y = year(args.year_days)
        print(f"\n{y['days']} days of a {y['sensors']}-sensor hub: {y['events']:,} sensor events, {y['lines']:,} "
              f"lines; hubsense replay: {y['events_per_s']:,.0f} events/s, {y['lines_per_s']:,.0f} lines/s (cpu), "
              f"peak RSS {y['peak_rss_mb']:.0f} MB, {y['wall_s']:.0f} s wall")
        summary |= {"year_days": y["days"], "year_events": y["events"], "year_events_per_s": round(y["events_per_s"]),
                    "peak_rss_mb": round(y["peak_rss_mb"], 1)}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
