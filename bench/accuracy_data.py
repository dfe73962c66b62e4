"""Occupancy data sets for ``bench/accuracy.py``, all in one shape: a hub, wire messages, truth.

A :class:`Dataset` is what the acceptance replay works with too: a hub config (kinds only, no
tuned profiles), the messages agents would have sent (events, heartbeats, status) and ground
truth as occupied intervals per zone, scored on a 30 s grid inside the recordings.

Sources:

* UCI Room Occupancy Estimation (``bench/data/Occupancy_Estimation.csv``, in the repository);
* data sets in the *normalised folder format* (``layout*.json``, ``events.csv``, ``truth.csv``,
  optional ``recordings.csv`` and ``unlabelled.csv``), which ``bench/data/README.md`` describes
  and tells how to make from public recordings that cannot be copied here;
* the synthetic coworking day (:mod:`bench.synthetic_day`).
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hubsense.config import Hub, parse_hub
from hubsense.protocol import AgentState, AgentStatus, Heartbeat, SensorEvent, SensorKind, SensorState
from hubsense.spans import merge_spans

GRID_S = 30.0
HEARTBEAT_S = 60.0
MAX_SENSORS_PER_AGENT = 26
ALWAYS = "always"  # opening hours: a recording is scored around the clock

Interval = tuple[float, float]


@dataclass
class Dataset:
    name: str
    hub: Hub
    events: list[tuple[float, str, SensorState]]  # (epoch s, sensor id, state), time order
    truth: dict[str, list[Interval]]  # zone -> occupied [start, end) intervals, epoch s
    recordings: list[Interval]  # scored spans; messages outside them are not sent
    unlabelled: list[Interval] = field(default_factory=list)
    note: str = ""
    group: str = ""  # data sets of one group are averaged, e.g. the recordings of one flat
    times: list[float] | None = None  # scoring times, when the data set has its own (UCI: samples)

    def grid(self) -> list[float]:
        """Scoring times: every GRID_S inside the recordings, outside unlabelled spans."""
        if self.times is not None:
            return self.times
        out = []
        holes = sorted(self.unlabelled)
        for a, b in self.recordings:
            t = a + GRID_S
            while t < b:
                if not _inside(holes, t):
                    out.append(t)
                t += GRID_S
        return out

    def truth_at(self, zone: str, times: list[float]) -> list[bool]:
        spans = sorted(self.truth.get(zone, []))
        return [_inside(spans, t) for t in times]

    def messages(self) -> list[tuple[object, datetime]]:
        return wire_messages(self.hub, self.events, self.recordings)


def _inside(spans: list[Interval], t: float) -> bool:
    """Is ``t`` in one of the sorted, non-overlapping spans?"""
    import bisect

    i = bisect.bisect_right(spans, (t, float("inf"))) - 1
    return i >= 0 and spans[i][0] <= t < spans[i][1]


def _dt(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def wire_messages(hub: Hub, events: list[tuple[float, str, SensorState]],
                  recordings: list[Interval]) -> list[tuple[object, datetime]]:
    """What the hub's agents would have sent: per recording an ``online`` status, the events, a
    heartbeat every minute with the sensors' current states (as agents report them), and
    ``offline`` at its end (a new boot per recording).  A door's state before its first event is
    the opposite of that event."""
    agent_of = {s.id: (a.id, s.kind) for a in hub.agents for s in a.sensors}
    out: list[tuple[object, datetime]] = []
    seq: dict[str, int] = {}
    ev = sorted(events)
    for n, (a, b) in enumerate(sorted(recordings)):
        boot = f"r{n}"
        inside = [e for e in ev if a <= e[0] < b]
        states = _initial_states(hub, inside)
        for agent in hub.agents:
            out.append((AgentStatus(hub=hub.id, agent=agent.id, boot=boot, state=AgentState.ONLINE, ts=_dt(a)),
                        _dt(a)))
        beat, k = a, 0
        while beat < b:
            while k < len(inside) and inside[k][0] < beat:
                t, sensor, state = inside[k]
                agent, kind = agent_of[sensor]
                seq[agent] = seq.get(agent, 0) + 1
                out.append((SensorEvent(hub=hub.id, agent=agent, boot=boot, sensor=sensor, kind=kind, state=state,
                                        ts=_dt(t), seq=seq[agent]), _dt(t)))
                states[sensor] = state
                k += 1
            for agent in hub.agents:
                seq[agent.id] = seq.get(agent.id, 0) + 1
                sensors = {s.id: states[s.id] for s in agent.sensors if s.id in states}
                out.append((Heartbeat(hub=hub.id, agent=agent.id, boot=boot, ts=_dt(beat), seq=seq[agent.id],
                                      uptime_s=int(beat - a), interval_s=HEARTBEAT_S, sensors=sensors), _dt(beat)))
            beat += HEARTBEAT_S
        for t, sensor, state in inside[k:]:
            agent, kind = agent_of[sensor]
            seq[agent] = seq.get(agent, 0) + 1
            out.append((SensorEvent(hub=hub.id, agent=agent, boot=boot, sensor=sensor, kind=kind, state=state,
                                    ts=_dt(t), seq=seq[agent]), _dt(t)))
        for agent in hub.agents:
            out.append((AgentStatus(hub=hub.id, agent=agent.id, boot=boot, state=AgentState.OFFLINE, ts=_dt(b)),
                        _dt(b)))
    return out


def _initial_states(hub: Hub, events: list[tuple[float, str, SensorState]]) -> dict[str, SensorState]:
    states: dict[str, SensorState] = {}
    for a in hub.agents:
        for s in a.sensors:
            if s.kind is SensorKind.PIR:
                states[s.id] = SensorState.NO_MOTION
    for _, sensor, state in events:
        if state in (SensorState.OPEN, SensorState.CLOSED) and sensor not in states:
            states[sensor] = SensorState.CLOSED if state is SensorState.OPEN else SensorState.OPEN
    return states


def make_hub(hub_id: str, spaces: list[dict]) -> Hub:
    """A hub config with default profiles: ``spaces`` as in a layout file. Sensors are spread
    over agents of at most 26 sensors (the GPIO pins of one Pi)."""
    sensors = [(s["id"], s["kind"], sp["id"], s.get("desk")) for sp in spaces for s in sp["sensors"]]
    agents = []
    for n in range(0, len(sensors), MAX_SENSORS_PER_AGENT):
        chunk = sensors[n:n + MAX_SENSORS_PER_AGENT]
        agents.append({"id": f"agent-{n // MAX_SENSORS_PER_AGENT + 1}", "sensors": [
            {"id": sid, "kind": kind, "pin": 2 + k, "zone": zone, **({"desk": desk} if desk else {})}
            for k, (sid, kind, zone, desk) in enumerate(chunk)]})
    zones = []
    for sp in spaces:
        zone = {"id": sp["id"], "name": sp.get("name", sp["id"]), "kind": sp["kind"],
                "capacity": sp.get("capacity", 4)}
        if sp.get("desks"):
            zone["desks"] = sp["desks"]
            zone["capacity"] = max(zone["capacity"], len(sp["desks"]))
        zones.append(zone)
    return parse_hub({"id": hub_id, "name": hub_id, "timezone": "UTC", "opening_hours": ALWAYS,
                      "zones": zones, "agents": agents})


# -- UCI ------------------------------------------------------------------------------------------

UCI = Path(__file__).resolve().parent / "data" / "Occupancy_Estimation.csv"
UCI_GAP_S = 600.0  # a longer gap between samples ends a recording


def uci(path: Path = UCI, limit: int | None = None) -> Dataset:
    """UCI Room Occupancy Estimation: one room (an ``open`` zone) with two PIRs sampled every ~30 s.

    A PIR sample of 1 after a 0 is a ``motion`` event at the sample time, 0 after 1 a ``no_motion``;
    the room is occupied from a sample with a head count > 0 to the next sample."""
    rows = []
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            t = datetime.strptime(f"{row['Date']} {row['Time']}", "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
            rows.append((t.timestamp(), (int(row["S6_PIR"]), int(row["S7_PIR"])), int(row["Room_Occupancy_Count"])))
            if limit is not None and len(rows) >= limit:
                break
    pirs = ("s6-pir", "s7-pir")
    events, truth, recordings = [], [], []
    start, prev, last_t = None, (0, 0), None
    for t, sample, count in rows:
        if last_t is None or t - last_t > UCI_GAP_S:
            if start is not None:
                recordings.append((start, last_t + 1))
                events += [(last_t + 0.5, sid, SensorState.NO_MOTION) for sid, on in zip(pirs, prev, strict=True) if on]
            start, prev = t, (0, 0)
        for sid, before, now in zip(pirs, prev, sample, strict=True):
            if now != before:
                events.append((t, sid, SensorState.MOTION if now else SensorState.NO_MOTION))
        if count > 0:
            truth.append((t, t + 1.0))  # scored at the sample times
        prev, last_t = sample, t
    recordings.append((start, last_t + 1))
    hub = make_hub("uci", [{"id": "room", "kind": "open", "sensors": [{"id": s, "kind": "pir"} for s in pirs]}])
    return Dataset("uci-office", hub, events, {"room": merge_spans(truth)}, recordings,
                   note="UCI Room Occupancy Estimation, one office room, 2 PIRs, 30 s samples",
                   times=[t for t, _, _ in rows])


# -- the normalised folder format ----------------------------------------------------------------


def _iso(text: str) -> float:
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.timestamp()


def _slug(text: str) -> str:
    """An id hubsense accepts (lower case, digits, '-' and '_')."""
    return re.sub(r"[^a-z0-9_-]", "-", text.lower()).strip("-") or "x"


def _read_csv(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def folder(path: Path, layout: str, name: str | None = None, group: str = "") -> Dataset:
    """A data set in the normalised folder format (see ``bench/data/README.md``)."""
    spec = json.loads((path / layout).read_text())
    spaces = [{**sp, "id": _slug(sp["id"]), "sensors": [{**s, "id": _slug(s["id"])} for s in sp["sensors"]]}
              for sp in spec["spaces"]]
    hub = make_hub("ds", spaces)
    known = {s["id"] for sp in spaces for s in sp["sensors"]}
    events = [(_iso(r["t"]), _slug(r["sensor"]), SensorState(r["state"]))
              for r in _read_csv(path / spec.get("events", "events.csv")) if _slug(r["sensor"]) in known]
    events.sort(key=lambda e: e[0])
    zones = {sp["id"] for sp in spaces}
    truth: dict[str, list[Interval]] = {z: [] for z in zones}
    for r in _read_csv(path / "truth.csv"):
        if _slug(r["space"]) in zones:
            truth[_slug(r["space"])].append((_iso(r["start"]), _iso(r["end"])))
    truth = {z: merge_spans(v) for z, v in truth.items()}
    recs = [(_iso(r["start"]), _iso(r["end"])) for r in _read_csv(path / "recordings.csv")]
    if not recs:
        recs = [(events[0][0] - 1, events[-1][0] + 1)]
    unlabelled = _read_csv(path / spec.get("unlabelled", "unlabelled.csv"))  # a layout may name its own
    holes = merge_spans((_iso(r["start"]), _iso(r["end"])) for r in unlabelled)
    return Dataset(name or path.name, hub, events, truth, sorted(recs), holes, spec.get("notes", ""), group)


def split_recordings(ds: Dataset) -> list[Dataset]:
    """One data set per recording (for leave-one-out tuning)."""
    out = []
    for n, (a, b) in enumerate(ds.recordings):
        ev = [e for e in ds.events if a <= e[0] < b]
        truth = {z: [(max(x, a), min(y, b)) for x, y in v if y > a and x < b] for z, v in ds.truth.items()}
        holes = [(x, y) for x, y in ds.unlabelled if y > a and x < b]
        out.append(Dataset(f"{ds.name}#{n}", ds.hub, ev, truth, [(a, b)], holes, ds.note, ds.group or ds.name))
    return out


def shift(ds: Dataset, days: float) -> Dataset:
    """The same data set moved in time (used to replay recordings one after another)."""
    d = days * 86400
    return Dataset(ds.name, ds.hub, [(t + d, s, st) for t, s, st in ds.events],
                   {z: [(a + d, b + d) for a, b in v] for z, v in ds.truth.items()},
                   [(a + d, b + d) for a, b in ds.recordings], [(a + d, b + d) for a, b in ds.unlabelled],
                   ds.note, ds.group)


def pir_kinds(hub: Hub) -> dict[str, SensorKind]:
    return {s.id: s.kind for a in hub.agents for s in a.sensors}


def day(t: float) -> timedelta:
    return timedelta(seconds=t)


# -- the data set as hubsense replay input (hub config, wire messages, truth) -------------------


def export(ds: Dataset, folder: Path) -> tuple[Path, Path, Path]:
    """Write ``hub.toml`` (the hub config), ``events.jsonl`` (the wire messages in receive-time
    order, as ``hubsense export`` writes them) and ``truth.csv`` into ``folder``: what ``hubsense
    replay`` and ``hubsense tune`` take."""
    from hubsense.protocol import MessageKind, encode, topic

    folder.mkdir(parents=True, exist_ok=True)
    hub_path, events_path, truth_path = folder / "hub.toml", folder / "events.jsonl", folder / "truth.csv"
    hub_path.write_text(hub_toml(ds.hub), encoding="utf-8")
    kinds = {AgentStatus: MessageKind.STATUS, Heartbeat: MessageKind.HEARTBEAT, SensorEvent: MessageKind.EVENT}
    messages = sorted(ds.messages(), key=lambda m: m[1])
    with events_path.open("w", encoding="utf-8") as out:
        for msg, received in messages:
            out.write(json.dumps({"topic": topic(ds.hub.id, msg.agent, kinds[type(msg)]),
                                  "payload": encode(msg).decode(), "received": received.isoformat()}) + "\n")
    with truth_path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["space", "start", "end"])
        for zone, spans in ds.truth.items():
            for a, b in spans:
                writer.writerow([zone, _dt(a).isoformat().replace("+00:00", "Z"),
                                 _dt(b).isoformat().replace("+00:00", "Z")])
    return hub_path, events_path, truth_path


def hub_toml(hub: Hub) -> str:
    """A hub config file for ``hub`` (the fields a data set's hub uses)."""
    q = json.dumps  # a TOML basic string is a JSON string for these ids and names
    lines = [f"id = {q(hub.id)}", f"name = {q(hub.name)}", f"timezone = {q(hub.timezone)}",
             'opening_hours = "always"' if hub.always_open else "", ""]
    if not hub.always_open:
        for h in hub.opening_hours:
            lines += ["[[opening_hours]]", f"days = {q([d.value for d in h.days])}",
                      f"open = {h.open.isoformat()}", f"close = {h.close.isoformat()}", ""]
    for z in hub.zones:
        lines += ["[[zones]]", f"id = {q(z.id)}", f"name = {q(z.name)}", f'kind = "{z.kind.value}"',
                  f"capacity = {z.capacity}", ""]
        for d in z.desks:
            lines += ["[[zones.desks]]", f"id = {q(d.id)}", f"name = {q(d.name)}", ""]
    for a in hub.agents:
        lines += ["[[agents]]", f"id = {q(a.id)}", ""]
        for s in a.sensors:
            lines += ["[[agents.sensors]]", f"id = {q(s.id)}", f'kind = "{s.kind.value}"', f"pin = {s.pin}",
                      f"zone = {q(s.zone)}"] + ([f"desk = {q(s.desk)}"] if s.desk else []) + [""]
    return "\n".join(lines)
