"""``hubsense replay``: rebuild the state-change timeline from recorded messages, optionally with
other profile parameters ("what if Skogsgläntan's timeout were 20 minutes?").

Input: JSONL, one wire message per line, roughly in receive-time order (as ``hubsense export``
writes it; lines up to a minute out of order are put right)::

    {"topic": "hubsense/stockholm/sthlm-pi-skog/event", "payload": "<payload as sent>",
     "received": "2026-11-30T08:00:00.123+00:00"}

Output: the timeline as JSONL ``{"hub","zone","desk","state","at","reason"}`` and, with
``--summary``, occupied / free / unknown seconds and sessions per zone.  Bad lines are counted
and reported on stderr, never fatal.  The file is read in one pass with bounded memory (it does not
grow with the recording's length; a pipe will do).  Format details: docs/protocol.md, "Replay formats".
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import orjson

from collector.engine import overrides_from
from collector.engine.engine import Engine
from collector.engine.profiles import for_hub, unknown_targets
from collector.engine.stream import Reorder
from collector.engine.summary import Summary
from collector.engine.timeline import step
from collector.model import StateChange
from hubsense.config import DEFAULT_CONFIG_DIR, Hub, Profile, load_hubs
from hubsense.progress import add_progress_argument, progress
from hubsense.protocol import Rejected, parse_message

COMMIT_EVERY = 4096  # messages between summary commits (bounds the summary's queue)


@dataclass
class ReplayResult:
    changes: list[StateChange] = field(default_factory=list)  # replay_lines only; the CLI streams them
    messages: int = 0
    bad: Counter = field(default_factory=Counter)
    first: datetime | None = None
    last: datetime | None = None
    changed: int = 0  # state changes emitted
    late: int = 0  # messages further out of receive-time order than the input may be (applied late)
    engines: dict[str, Engine] = field(default_factory=dict)  # by hub id, as the replay left them


def parse_line(line: str, result: ReplayResult) -> tuple | None:
    """One JSONL wire record as (message, received), or None (blank, or bad: counted)."""
    if not line.strip():
        return None
    try:
        record = orjson.loads(line)
        received = datetime.fromisoformat(record["received"])
        if received.tzinfo is None:
            raise ValueError("received time without offset")
        received = received.astimezone(UTC)
        msg = parse_message(record["topic"], record["payload"].encode(), received)
    except Rejected as exc:
        result.bad[exc.reason] += 1
        return None
    except (ValueError, KeyError, TypeError, AttributeError, orjson.JSONDecodeError):
        result.bad["bad_line"] += 1
        return None
    result.messages += 1
    if result.first is None or received < result.first:
        result.first = received
    if result.last is None or received > result.last:
        result.last = received
    return msg, received


def replay_stream(
    lines: Iterable[str],
    hubs: dict[str, Hub],
    emit: Callable[[StateChange], None],
    profiles: dict[str, Profile] | None = None,
    until: datetime | None = None,
    *,
    reasons: bool = False,
    summary: Summary | None = None,
) -> ReplayResult:
    """The replay path in one pass: parse, put in canonical order within a bounded window
    (:class:`collector.engine.stream.Reorder`), one engine per hub; every change goes to ``emit``
    (and to ``summary``).  ``reasons``: also a record when only the reason changes."""
    result = ReplayResult()
    reorder = Reorder()
    engines = result.engines

    def engine_of(hub_id: str) -> Engine:
        engine = engines.get(hub_id)
        if engine is None:
            hub = hubs[hub_id]
            hub_profiles = for_hub(hub_id, [z.id for z in hub.zones], profiles or {})
            engine = engines[hub_id] = Engine(hub, hub_profiles, reasons=reasons)
        return engine

    def out(changes: list[StateChange]) -> None:
        for c in changes:
            emit(c)
            if summary is not None and (until is None or c.at <= until):
                summary.add(c)
        result.changed += len(changes)

    def release(items) -> None:
        for hub_id, key, kind, msg, received in items:
            out(step(engine_of(hub_id), key, kind, msg, received))

    for line in lines:
        parsed = parse_line(line, result)
        if parsed is None:
            continue
        msg, received = parsed
        if summary is not None and summary.anchor is None:
            summary.anchor = received  # no later than the earliest receive time (the start)
        if msg.hub not in hubs:
            result.bad["unknown_hub"] += 1
            continue
        reorder.push(msg.hub, msg, received)
        release(reorder.ready())
        if summary is not None and result.messages % COMMIT_EVERY == 0:
            summary.commit(min(result.last, until) if until is not None else result.last)
    release(reorder.drain())
    end = until or result.last
    if end is not None:
        for hub_id in hubs:  # config order
            if hub_id in engines:
                out(engines[hub_id].advance(end))
    result.late = reorder.late
    return result


def replay_lines(
    lines: Iterable[str],
    hubs: dict[str, Hub],
    profiles: dict[str, Profile] | None = None,
    until: datetime | None = None,
    *,
    reasons: bool = False,
) -> ReplayResult:
    """:func:`replay_stream` collecting the changes in ``result.changes`` (tests, benchmarks)."""
    changes: list[StateChange] = []
    result = replay_stream(lines, hubs, changes.append, profiles, until, reasons=reasons)
    result.changes = changes
    return result


def change_record(c: StateChange) -> dict:
    return {"hub": c.hub, "zone": c.zone, "desk": c.desk, "state": c.state.value,
            "at": c.at.isoformat().replace("+00:00", "Z"), "reason": c.reason}


def _writer(out: TextIO) -> Callable[[StateChange], None]:
    def write(c: StateChange) -> None:
        out.write(json.dumps(change_record(c), ensure_ascii=False) + "\n")
    return write


def _print_summary(summary: Summary, start: datetime, end: datetime, out: TextIO) -> None:
    rows = summary.result(start, end)
    out.write(f"{'hub':<12} {'zone':<20} {'occupied_h':>10} {'free_h':>8} {'unknown_h':>9} {'sessions':>8}\n")
    for (hub, zone), s in rows.items():
        out.write(f"{hub:<12} {zone:<20} {s['occupied_s'] / 3600:>10.2f} {s['free_s'] / 3600:>8.2f} "
                  f"{s['unknown_s'] / 3600:>9.2f} {s['sessions']:>8}\n")


def config_paths(given: list[Path] | None) -> list[Path]:
    """``--config`` as given, else the example configs next to the package (a source checkout);
    an installation without them is told what to pass (a ``ValueError`` with one line)."""
    if given:
        return given
    if DEFAULT_CONFIG_DIR.is_dir():
        return [DEFAULT_CONFIG_DIR]
    raise ValueError("--config: no hub config given, and this installation has no example configs "
                     f"({DEFAULT_CONFIG_DIR}); pass --config HUB.toml, the hub config the recording was made with")


def command(args: argparse.Namespace) -> int:
    try:
        paths = config_paths(args.config)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    hubs = load_hubs(paths)  # a ConfigError is reported by the command line entry point (hubsense.cli)
    try:
        profiles = overrides_from(args.profile or [])
    except ValueError as exc:
        print(f"error: --profile: {exc}", file=sys.stderr)
        return 2
    unknown = unknown_targets({h.id: [z.id for z in h.zones] for h in hubs.values()}, profiles)
    if unknown:
        print(f"error: --profile names unknown zone(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    until = args.until
    summary = Summary() if args.summary else None
    with open(args.events, encoding="utf-8") as fh:  # read once, front to back: a pipe will do
        lines = progress(fh, desc="replay", unit=" lines", enabled=getattr(args, "progress", None))
        if args.output:
            with open(args.output, "w", encoding="utf-8") as out:
                result = replay_stream(lines, hubs, _writer(out), profiles, until, reasons=args.reasons,
                                       summary=summary)
        else:
            emit = _writer(sys.stdout) if not args.summary else (lambda c: None)
            result = replay_stream(lines, hubs, emit, profiles, until, reasons=args.reasons, summary=summary)
    if summary is not None and result.first is not None:
        _print_summary(summary, result.first, until or result.last, sys.stdout)
    bad = sum(result.bad.values())
    detail = ", ".join(f"{k}={v}" for k, v in sorted(result.bad.items()))
    print(f"replay: {result.messages} messages, {result.changed} changes, {bad} bad lines"
          + (f" ({detail})" if detail else ""), file=sys.stderr)
    if result.late:
        print(f"replay: {result.late} messages were more than a minute out of receive-time order and were "
              "applied late (sort the input by receive time for an exact timeline)", file=sys.stderr)
    return 0


def aware_time(value: str) -> datetime:
    """An ISO 8601 time with a UTC offset, as UTC (argparse prints the error in one line)."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{value!r} has no UTC offset; add one, e.g. 'Z' or '+01:00'")
    return parsed.astimezone(UTC)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("replay", help="rebuild the occupancy timeline from recorded messages",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("events", type=Path, metavar="EVENTS.jsonl",
                   help="recorded wire messages, one JSON per line, roughly in receive-time order")
    p.add_argument("--config", type=Path, action="append", metavar="PATH",
                   help="hub config file or directory (repeatable; default: the example configs of a source "
                   "checkout, firmware_config/)")
    p.add_argument("--profile", action="append", metavar="[HUB/]ZONE:KEY=VALUE",
                   help="override a profile parameter, e.g. skogsglantan:vacancy_timeout_s=1200 or "
                   "stockholm/oasen:learn=false (repeatable; HUB/ addresses one hub's zone)")
    p.add_argument("--reasons", action="store_true",
                   help="also write a record when only the reason changes (e.g. 'motion' to 'door_closed')")
    p.add_argument("--summary", action="store_true", help="print occupied/free/unknown hours and sessions per zone")
    p.add_argument("--until", type=aware_time, metavar="ISO8601",
                   help="fire timeouts up to this time, e.g. 2026-12-01T00:00Z (default: the last message)")
    p.add_argument("-o", "--output", type=Path, metavar="OUT.jsonl", help="write the timeline here")
    add_progress_argument(p)
    p.set_defaults(func=command)
