"""Occupancy-inference accuracy on several data sets, each against simple baselines.

For every data set (see :mod:`bench.accuracy_data`) the wire messages are replayed through the
engine exactly as ``hubsense replay`` does (canonical order, default profiles) and every zone is
scored on a 30 s grid against ground truth.  Baselines are scored on the same grid from the same
events: a plain 120 s and 300 s PIR timeout and, for zones with a door, a textbook door + motion
rule ("wasp in a box": door closed with motion seen inside since → occupied until it opens;
otherwise a 120 s PIR timeout).

Reported per data set: accuracy, balanced accuracy, false-free rate (share of truly occupied grid
points shown as free: the error that sends a member to a full room), median seconds from a true
departure to the engine saying free, and the Brier score of ``p_occupied``.  A reliability table
(predicted probability bins against observed frequency) pools every data set.

**Tuned, leave-one-out** ("engine (LOO tuned)"): what ``hubsense tune --truth`` would pin, fitted
on all recordings of a data set but one (or, for one long recording, all its days but one) and
tested on the one left out.  Per zone it is the pinned ``vacancy_timeout_s`` on the same 16-point
log grid within the kind's bounds (:func:`collector.engine.fit.candidates`) that is right most often
on the training part, or no pin where the default engine is at least as good there.  Days of one
recording are held out of *scoring* only: the engine still runs through the whole recording, as a
live one would.

Data sets: UCI (in the repository), the synthetic coworking day (generated), and every folder in
the normalised format under ``$HUBSENSE_DATASETS`` (default ``bench/data/external``), which
``bench/data/README.md`` tells how to make from the public recordings; the ``*allsensors*`` layouts
are left out (they count pressure mats and cupboard contacts as PIRs, which no hubsense site has).
Data sets with several recordings (e.g. SPHERE's ten) are replayed one recording at a time, each
from a fresh engine, and averaged.

Usage: ``.venv/bin/python bench/accuracy.py [--quick]``.  The last line is one JSON object with
``accuracy`` (UCI), ``balanced_accuracy`` (UCI), ``datasets`` (name → accuracy), ``tuned`` (name →
leave-one-out tuned accuracy), ``beats_baselines`` and ``brier`` (pooled).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import accuracy_data as data
from collector.engine.engine import Engine
from collector.engine.fit import candidates
from collector.engine.profiles import resolve
from collector.engine.timeline import canonical, step
from collector.model import OccupancyState
from hubsense.config import Profile
from hubsense.protocol import SensorKind, SensorState
from hubsense.spans import merge_spans

OCC = OccupancyState.OCCUPIED
EXTERNAL = Path(os.environ.get("HUBSENSE_DATASETS", Path(__file__).resolve().parent / "data" / "external"))


# -- predictions ----------------------------------------------------------------------------------

Prediction = dict[str, tuple[list[bool | None], list[float | None]]]  # zone -> (occupied?, p)


def predict_engine(ds: data.Dataset, times: list[float], profiles: dict[str, Profile] | None = None) -> Prediction:
    """Replay ``ds`` and read each zone's state and p_occupied at ``times`` (ascending)."""
    engine = Engine(ds.hub, profiles)
    ordered = canonical(ds.hub.id, ds.messages())
    zones = [z.id for z in ds.hub.zones]
    out: Prediction = {z: ([], []) for z in zones}
    i = 0

    def probe(t: float) -> None:
        engine.advance_ts(t)
        now = datetime.fromtimestamp(t, UTC)
        for z in zones:
            view = engine.view(z, now)
            state = None if view.state is OccupancyState.UNKNOWN else view.state is OCC
            out[z][0].append(state)
            out[z][1].append(getattr(view, "p_occupied", None))

    for key, kind, msg, received in ordered:
        while i < len(times) and times[i] < key[0]:
            probe(times[i])
            i += 1
        step(engine, key, kind, msg, received)
    while i < len(times):
        probe(times[i])
        i += 1
    return out


def _pir_intervals(ds: data.Dataset, zone: str) -> list[tuple[float, float]]:
    """When any PIR of ``zone`` reported motion, as [start, end) spans (within recordings)."""
    kinds = data.pir_kinds(ds.hub)
    sensors = {s.id for a in ds.hub.agents for s in a.sensors if s.zone == zone and kinds[s.id] is SensorKind.PIR}
    spans, since = [], {}
    for t, s, st in ds.events:
        if s not in sensors:
            continue
        if st is SensorState.MOTION:
            since.setdefault(s, t)
        elif s in since:
            spans.append((since.pop(s), t))
    spans += [(t, ds.recordings[-1][1]) for t in since.values()]
    return merge_spans(spans)


