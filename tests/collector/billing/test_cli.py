"""``hubsense billing export`` (collector/billing/cli.py): every statement of a month, written to files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from collector.store.sqlite import SqliteStore
from hubsense.cli import main
from tests.collector.api.test_billing import door_events
from tests.collector.bookings.scenario import CALENDAR, ROOM, changes


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "hubsense.sqlite3"
    store = SqliteStore(path)
    store.add_changes(changes())
    store.add_events(door_events())
    store.close()
    monkeypatch.setenv("HUBSENSE_BOOKINGS", json.dumps({f"stockholm/{ROOM}": str(CALENDAR)}))
    return path


def test_export_writes_json_csv_and_one_page_per_organisation(db: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["billing", "export", "--month", "2026-03", "--db", str(db), "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "stockholm trafikverket: 6 bookings, 2187.50 SEK" in printed.out
    assert "stockholm unassigned: 1 bookings, 175.00 SEK" in printed.out
    folder = out / "stockholm-2026-03"
    assert sorted(p.name for p in folder.iterdir()) == [
        "billing-excel-sv.csv", "billing.csv", "billing.json", "region-stockholm.html", "stockholms-stad.html",
        "trafikverket.html", "unassigned.html"]
    report = json.loads((folder / "billing.json").read_text(encoding="utf-8"))
    assert report["amount"] == "4112.50" and report["month"] == "2026-03"
    rows = list(csv.DictReader(io.StringIO((folder / "billing.csv").read_text(encoding="utf-8"))))
    assert len(rows) == 13
    excel = (folder / "billing-excel-sv.csv").read_bytes().decode("utf-8-sig")
    assert excel.splitlines()[0].startswith("organisation;") and ";437,50;SEK" in excel
    page = (folder / "trafikverket.html").read_text(encoding="utf-8")
    assert "<style>" in page and "@media print" in page and "<link" not in page  # stands alone
    assert "2\u00a0187,50\u00a0SEK" in page and "@" not in page.replace("@media", "").replace("@page", "")
    assert not (out / "ostersund-2026-03").exists()  # no calendars there


def test_export_errors_are_one_line_and_exit_2(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "out")
    assert main(["billing", "export", "--month", "2026-3", "--db", str(db), "--out", out]) == 2
    assert "error: month: '2026-3' is not a month; write YYYY-MM" in capsys.readouterr().err
    assert main(["billing", "export", "--month", "2026-03", "--hub", "nowhere", "--db", str(db), "--out", out]) == 2
    assert "error: unknown hub 'nowhere'" in capsys.readouterr().err
    missing = tmp_path / "missing.sqlite3"
    assert main(["billing", "export", "--month", "2026-03", "--db", str(missing), "--out", out]) == 2
    assert f"error: no database at {missing}" in capsys.readouterr().err
    assert not missing.exists() and not Path(out).exists()  # nothing created
