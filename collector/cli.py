"""``hubsense collector``, ``hubsense demo`` and ``hubsense export``."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from collector.settings import settings_from_args, settings_reference
from hubsense.logs import setup_logging


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("collector", help="run the collector: MQTT ingest, storage, API and dashboard",
                       description="Run the hub server: subscribe to the agents' MQTT messages, keep every "
                       "zone's state, store events and state changes, and serve the API and the dashboard. "
                       "Settings come from HUBSENSE_* environment variables (--print-settings lists them); "
                       "the options below override them.")
    _common(p)
    p.add_argument("--print-settings", action="store_true",
                   help="print every setting (environment variable, default, description) as Markdown and exit")
    p.set_defaults(func=_run_collector)

    d = sub.add_parser("demo", help="broker + collector + simulated agents for the real hub layouts",
                       description="Start a private Mosquitto, the collector on SQLite with simulated history, "
                       "and simulated agents (the real agent code on mock pins) for every hub, at --speed. "
                       "Its data stays in --workdir (export it with 'hubsense export --db "
                       "var/demo/hubsense.sqlite3'); --reset starts from scratch. Ctrl-C or SIGTERM stops "
                       "everything it started.")
    _common(d, mqtt=False)
    d.add_argument("--mqtt-port", type=int, default=None,
                   help="port of the demo's own broker on 127.0.0.1 (default: a free port, printed at start)")
    d.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second")
    d.add_argument("--history-days", type=int, default=28, help="days of simulated history to generate first")
    d.add_argument("--workdir", type=Path, default=Path("var/demo"), help="broker and database files")
    d.add_argument("--reset", action="store_true", help="delete the demo's database first (a fresh history)")
    d.set_defaults(func=_run_demo)

    e = sub.add_parser("export", help="export stored events as replay input (JSONL, the wire format)",
                       description="Write the stored sensor events and agent status of a SQLite database as "
                       "JSON lines in the replay input format (docs/protocol.md), in receive-time order. "
                       "Reads only: a database that does not exist is an error, never created.")
    e.add_argument("--db", type=Path, default=None,
                   help="SQLite database (default: HUBSENSE_SQLITE_PATH, var/hubsense.sqlite3; the demo's is "
                   "var/demo/hubsense.sqlite3)")
    e.add_argument("--hub", default=None, help="only this hub (default: all)")
    e.add_argument("--start", type=_aware_time, default=None,
                   help="receive-time start: ISO 8601 with an offset, or YYYY-MM-DD (UTC midnight)")
    e.add_argument("--end", type=_aware_time, default=None, help="receive-time end, exclusive; like --start")
    e.add_argument("-o", "--output", type=Path, default=None, help="output file (default: stdout)")
    e.set_defaults(func=_run_export)


def _aware_time(value: str) -> datetime:
    """An ISO 8601 time with an offset, or a date (UTC midnight); argparse prints the error in one line."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO 8601 date or time") from None
    if parsed.tzinfo is None:
        if len(value) == 10:
            return parsed.replace(tzinfo=UTC)
        raise argparse.ArgumentTypeError(f"{value!r} has no UTC offset; add one, e.g. 'Z' or '+01:00'")
    return parsed


def _common(p: argparse.ArgumentParser, mqtt: bool = True) -> None:
    p.add_argument("--config", dest="config_paths", type=Path, action="append",
                   help="hub config file or directory (repeatable; default firmware_config/)")
    if mqtt:
        p.add_argument("--mqtt", default=None, metavar="HOST:PORT", help="MQTT broker (default 127.0.0.1:1883)")
    p.add_argument("--db", type=Path, default=None, help="SQLite database file")
    p.add_argument("--host", default=None, help="HTTP listen address")
    p.add_argument("--port", type=int, default=None, help="HTTP port (default 8000)")
    p.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR")
    p.add_argument("--log-json", action="store_true", help="log one JSON object per line (journald, Loki)")


def _logging(level: str, json_lines: bool = False) -> None:
    setup_logging(level, json=json_lines)


def _run_collector(args: argparse.Namespace) -> int:
    from collector.service import PortInUse, serve

    if args.print_settings:
        print(settings_reference(), end="")
        return 0
    _logging(args.log_level, args.log_json)
    try:
        settings = settings_from_args(args)
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        serve(settings)
    except PortInUse as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _run_demo(args: argparse.Namespace) -> int:
    from collector.demo import run_demo

    _logging(args.log_level, args.log_json)
    return run_demo(args)


def _run_export(args: argparse.Namespace) -> int:
    from collector.export import export_events
    from collector.store import open_store

    settings = settings_from_args(args)
    if settings.store == "sqlite" and not settings.sqlite_path.is_file():
        demo = Path("var/demo/hubsense.sqlite3")
        hint = f" (the demo's data is in {demo}: add --db {demo})" if demo.is_file() and args.db is None else ""
        print(f"error: no database at {settings.sqlite_path}{hint}", file=sys.stderr)
        return 2
    if args.hub is not None:
        from hubsense.config import load_hubs

        hubs = load_hubs(settings.config_paths)
        if args.hub not in hubs:
            print(f"error: unknown hub {args.hub!r}; hubs: {', '.join(hubs)}", file=sys.stderr)
            return 2
    store = open_store(settings)
    try:
        if args.output:
            with args.output.open("w", encoding="utf-8") as out:
                n = export_events(store, out, hub=args.hub, start=args.start, end=args.end)
        else:
            n = export_events(store, sys.stdout, hub=args.hub, start=args.start, end=args.end)
    finally:
        store.close()
    print(json.dumps({"exported": n}), file=sys.stderr)
    return 0
