"""``hubsense collector``, ``hubsense demo`` and ``hubsense export``."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from collector.settings import settings_from_args, settings_reference
from hubsense.logs import setup_logging


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("collector", help="run the collector: MQTT ingest, storage, API and dashboard")
    _common(p)
    p.add_argument("--print-settings", action="store_true",
                   help="print every setting (environment variable, default, description) as Markdown and exit")
    p.set_defaults(func=_run_collector)

    d = sub.add_parser("demo", help="broker + collector + simulated agents for the real hub layouts")
    _common(d)
    d.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second (default 60)")
    d.add_argument("--history-days", type=int, default=28, help="days of simulated history to generate first")
    d.add_argument("--workdir", type=Path, default=Path("var/demo"), help="broker and database files")
    d.set_defaults(func=_run_demo)

    e = sub.add_parser("export", help="export stored events as replay input (JSONL, the wire format)")
    e.add_argument("--db", type=Path, default=None, help="SQLite database (default: settings)")
    e.add_argument("--hub", default=None, help="only this hub")
    e.add_argument("--start", type=datetime.fromisoformat, default=None, help="ISO 8601 start (receive time)")
    e.add_argument("--end", type=datetime.fromisoformat, default=None, help="ISO 8601 end (receive time)")
    e.add_argument("-o", "--output", type=Path, default=None, help="output file (default: stdout)")
    e.set_defaults(func=_run_export)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", dest="config_paths", type=Path, action="append",
                   help="hub config file or directory (repeatable; default firmware_config/)")
    p.add_argument("--mqtt", default=None, metavar="HOST:PORT", help="MQTT broker")
    p.add_argument("--db", type=Path, default=None, help="SQLite database file")
    p.add_argument("--host", default=None, help="HTTP listen address")
    p.add_argument("--port", type=int, default=None, help="HTTP port (default 8000)")
    p.add_argument("--log-level", default="INFO")
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
    store = open_store(settings)
    out = args.output.open("w", encoding="utf-8") if args.output else sys.stdout
    try:
        n = export_events(store, out, hub=args.hub, start=args.start, end=args.end)
    finally:
        if args.output:
            out.close()
        store.close()
    print(json.dumps({"exported": n}), file=sys.stderr)
    return 0
