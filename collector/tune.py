"""``hubsense tune HISTORY.jsonl [--truth TRUTH.csv]``: fit per-zone occupancy profiles from recorded
history and print them as a profile snippet for the hub config (or write them into it, ``--apply``).

* Unsupervised (default): the history is replayed through the engine with learning on, as the live
  collector would have learned from it; each zone's learned vacancy timeout (and a room's learned
  stillness cap) is shown next to its kind's default and pinned in the snippet.
* Supervised (``--truth``): ground truth as CSV ``space,start,end`` (occupied intervals; ``space`` is
  a zone id or ``hub/zone``; ISO 8601 times with an offset, the format of the public data sets'
  ``truth.csv``).  Per zone with truth, the pinned ``vacancy_timeout_s`` on a log grid within the
  kind's bounds that is right most often on a 30 s grid is chosen, unless the zone's own learning
  already does at least as well (then nothing is pinned).

What a pin means: a pinned value is used as is and no longer learned (docs/engine.md); learning
keeps following a zone whose use changes, a pin does not.  Pin what ``tune`` finds when the history
is representative, or leave the zone learning.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path

from collector.engine.engine import Engine
from collector.engine.fit import Labelled, ZoneFit, fit
from collector.replay import config_paths, replay_lines, replay_stream
from hubsense.config import ConfigError, Hub, load_hubs
from hubsense.config_edit import render, set_zone_profiles
from hubsense.spans import merge_spans

GRID_S = 30.0
Pins = dict[str, dict[str, dict[str, float]]]  # hub -> zone -> profile field -> value


class TuneError(ValueError):
    """A problem with the command's input, said in one line."""


# -- input ---------------------------------------------------------------------------------------

def read_truth(path: Path, hubs: dict[str, Hub]) -> dict[str, dict[str, list[tuple[float, float]]]]:
    """Occupied intervals by hub and zone from a ``space,start,end`` CSV (merged, sorted)."""
    zones_of = {h.id: {z.id for z in h.zones} for h in hubs.values()}
    out: dict[str, dict[str, list[tuple[float, float]]]] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"space", "start", "end"} <= set(reader.fieldnames):
            raise TuneError(f"{path}: needs the columns space,start,end (got {','.join(reader.fieldnames or [])})")
        for n, row in enumerate(reader, start=2):
            hub, zone = _space(row["space"], zones_of, f"{path}:{n}")
            start, end = _time(row["start"], f"{path}:{n}: start"), _time(row["end"], f"{path}:{n}: end")
            if end > start:
                out.setdefault(hub, {}).setdefault(zone, []).append((start, end))
    if not out:
        raise TuneError(f"{path}: no occupied intervals")
    return {h: {z: merge_spans(v) for z, v in zones.items()} for h, zones in out.items()}


def _space(text: str, zones_of: dict[str, set[str]], where: str) -> tuple[str, str]:
    name = text.strip().lower()
    if "/" in name:
        hub, zone = name.split("/", 1)
        if zone in zones_of.get(hub, set()):
            return hub, zone
        raise TuneError(f"{where}: space {text!r}: no zone {zone!r} in hub {hub!r}")
    hubs = [h for h, zones in zones_of.items() if name in zones]
    if len(hubs) == 1:
        return hubs[0], name
    if hubs:
        raise TuneError(f"{where}: space {text!r} is a zone of {', '.join(hubs)}: write it as hub/zone")
    known = ", ".join(sorted(set().union(*zones_of.values())))
    raise TuneError(f"{where}: space {text!r} is no zone of the config ({known})")


def _time(text: str, where: str) -> float:
    try:
        t = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise TuneError(f"{where}: {text!r} is not an ISO 8601 time") from None
    if t.tzinfo is None:
        raise TuneError(f"{where}: {text!r} has no UTC offset; add one, e.g. 'Z'")
    return t.timestamp()


def _lines(path: Path):
    with path.open(encoding="utf-8") as fh:
        yield from fh


# -- the two modes --------------------------------------------------------------------------------

def unsupervised(history: Path, hubs: dict[str, Hub], out) -> Pins:
    """Replay with learning on; the learned hold (and a room's learned stillness cap) per zone."""
    result = replay_stream(_lines(history), hubs, lambda c: None)
    pins: Pins = {}
    out.write(f"{'hub':<12} {'zone':<22} {'kind':<9} {'hold before':>11} {'after':>8} {'passer-by':>9} "
              f"{'stillness cap':>13} {'after':>8} {'pauses':>7}\n")
    for hub_id, engine in result.engines.items():
        fresh = Engine(hubs[hub_id])
        for zone in hubs[hub_id].zones:
            before, after = fresh.parameters(zone.id), engine.parameters(zone.id)
            hold, cap = after["vacancy_timeout_s"], after["max_occupied_s"]
            out.write(f"{hub_id:<12} {zone.id:<22} {zone.kind.value:<9} "
                      f"{_s(before['vacancy_timeout_s']['value']):>11} {_s(hold['value']):>8} "
                      f"{_s(after['vacancy_timeout_after_passer_by_s']['value']):>9} "
                      f"{_s(before['max_occupied_s']['value']):>13} {_s(cap['value']):>8} {after['gaps_seen']:>7}\n")
            fields = {}
            if hold["source"] == "learned":
                fields["vacancy_timeout_s"] = hold["value"]
            if cap["source"] == "learned":
                fields["max_occupied_s"] = cap["value"]
            if fields:
                pins.setdefault(hub_id, {})[zone.id] = fields
    return pins


