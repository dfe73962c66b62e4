"""Occupancy-inference accuracy on real data: the UCI Room Occupancy Estimation data set.

The room had two PIR sensors (``S6_PIR``, ``S7_PIR``) sampled about every 30 s, and a
ground-truth head count.  We turn the samples into what hubsense agents would have sent and
replay them through the engine (:func:`collector.engine.replay_timeline`):

* the room is one ``open`` zone watched by two PIRs on one agent;
* a PIR sample of 1 after a 0 is a ``motion`` event at the sample time, a 0 after a 1 is a
  ``no_motion`` event at the sample time (the sensor went quiet within that 30 s window);
* the agent heartbeats at every sample (``interval_s`` 60); a gap of more than 10 minutes between
  samples (the data has gaps of days) is an agent restart: ``offline`` after the last sample, a
  new boot and ``online`` at the next one.  Samples at which the engine says unknown are excluded
  (there are none with this conversion, but the count is printed).

Each sample is then scored: predicted occupied (engine state at the sample time, after that
sample's events) versus ground truth ``Room_Occupancy_Count > 0``.

Compared in the same run:

* ``baseline``: a plain 5-minute PIR timeout, occupied iff a PIR sample showed motion within
  the last 300 s (computed directly from the samples);
* ``engine default``: the engine with the default ``open`` profile;
* a few profile variants, to show where the default sits.

Data: bench/data/Occupancy_Estimation.csv (CC BY 4.0, see bench/data/README.md).
Usage: ``.venv/bin/python bench/accuracy.py``.  The last line is JSON with ``accuracy``,
``balanced_accuracy``, ``recall`` and ``precision`` of the engine default.
"""

from __future__ import annotations

import bisect
import csv
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from collector.engine import replay_timeline
from collector.model import OccupancyState, StateChange
from hubsense.config import Hub, Profile, parse_hub
from hubsense.protocol import AgentState, AgentStatus, Heartbeat, SensorEvent, SensorKind, SensorState

DATA = Path(__file__).resolve().parent / "data" / "Occupancy_Estimation.csv"
GAP_S = 600.0  # a longer gap between samples is an agent restart
AGENT = "uci-node"
PIRS = {"S6_PIR": "s6-pir", "S7_PIR": "s7-pir"}


@dataclass(frozen=True)
class Sample:
    t: datetime
    pirs: tuple[int, ...]
    occupied: bool


def load(path: Path = DATA, limit: int | None = None) -> list[Sample]:
    samples = []
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            t = datetime.strptime(f"{row['Date']} {row['Time']}", "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
            samples.append(Sample(t, tuple(int(row[c]) for c in PIRS), int(row["Room_Occupancy_Count"]) > 0))
            if limit is not None and len(samples) >= limit:
                break
    return samples


def hub() -> Hub:
    return parse_hub({
        "id": "uci", "name": "UCI room", "timezone": "Europe/Stockholm",
        "opening_hours": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                           "open": "00:00", "close": "23:59"}],
        "zones": [{"id": "room", "name": "Room", "kind": "open", "capacity": 4}],
        "agents": [{"id": AGENT, "sensors": [
            {"id": sid, "kind": "pir", "pin": 4 + i, "zone": "room"} for i, sid in enumerate(PIRS.values())]}],
    })


def messages(samples: list[Sample]) -> list[tuple[object, datetime]]:
    """The wire messages the samples stand for, as (message, received) pairs."""
    out: list[tuple[object, datetime]] = []
    boot, seq, prev, last_t = 0, 0, (0,) * len(PIRS), None

    def status(state: AgentState, t: datetime) -> None:
        out.append((AgentStatus(hub="uci", agent=AGENT, boot=f"b{boot}", state=state, ts=t), t))

    def event(sensor: str, state: SensorState, t: datetime) -> None:
        nonlocal seq
        seq += 1
        out.append((SensorEvent(hub="uci", agent=AGENT, boot=f"b{boot}", sensor=sensor, kind=SensorKind.PIR,
                                state=state, ts=t, seq=seq), t))

    for s in samples:
        if last_t is None or (s.t - last_t).total_seconds() > GAP_S:
            if last_t is not None:
                status(AgentState.OFFLINE, last_t.replace(microsecond=1))
            boot, seq, prev = boot + 1, 0, (0,) * len(PIRS)
            status(AgentState.ONLINE, s.t)
        out.append((Heartbeat(hub="uci", agent=AGENT, boot=f"b{boot}", ts=s.t, seq=seq, uptime_s=0,
                              interval_s=60), s.t))
        for sensor, before, now in zip(PIRS.values(), prev, s.pirs, strict=True):
            if now != before:
                event(sensor, SensorState.MOTION if now else SensorState.NO_MOTION, s.t)
        prev, last_t = s.pirs, s.t
    return out