def predict_timeout(ds: data.Dataset, times: list[float], timeout_s: float) -> Prediction:
    """Occupied iff a PIR of the zone was in motion within the last ``timeout_s``."""
    out: Prediction = {}
    for z in ds.hub.zones:
        held = merge_spans((a, b + timeout_s) for a, b in _pir_intervals(ds, z.id))
        out[z.id] = ([data._inside(held, t) for t in times], [None] * len(times))
    return out


def predict_door(ds: data.Dataset, times: list[float], timeout_s: float = 120.0) -> Prediction | None:
    """Textbook door + motion: once the door closes and motion is seen inside, occupied until the
    door opens; otherwise a plain PIR timeout.  None when no zone has a door."""
    kinds = data.pir_kinds(ds.hub)
    zone_of = {s.id: s.zone for a in ds.hub.agents for s in a.sensors}
    door_zones = {zone_of[s] for s, k in kinds.items() if k is SensorKind.DOOR}
    if not door_zones:
        return None
    out = predict_timeout(ds, times, timeout_s)
    for z in door_zones:
        locked: list[tuple[float, float]] = []
        closed_at, confirmed_at = None, None
        for t, s, st in ds.events:
            if zone_of.get(s) != z:
                continue
            if kinds[s] is SensorKind.DOOR:
                if st is SensorState.CLOSED:
                    closed_at, confirmed_at = t, None
                else:
                    if confirmed_at is not None:
                        locked.append((confirmed_at, t))
                    closed_at, confirmed_at = None, None
            elif st is SensorState.MOTION and closed_at is not None and confirmed_at is None and t > closed_at:
                confirmed_at = t
        if confirmed_at is not None:
            locked.append((confirmed_at, ds.recordings[-1][1]))
        locked = merge_spans(locked)
        occ, p = out[z]
        out[z] = ([o or data._inside(locked, t) for o, t in zip(occ, times, strict=True)], p)
    return out


# -- scoring --------------------------------------------------------------------------------------


@dataclass
class Score:
    tp: int = 0
    tn: int = 0
    fp: int = 0
    fn: int = 0
    unknown: int = 0
    brier_sum: float = 0.0
    brier_n: int = 0
    delays: list[float] = field(default_factory=list)
    pairs: list[tuple[float, bool]] = field(default_factory=list)  # (p, truth) for reliability

    def add(self, other: Score) -> Score:
        return Score(self.tp + other.tp, self.tn + other.tn, self.fp + other.fp, self.fn + other.fn,
                     self.unknown + other.unknown, self.brier_sum + other.brier_sum, self.brier_n + other.brier_n,
                     self.delays + other.delays, self.pairs + other.pairs)

    @property
    def n(self) -> int:
        return self.tp + self.tn + self.fp + self.fn

    @property
    def accuracy(self) -> float:
        return (self.tp + self.tn) / self.n if self.n else 0.0

    @property
    def balanced(self) -> float:
        rec = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        spec = self.tn / (self.tn + self.fp) if self.tn + self.fp else 1.0
        return (rec + spec) / 2

    @property
    def false_free(self) -> float:
        return self.fn / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def brier(self) -> float | None:
        return self.brier_sum / self.brier_n if self.brier_n else None

    @property
    def departure_s(self) -> float | None:
        return statistics.median(self.delays) if self.delays else None


def score(ds: data.Dataset, times: list[float], pred: Prediction) -> Score:
    total = Score()
    for z in ds.hub.zones:
        truth = ds.truth_at(z.id, times)
        occ, probs = pred[z.id]
        s = Score()
        for o, p, y in zip(occ, probs, truth, strict=True):
            if o is None:
                s.unknown += 1
                continue
            if o:
                s.tp, s.fp = s.tp + y, s.fp + (not y)
            else:
                s.fn, s.tn = s.fn + y, s.tn + (not y)
            if p is not None:
                s.brier_sum += (p - y) ** 2
                s.brier_n += 1
                s.pairs.append((p, y))
        s.delays = _departure_delays(times, truth, occ)
        total = total.add(s)
    return total


def _departure_delays(times: list[float], truth: list[bool], occ: list[bool | None]) -> list[float]:
    """For each true departure (occupied → free on the grid), seconds until the prediction is free."""
    out = []
    for i in range(1, len(times)):
        if truth[i - 1] and not truth[i]:
            j = i
            while j < len(times) and occ[j] and not truth[j] and times[j] - times[j - 1] <= 2 * data.GRID_S:
                j += 1
            if j < len(times) and not truth[j]:
                out.append(times[j] - times[i - 1] - data.GRID_S / 2 if j > i else 0.0)
    return out


