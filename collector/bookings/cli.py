"""``hubsense bookings show``: list the bookings hubsense reads from a room's calendar, with the
organisation each is attributed to (``unassigned`` when none of the hub config's matches).

For installers: check that a calendar file or URL parses and that recurring
events land where the booking system shows them, before (or after) adding it
to the ``bookings`` setting.  Times are printed in the hub's local time.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from collector.bookings.sources import CalendarSources, CalendarUnavailable
from hubsense.config import DEFAULT_CONFIG_DIR, UNASSIGNED, load_hubs


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bookings", help="booking calendars of bookable rooms")
    actions = p.add_subparsers(dest="bookings_command", required=True)
    show = actions.add_parser(
        "show", help="print the bookings read from the configured (or given) calendars",
        description="Print the coming bookings of a hub's rooms, read from the calendars in the bookings "
        "setting (HUBSENSE_BOOKINGS) or from one --source, in the hub's local time.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    show.add_argument("--hub", required=True, help="hub id")
    show.add_argument("--room", help="only this room (zone id); required with --source")
    show.add_argument("--source", help="an iCalendar file or URL to read instead of the bookings setting")
    show.add_argument("--days", type=float, default=7, help="days from now to list")
    show.add_argument("--config", dest="config_paths", type=Path, action="append",
                      help="hub config file or directory (default firmware_config/)")
    show.set_defaults(func=_show)


def _show(args: argparse.Namespace) -> int:
    from collector.settings import Settings

    try:
        hubs = load_hubs(args.config_paths or [DEFAULT_CONFIG_DIR])
        if args.hub not in hubs:
            raise ValueError(f"unknown hub {args.hub!r}; configured: {', '.join(sorted(hubs))}")
        if args.source and not args.room:
            raise ValueError("--source needs --room")
        mapping = {f"{args.hub}/{args.room}": args.source} if args.source else Settings().bookings
        sources = CalendarSources(mapping, hubs, refresh_s=0)
        if not sources.rooms.get(args.hub):
            print(f"no calendars configured for hub {args.hub!r}: set HUBSENSE_BOOKINGS (docs/integrations.md) "
                  "or pass --room and --source", file=sys.stderr)
            return 0
        now = datetime.now(UTC)
        bookings = sources.bookings(args.hub, now, now + timedelta(days=args.days), args.room)
    except (ValueError, CalendarUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    tz = hubs[args.hub].tz
    for b in bookings:
        start, end = b.start.astimezone(tz), b.end.astimezone(tz)
        print(f"{start:%Y-%m-%d %a %H:%M}-{end:%H:%M}  {b.zone}  {b.organisation or UNASSIGNED}")
    print(f"{len(bookings)} booking(s) in the next {args.days:g} days", file=sys.stderr)
    return 0
