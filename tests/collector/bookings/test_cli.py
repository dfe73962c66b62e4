from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hubsense.cli import main


def _calendar(path: Path, start: datetime) -> Path:
    fmt = "%Y%m%dT%H%M%SZ"
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:w\r\n"
        "ORGANIZER;CN=Bo:mailto:bo@regionstockholm.se\r\n"
        f"DTSTART:{start.strftime(fmt)}\r\nDTEND:{(start + timedelta(hours=1)).strftime(fmt)}\r\n"
        "RRULE:FREQ=DAILY;COUNT=20\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    return path


def test_show_lists_recurring_bookings_in_local_time(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    start = (datetime.now(UTC) + timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
    ics = _calendar(tmp_path / "room.ics", start)
    code = main(["bookings", "show", "--hub", "stockholm", "--room", "motesrum-ekorren", "--source", str(ics),
                 "--days", "3"])
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = out.splitlines()
    assert 2 <= len(lines) <= 3 and all(line.endswith("motesrum-ekorren  region-stockholm") for line in lines)
    assert "bo@" not in out  # the organisation, never the organiser
    local = start.astimezone(ZoneInfo("Europe/Stockholm"))
    assert lines[0].startswith(f"{local:%Y-%m-%d %a %H:%M}-")
    assert f"{len(lines)} booking(s)" in err


def test_show_refuses_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["bookings", "show", "--hub", "nohub"]) == 2
    assert main(["bookings", "show", "--hub", "stockholm", "--source", "x.ics"]) == 2  # no --room
    (tmp_path / "bad.ics").write_text("not a calendar")
    assert main(["bookings", "show", "--hub", "stockholm", "--room", "motesrum-ekorren",
                 "--source", str(tmp_path / "bad.ics")]) == 2
    assert main(["bookings", "show", "--hub", "stockholm", "--room", "motesrum-ekorren",
                 "--source", str(tmp_path / "missing.ics")]) == 2
    assert "error:" in capsys.readouterr().err