# -- leave-one-out tuning -------------------------------------------------------------------------

TUNED = "engine (LOO tuned)"


def _units(ds: data.Dataset, times: list[float]) -> list[int]:
    """The UTC day of each scoring time, counted from the recording's first day."""
    first = int(times[0] // 86400) if times else 0
    return [int(t // 86400) - first for t in times]


def _pinned(ds: data.Dataset, times: list[float]) -> list[Prediction]:
    """The engine with every zone pinned to the k-th candidate of its kind, for each k."""
    grids = {z.id: candidates(resolve(z)) for z in ds.hub.zones}
    n = max(len(g) for g in grids.values())
    return [predict_engine(ds, times, {z: Profile(vacancy_timeout_s=g[min(k, len(g) - 1)]) for z, g in grids.items()})
            for k in range(n)]


def _correct(ds: data.Dataset, times: list[float], pred: Prediction, units: list[int], n_units: int,
             ) -> dict[str, list[list[int]]]:
    """Per zone and unit: [correct, scored] (unknown is not scored)."""
    out = {}
    for z in ds.hub.zones:
        counts = [[0, 0] for _ in range(n_units)]
        for o, y, u in zip(pred[z.id][0], ds.truth_at(z.id, times), units, strict=True):
            if o is not None:
                counts[u][0] += o == y
                counts[u][1] += 1
        out[z.id] = counts
    return out


def _choose(counts: list[dict[str, list[list[int]]]], zone: str, held_out: int) -> int:
    """Index of the best candidate for ``zone`` on every unit but ``held_out``: 0 is the default
    engine, which keeps its place unless a pin is right more often (as ``hubsense tune`` decides)."""
    best, best_acc = 0, None
    for c, by_zone in enumerate(counts):
        right = sum(x[0] for u, x in enumerate(by_zone[zone]) if u != held_out)
        scored = sum(x[1] for u, x in enumerate(by_zone[zone]) if u != held_out)
        if scored and (best_acc is None or right / scored > best_acc):
            best, best_acc = c, right / scored
    return best


def loo_tuned(group: list[data.Dataset]) -> list[tuple[data.Dataset, list[float], Prediction]] | None:
    """Leave-one-out tuned predictions of a data set group (recordings, or the days of one
    recording), each with its scoring times; None when there is only one recording of one day."""
    if len(group) > 1:
        runs = [(ds, ds.grid()) for ds in group]
        preds = [[predict_engine(ds, t), *_pinned(ds, t)] for ds, t in runs]
        counts = []  # per candidate: zone -> per recording [correct, scored]
        for c in range(len(preds[0])):
            merged: dict[str, list[list[int]]] = {}
            for r, (ds, t) in enumerate(runs):
                one = _correct(ds, t, preds[r][c], [0] * len(t), 1)
                for z, x in one.items():
                    merged.setdefault(z, [[0, 0] for _ in runs])[r] = x[0]
            counts.append(merged)
        return [(ds, t, {z.id: preds[r][_choose(counts, z.id, r)][z.id] for z in ds.hub.zones})
                for r, (ds, t) in enumerate(runs)]
    ds = group[0]
    times = ds.grid()
    units = _units(ds, times)
    n_units = max(units, default=0) + 1
    if n_units < 2:
        return None
    preds = [predict_engine(ds, times), *_pinned(ds, times)]
    counts = [_correct(ds, times, p, units, n_units) for p in preds]
    tuned: Prediction = {}
    for z in ds.hub.zones:
        choice = [_choose(counts, z.id, u) for u in range(n_units)]
        occ = [preds[choice[u]][z.id][0][i] for i, u in enumerate(units)]
        p = [preds[choice[u]][z.id][1][i] for i, u in enumerate(units)]
        tuned[z.id] = (occ, p)
    return [(ds, times, tuned)]


# -- the run --------------------------------------------------------------------------------------

Predictor = Callable[[data.Dataset, list[float]], Prediction | None]
PREDICTORS: dict[str, Predictor] = {
    "engine (default)": predict_engine,
    "timeout 120 s": lambda ds, t: predict_timeout(ds, t, 120.0),
    "timeout 300 s": lambda ds, t: predict_timeout(ds, t, 300.0),
    "door + motion": predict_door,
}
BASELINES = ("timeout 120 s", "timeout 300 s", "door + motion")


def datasets(quick: bool = False) -> list[data.Dataset]:
    out = [data.uci()]
    from bench import synthetic_day

    out += synthetic_day.datasets(days=2 if quick else 3)
    if EXTERNAL.is_dir():
        for folder in sorted(p for p in EXTERNAL.iterdir() if p.is_dir()):
            for layout in sorted(folder.glob("layout*.json")):
                if "allsensors" in layout.stem:  # pressure mats and cupboard contacts counted as PIRs
                    continue
                name = folder.name + ("" if layout.stem == "layout" else "/" + layout.stem.removeprefix("layout_"))
                ds = data.folder(folder, layout.name, name)
                out += data.split_recordings(ds) if len(ds.recordings) > 1 else [ds]
    return out


def evaluate(sets: list[data.Dataset], tune: bool = False) -> dict[str, dict[str, Score]]:
    """Scores by data set (recordings of a group pooled per recording) and predictor; ``tune``: also
    the leave-one-out tuned engine."""
    results: dict[str, dict[str, list[Score]]] = {}
    groups: dict[str, list[data.Dataset]] = {}
    for ds in sets:
        times = ds.grid()
        group = ds.group or ds.name
        groups.setdefault(group, []).append(ds)
        for name, predictor in PREDICTORS.items():
            pred = predictor(ds, times)
            if pred is not None:
                results.setdefault(group, {}).setdefault(name, []).append(score(ds, times, pred))
    if tune:
        for group, members in groups.items():
            for ds, times, pred in loo_tuned(members) or []:
                results[group].setdefault(TUNED, []).append(score(ds, times, pred))
    return {g: {k: _mean(v) for k, v in by.items()} for g, by in results.items()}


def _mean(scores: list[Score]) -> Score:
    """Pooled counts; accuracy of a group of recordings is their mean (each recording counts once)."""
    total = Score()
    for s in scores:
        total = total.add(s)
    if len(scores) > 1:
        total.mean_accuracy = statistics.mean(s.accuracy for s in scores)  # type: ignore[attr-defined]
    return total


def acc(s: Score) -> float:
    return getattr(s, "mean_accuracy", s.accuracy)


def reliability(pairs: list[tuple[float, bool]], bins: int = 10) -> list[tuple[float, float, float, int]]:
    rows = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = [y for p, y in pairs if lo <= p < hi or (b == bins - 1 and p == 1.0)]
        if inside:
            mean_p = statistics.mean(p for p, _ in pairs if lo <= p < hi or (b == bins - 1 and p == 1.0))
            rows.append((lo, hi, mean_p, sum(inside) / len(inside), len(inside)))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="two synthetic days instead of three")
    ap.add_argument("--no-tune", action="store_true", help="leave out the leave-one-out tuned engine (faster)")
    args = ap.parse_args()
    results = evaluate(datasets(args.quick), tune=not args.no_tune)
    print(f"{'data set':<28} {'predictor':<18} {'acc':>7} {'bal':>7} {'false_free':>10} {'depart_s':>8} "
          f"{'brier':>6} {'n':>7}")
    beats = True
    for group, by in results.items():
        for name, s in by.items():
            dep = f"{s.departure_s:>8.0f}" if s.departure_s is not None else f"{'-':>8}"
            brier = f"{s.brier:>6.3f}" if s.brier is not None else f"{'-':>6}"
            print(f"{group:<28} {name:<18} {acc(s):>7.4f} {s.balanced:>7.4f} {s.false_free:>10.4f} {dep} "
                  f"{brier} {s.n:>7}")
        best = max(acc(by[b]) for b in BASELINES if b in by)
        beats &= acc(by["engine (default)"]) >= best
    pooled = Score()
    for by in results.values():
        pooled = pooled.add(by["engine (default)"])
    print("\nreliability of p_occupied (all data sets):")
    print(f"{'p bin':<11} {'mean p':>7} {'observed':>9} {'n':>7}")
    for lo, hi, mp, obs, n in reliability(pooled.pairs):
        print(f"{lo:.1f}-{hi:.1f}    {mp:>7.3f} {obs:>9.3f} {n:>7}")
    uci = results["uci-office"]["engine (default)"]
    print(json.dumps({
        "accuracy": round(uci.accuracy, 4),
        "balanced_accuracy": round(uci.balanced, 4),
        "datasets": {g: round(acc(by["engine (default)"]), 4) for g, by in results.items()},
        "tuned": {g: round(acc(by[TUNED]), 4) for g, by in results.items() if TUNED in by},
        "beats_baselines": beats,
        "brier": round(pooled.brier, 4) if pooled.brier is not None else None,
    }))


if __name__ == "__main__":
    main()
