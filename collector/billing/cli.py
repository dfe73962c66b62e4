"""``hubsense billing export --month YYYY-MM``: every statement of a month, written to files.

For each hub (or ``--hub``) a folder ``{out}/{hub}-{month}/`` with

* ``billing.json``: the statement of every organisation (the API's ``/api/hubs/{hub}/billing``);
* ``billing.csv`` and ``billing-excel-sv.csv``: one row per booking (standard CSV; Swedish Excel);
* ``{organisation}.html``: the printable statement of each organisation with bookings (and
  ``unassigned.html`` if some matched none), with its stylesheet inlined: open it and print to PDF.

It reads the calendars of the ``bookings`` setting and the store the settings name; it writes nothing
else.  Exit status 2 for a bad month, an unknown hub, a missing database or an unreadable calendar.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from collector.api.formats import csv_response
from collector.api.models import BillingLine, BillingReport
from collector.billing.html import statement_html
from collector.billing.load import load_statement
from collector.billing.statement import MonthStatement, month_span
from collector.bookings.sources import CalendarSources, CalendarUnavailable
from collector.settings import settings_from_args
from dashboard import STATIC
from hubsense.config import Hub, load_hubs


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("billing", help="usage-based billing of bookable rooms per organisation")
    actions = p.add_subparsers(dest="billing_command", required=True)
    export = actions.add_parser(
        "export", help="write a month's statements: JSON, CSV (also for Swedish Excel) and one HTML page per "
        "organisation",
        description="Write the month's statements of every hub (or --hub) to OUT/{hub}-{month}/: billing.json, "
        "billing.csv, billing-excel-sv.csv and {organisation}.html (print it to PDF from a browser). Bookings "
        "come from the calendars of the bookings setting (HUBSENSE_BOOKINGS), sensed use from the store.")
    export.add_argument("--month", required=True, help="the month, YYYY-MM (the hub's local calendar month)")
    export.add_argument("--hub", help="only this hub (default: every hub with booking calendars)")
    export.add_argument("--out", type=Path, default=Path("var/billing"), help="folder to write to")
    export.add_argument("--lang", choices=["sv", "en"], default="sv", help="language of the HTML statements")
    export.add_argument("--db", type=Path, help="SQLite database (default: the sqlite_path setting)")
    export.add_argument("--config", dest="config_paths", type=Path, action="append",
                        help="hub config file or directory (default: the config_paths setting)")
    export.set_defaults(func=_export)


def _export(args: argparse.Namespace) -> int:
    from collector.store import open_store

    settings = settings_from_args(args)
    hubs = load_hubs(settings.config_paths)
    sources = CalendarSources(settings.bookings, hubs, refresh_s=300)
    chosen = [h for h in hubs.values() if (args.hub is None and sources.rooms.get(h.id)) or h.id == args.hub]
    problem = _problem(args, settings, hubs, chosen)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    store = open_store(settings)
    now = datetime.now(UTC)
    try:
        for hub in chosen:
            statement = load_statement(store, sources, hub, args.month, now, settings.bookings_grace_min)
            folder = write_statements(hub, statement, args.out, now, args.lang)
            for org in statement.organisations:
                if org.lines:
                    print(f"{hub.id} {org.id}: {org.bookings} bookings, {org.amount_ore / 100:.2f} "
                          f"{statement.currency}")
            print(f"wrote {folder}", file=sys.stderr)
    except CalendarUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    return 0


def _problem(args: argparse.Namespace, settings, hubs: dict[str, Hub], chosen: list[Hub]) -> str | None:
    if args.hub is not None and args.hub not in hubs:
        return f"unknown hub {args.hub!r}; hubs: {', '.join(hubs)}"
    if not chosen:
        return "no booking calendars configured (set HUBSENSE_BOOKINGS, docs/integrations.md)"
    try:
        month_span(chosen[0], args.month)
    except ValueError as exc:
        return str(exc)
    if settings.store == "sqlite" and not settings.sqlite_path.is_file():
        return f"no database at {settings.sqlite_path}"
    return None


def write_statements(hub: Hub, statement: MonthStatement, out: Path, now: datetime, lang: str = "sv") -> Path:
    """Write the statement files of one hub and month; returns the folder."""
    folder = out / f"{hub.id}-{statement.month}"
    folder.mkdir(parents=True, exist_ok=True)
    report = BillingReport.build(hub, statement, statement.organisations)
    (folder / "billing.json").write_text(json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=2)
                                         + "\n", encoding="utf-8")
    rows = [line.model_dump() for org in report.organisations for line in org.lines]
    for name, dialect in (("billing.csv", "standard"), ("billing-excel-sv.csv", "excel-sv")):
        body = csv_response(rows, list(BillingLine.model_fields), name, dialect, hub.tz).body
        (folder / name).write_bytes(body)
    css = (STATIC / "statement.css").read_text(encoding="utf-8")
    for org in statement.organisations:
        if org.lines:
            html = statement_html(hub, statement, org, now, lang, css=css)  # type: ignore[arg-type]
            (folder / f"{org.id}.html").write_text(html, encoding="utf-8")
    return folder