def predict_engine(samples: list[Sample], msgs: list, profile: Profile | None) -> list[OccupancyState]:
    timeline = replay_timeline(hub(), msgs, {"room": profile} if profile else None, until=samples[-1].t)
    return states_at(timeline, [s.t for s in samples])


def states_at(timeline: list[StateChange], times: list[datetime]) -> list[OccupancyState]:
    zone = [c for c in timeline if c.zone == "room" and c.desk is None]
    ats = [c.at for c in zone]
    out = []
    for t in times:
        i = bisect.bisect_right(ats, t)
        out.append(zone[i - 1].state if i else OccupancyState.UNKNOWN)
    return out


def predict_baseline(samples: list[Sample], timeout_s: float = 300.0) -> list[OccupancyState]:
    """A plain PIR timeout: occupied iff motion was sampled within the last ``timeout_s``."""
    out, last_motion, last_t = [], None, None
    for s in samples:
        if last_t is not None and (s.t - last_t).total_seconds() > GAP_S:
            last_motion = None
        if any(s.pirs):
            last_motion = s.t
        occupied = last_motion is not None and (s.t - last_motion).total_seconds() < timeout_s
        out.append(OccupancyState.OCCUPIED if occupied else OccupancyState.FREE)
        last_t = s.t
    return out


def score(samples: list[Sample], predicted: list[OccupancyState]) -> dict:
    tp = fp = tn = fn = unknown = 0
    for s, p in zip(samples, predicted, strict=True):
        if p is OccupancyState.UNKNOWN:
            unknown += 1
        elif p is OccupancyState.OCCUPIED:
            tp, fp = tp + s.occupied, fp + (not s.occupied)
        else:
            fn, tn = fn + s.occupied, tn + (not s.occupied)
    n = tp + fp + tn + fn
    recall = tp / (tp + fn) if tp + fn else 0.0
    specificity = tn / (tn + fp) if tn + fp else 0.0
    return {
        "accuracy": round((tp + tn) / n, 4) if n else 0.0,
        "balanced_accuracy": round((recall + specificity) / 2, 4),
        "recall": round(recall, 4),
        "precision": round(tp / (tp + fp), 4) if tp + fp else 0.0,
        "scored": n,
        "unknown": unknown,
    }


VARIANTS: list[tuple[str, Profile | None]] = [
    ("engine, timeout 600 s", Profile(vacancy_timeout_s=600)),
    ("engine, timeout 240 s", Profile(vacancy_timeout_s=240)),
]


def run(path: Path = DATA, limit: int | None = None) -> dict[str, dict]:
    samples = load(path, limit)
    msgs = messages(samples)
    results = {"baseline (plain 300 s timeout)": score(samples, predict_baseline(samples))}
    default = score(samples, predict_engine(samples, msgs, None))
    for name, profile in VARIANTS:
        results[name] = score(samples, predict_engine(samples, msgs, profile))
    results["engine default (open)"] = default
    return results


def main() -> None:
    results = run()
    print(f"{'predictor':<32} {'accuracy':>8} {'bal_acc':>8} {'recall':>8} {'precision':>9} "
          f"{'scored':>7} {'unknown':>7}")
    for name, r in results.items():
        print(f"{name:<32} {r['accuracy']:>8.4f} {r['balanced_accuracy']:>8.4f} {r['recall']:>8.4f} "
              f"{r['precision']:>9.4f} {r['scored']:>7} {r['unknown']:>7}")
    best = results["engine default (open)"]
    print(json.dumps({k: best[k] for k in ("accuracy", "balanced_accuracy", "recall", "precision")}))


if __name__ == "__main__":
    main()
