"""``hubsense replay``: rebuild the state-change timeline from recorded messages, optionally with
other profile parameters ("what if Skogsgläntan's timeout were 20 minutes?").

Input: JSONL, one wire message per line::

    {"topic": "hubsense/stockholm/sthlm-pi-skog/event", "payload": "<payload as sent>",
     "received": "2026-11-30T08:00:00.123+00:00"}

Output: the timeline as JSONL ``{"hub","zone","desk","state","at","reason"}`` and, with
``--summary``, occupied / free / unknown seconds and sessions per zone.  Bad lines are counted
and reported on stderr, never fatal.  Format details: docs/protocol.md, "Replay formats".
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import orjson

from collector.engine import overrides_from
from collector.engine.engine import Engine
from collector.engine.summary import summarize
from collector.engine.timeline import canonical, run
from collector.model import StateChange
from hubsense.config import DEFAULT_CONFIG_DIR, ConfigError, Hub, Profile, load_hubs
from hubsense.progress import add_progress_argument, progress
from hubsense.protocol import Rejected, parse_message


@dataclass
class ReplayResult:
    changes: list[StateChange] = field(default_factory=list)
    messages: int = 0
    bad: Counter = field(default_factory=Counter)
    first: datetime | None = None
    last: datetime | None = None


def parse_lines(lines: Iterable[str], result: ReplayResult) -> dict[str, list]:
    """Parse JSONL wire records into (message, received) pairs by hub; bad lines are counted."""
    by_hub: dict[str, list] = {}
    for line in lines:
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
            received = datetime.fromisoformat(record["received"])
            if received.tzinfo is None:
                raise ValueError("received time without offset")
            received = received.astimezone(UTC)
            msg = parse_message(record["topic"], record["payload"].encode(), received)
        except Rejected as exc:
            result.bad[exc.reason] += 1
            continue
        except (ValueError, KeyError, TypeError, AttributeError, orjson.JSONDecodeError):
            result.bad["bad_line"] += 1
            continue
        result.messages += 1
        by_hub.setdefault(msg.hub, []).append((msg, received))
        if result.first is None or received < result.first:
            result.first = received
        if result.last is None or received > result.last:
            result.last = received
    return by_hub


def replay_lines(
    lines: Iterable[str],
    hubs: dict[str, Hub],
    profiles: dict[str, Profile] | None = None,
    until: datetime | None = None,
) -> ReplayResult:
    """The replay path: parse, then one canonical engine run per hub (config order)."""
    result = ReplayResult()
    by_hub = parse_lines(lines, result)
    for hub_id in sorted(set(by_hub) - set(hubs)):
        result.bad["unknown_hub"] += len(by_hub[hub_id])
    for hub_id, hub in hubs.items():
        if hub_id not in by_hub:
            continue
        zones = {z.id for z in hub.zones}
        hub_profiles = {z: p for z, p in (profiles or {}).items() if z in zones}
        engine = Engine(hub, hub_profiles)
        result.changes.extend(run(engine, canonical(hub_id, by_hub[hub_id]), until or result.last))
    return result


def change_record(c: StateChange) -> dict:
    return {"hub": c.hub, "zone": c.zone, "desk": c.desk, "state": c.state.value,
            "at": c.at.isoformat().replace("+00:00", "Z"), "reason": c.reason}


def _write_timeline(changes: list[StateChange], out: TextIO) -> None:
    out.writelines(json.dumps(change_record(c), ensure_ascii=False) + "\n" for c in changes)


def _print_summary(result: ReplayResult, end: datetime, out: TextIO) -> None:
    if result.first is None:
        return
    rows = summarize(result.changes, result.first, end)
    out.write(f"{'hub':<12} {'zone':<20} {'occupied_h':>10} {'free_h':>8} {'unknown_h':>9} {'sessions':>8}\n")
    for (hub, zone), s in rows.items():
        out.write(f"{hub:<12} {zone:<20} {s['occupied_s'] / 3600:>10.2f} {s['free_s'] / 3600:>8.2f} "
                  f"{s['unknown_s'] / 3600:>9.2f} {s['sessions']:>8}\n")


def command(args: argparse.Namespace) -> int:
    try:
        hubs = load_hubs(args.config)
        profiles = overrides_from(args.profile or [])
    except ConfigError:
        raise  # reported by the command line entry point (hubsense.cli)
    except ValueError as exc:
        print(f"error: --profile: {exc}", file=sys.stderr)
        return 2
    unknown = sorted(set(profiles) - {z.id for h in hubs.values() for z in h.zones})
    if unknown:
        print(f"error: --profile names unknown zone(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    until = datetime.fromisoformat(args.until).astimezone(UTC) if args.until else None
    with open(args.events, encoding="utf-8") as fh:
        lines = progress(fh, desc="replay", unit=" lines", enabled=getattr(args, "progress", None))
        result = replay_lines(lines, hubs, profiles, until)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            _write_timeline(result.changes, out)
    elif not args.summary:
        _write_timeline(result.changes, sys.stdout)
    if args.summary and result.last is not None:
        _print_summary(result, until or result.last, sys.stdout)
    bad = sum(result.bad.values())
    detail = ", ".join(f"{k}={v}" for k, v in sorted(result.bad.items()))
    print(f"replay: {result.messages} messages, {len(result.changes)} changes, {bad} bad lines"
          + (f" ({detail})" if detail else ""), file=sys.stderr)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("replay", help="rebuild the occupancy timeline from recorded messages",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("events", type=Path, metavar="EVENTS.jsonl", help="recorded wire messages, one JSON per line")
    p.add_argument("--config", type=Path, nargs="+", default=[DEFAULT_CONFIG_DIR], metavar="PATH",
                   help="hub config file(s) or directories")
    p.add_argument("--profile", action="append", metavar="ZONE:KEY=VALUE",
                   help="override a profile parameter, e.g. skogsglantan:vacancy_timeout_s=1200 (repeatable)")
    p.add_argument("--summary", action="store_true", help="print occupied/free/unknown hours and sessions per zone")
    p.add_argument("--until", metavar="ISO8601", help="fire timeouts up to this time (default: last message)")
    p.add_argument("-o", "--output", type=Path, metavar="OUT.jsonl", help="write the timeline here")
    add_progress_argument(p)
    p.set_defaults(func=command)