def supervised(history: Path, truth_path: Path, hubs: dict[str, Hub], out, grid_s: float = GRID_S) -> Pins:
    """Per zone with truth, the pinned vacancy timeout that is right most often (or none)."""
    truth = read_truth(truth_path, hubs)
    first = replay_stream(_lines(history), hubs, lambda c: None)
    if first.first is None:
        raise TuneError(f"{history}: no messages to tune from")
    start, end = first.first.timestamp(), first.last.timestamp()
    times = [start + grid_s * k for k in range(1, int((end - start) // grid_s) + 1)]
    pins: Pins = {}
    out.write(f"{'hub':<12} {'zone':<22} {'accuracy before':>15} {'after':>7} {'scored':>7}  vacancy_timeout_s\n")
    for hub_id, zones in truth.items():
        hub = hubs[hub_id]

        def replay(profiles, hub=hub):
            return replay_lines(_lines(history), {hub.id: hub}, profiles).changes

        fits = fit(hub, [Labelled(replay, times, zones)])
        for zone_id, f in fits.items():
            out.write(_fit_row(hub_id, f))
            if f.best is not None:
                pins.setdefault(hub_id, {})[zone_id] = {"vacancy_timeout_s": f.best}
    return pins


def _fit_row(hub_id: str, f: ZoneFit) -> str:
    before, after = f.default.accuracy, f.tuned.accuracy
    value = "keeps learning (as good as any pin)" if f.best is None else _s(f.best)
    return (f"{hub_id:<12} {f.zone:<22} {_acc(before):>15} {_acc(after):>7} {f.tuned.scored:>7}  {value}\n")


def _acc(x: float | None) -> str:
    return "-" if x is None else f"{x:.4f}"


def _s(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 600 else f"{seconds / 60:.1f} min"


# -- output ---------------------------------------------------------------------------------------

def snippet(pins: Pins, source: str) -> str:
    """The profiles as lines to paste into each zone's ``[[zones]]`` table."""
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    lines = [f"# hubsense tune {source} ({when}): pinned values are used as is and no longer learned.",
             "# Paste each profile line into its zone's [[zones]] table, or run with --apply HUB.toml."]
    for hub_id, zones in pins.items():
        for zone, fields in zones.items():
            inline = ", ".join(f"{k} = {render(v)}" for k, v in fields.items())
            lines += [f'# hub "{hub_id}", [[zones]] id = "{zone}"', f"profile = {{ {inline} }}"]
    return "\n".join(lines) + "\n"


def apply(path: Path, pins: Pins) -> int:
    """Write the pins of the file's hub into ``path``, keeping the rest of the file; returns zones set."""
    text = path.read_text(encoding="utf-8")
    try:
        hub_id = tomllib.loads(text).get("id")
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    zones = pins.get(hub_id, {})
    if not zones:
        raise TuneError(f"--apply: nothing to write for hub {hub_id!r} of {path} "
                        f"(profiles found for: {', '.join(pins) or 'no hub'})")
    new, _ = set_zone_profiles(text, zones, str(path))
    tmp = path.with_name(f".{path.name}.tune-tmp")
    tmp.write_text(new, encoding="utf-8")
    os.replace(tmp, path)
    return len(zones)


def command(args: argparse.Namespace) -> int:
    try:
        hubs = load_hubs(config_paths(args.config))
        out = sys.stdout
        if args.truth is not None:
            pins = supervised(args.history, args.truth, hubs, out, args.grid_s)
        else:
            pins = unsupervised(args.history, hubs, out)
        text = snippet(pins, "--truth" if args.truth else "(learned)")
        if args.output:
            args.output.write_text(text, encoding="utf-8")
        else:
            out.write("\n" + text)
        if args.apply:
            n = apply(args.apply, pins)
            print(f"tune: profiles of {n} zone{'s' if n != 1 else ''} written to {args.apply}", file=sys.stderr)
    except TuneError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # config_paths: no --config in an installation
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("tune", help="fit per-zone occupancy profiles from recorded history",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("history", type=Path, metavar="HISTORY.jsonl",
                   help="recorded wire messages (the replay input, e.g. from 'hubsense export')")
    p.add_argument("--truth", type=Path, metavar="TRUTH.csv",
                   help="ground truth, CSV space,start,end of occupied intervals (space: zone id or hub/zone); "
                   "without it: what each zone learns from the history")
    p.add_argument("--config", type=Path, action="append", metavar="PATH",
                   help="hub config file or directory (repeatable; default: the example configs of a source "
                   "checkout)")
    p.add_argument("--apply", type=Path, metavar="HUB.toml",
                   help="write the profiles into this hub config file, keeping the rest of it as written "
                   "(validated before it is written)")
    p.add_argument("-o", "--output", type=Path, metavar="SNIPPET.toml", help="write the profile snippet here")
    p.add_argument("--grid-s", type=float, default=GRID_S, help="--truth: seconds between scored instants")
    p.set_defaults(func=command)
