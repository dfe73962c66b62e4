"""``hubsense replay``: wire-format JSONL in, timeline / summary out, bad lines counted."""

from __future__ import annotations

import argparse
import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from collector.replay import register
from hubsense.config import DEFAULT_CONFIG_DIR
from hubsense.protocol import (
    AgentState,
    AgentStatus,
    Heartbeat,
    MessageKind,
    SensorEvent,
    SensorKind,
    SensorState,
    encode,
    topic,
)

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
AGENT = "sthlm-pi-skog"


def _at(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def _line(msg, kind: MessageKind, s: float) -> str:
    return json.dumps({"topic": topic("stockholm", AGENT, kind), "payload": encode(msg).decode(),
                       "received": _at(s).isoformat()})


def _recording(path: Path) -> Path:
    lines = [_line(AgentStatus(hub="stockholm", agent=AGENT, boot="b", state=AgentState.ONLINE, ts=_at(0)),
                   MessageKind.STATUS, 0)]
    lines += [_line(Heartbeat(hub="stockholm", agent=AGENT, boot="b", ts=_at(s), seq=0, uptime_s=s,
                              interval_s=600), MessageKind.HEARTBEAT, s) for s in range(0, 4200, 600)]
    for seq, (state, s) in enumerate([("motion", 100), ("no_motion", 200)], start=1):
        ev = SensorEvent(hub="stockholm", agent=AGENT, boot="b", sensor="skogsglantan-pir", kind=SensorKind.PIR,
                         state=SensorState(state), ts=_at(s), seq=seq)
        lines += [_line(ev, MessageKind.EVENT, s)] * 2  # every event delivered twice
    lines += ["not json", json.dumps({"topic": "hubsense/x", "payload": "{}", "received": _at(0).isoformat()}),
              json.dumps({"topic": topic("stockholm", AGENT, MessageKind.EVENT), "payload": "{}"})]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["replay", *argv])
    return args.func(args)


def _free_at(records: list[dict], zone: str) -> str:
    return [r["at"] for r in records if r["zone"] == zone and r["state"] == "free"][-1]


def test_replay_writes_timeline_and_counts_bad_lines(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    src = _recording(tmp_path / "events.jsonl")
    config = str(DEFAULT_CONFIG_DIR / "stockholm.toml")
    assert _run([str(src), "--config", config, "-o", str(tmp_path / "t.jsonl")]) == 0
    records = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert set(records[0]) == {"hub", "zone", "desk", "state", "at", "reason"}
    # Skogsgläntan's configured lower bound (600 s) holds it: nothing learned yet from one visit
    assert _free_at(records, "skogsglantan") == "2026-11-30T08:13:20Z"  # 200 s + 600 s
    err = capsys.readouterr().err
    assert "3 bad lines" in err and "bad_line=2" in err and "bad_topic=1" in err


def test_profile_override_answers_what_if(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    src = _recording(tmp_path / "events.jsonl")
    assert _run([str(src), "--profile", "skogsglantan:vacancy_timeout_s=1200"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert _free_at(records, "skogsglantan") == "2026-11-30T08:23:20Z"  # 200 s + 1200 s


def test_summary_has_hours_and_sessions(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    src = _recording(tmp_path / "events.jsonl")
    assert _run([str(src), "--summary"]) == 0
    out = capsys.readouterr().out
    row = next(line.split() for line in out.splitlines() if "skogsglantan" in line)
    # occupied 100 s .. 800 s = 0.19 h; one session
    assert row[2] == "0.19" and row[-1] == "1"


def test_bad_profile_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    src = _recording(tmp_path / "events.jsonl")
    assert _run([str(src), "--profile", "nowhere:vacancy_timeout_s=5"]) == 2
    assert _run([str(src), "--profile", "oasen:colour=5"]) == 2


def test_config_before_the_events_file_does_not_swallow_it(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    src = _recording(tmp_path / "events.jsonl")
    config = str(DEFAULT_CONFIG_DIR / "stockholm.toml")
    assert _run(["--config", config, str(src)]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert _free_at(records, "skogsglantan") == "2026-11-30T08:13:20Z"


def test_profile_addresses_one_hubs_zone(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    src = _recording(tmp_path / "events.jsonl")
    assert _run([str(src), "--profile", "stockholm/skogsglantan:vacancy_timeout_s=1200"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert _free_at(records, "skogsglantan") == "2026-11-30T08:23:20Z"
    assert _run([str(src), "--profile", "ostersund/skogsglantan:vacancy_timeout_s=1200",
                 "--profile", "stockholm/skogsglantan:vacancy_timeout_s=60"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert _free_at(records, "skogsglantan") == "2026-11-30T08:04:20Z"  # this hub's override only
    assert _run([str(src), "--profile", "nowhere/skogsglantan:vacancy_timeout_s=5"]) == 2
    assert "nowhere/skogsglantan" in capsys.readouterr().err


def test_reasons_adds_records_where_only_the_reason_changes(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config = str(DEFAULT_CONFIG_DIR / "stockholm.toml")
    lines = [_line(AgentStatus(hub="stockholm", agent=AGENT, boot="b", state=AgentState.ONLINE, ts=_at(0)),
                   MessageKind.STATUS, 0)]
    for seq, (sensor, kind, state, s) in enumerate([
            ("oasen-door", SensorKind.DOOR, "closed", 10), ("oasen-pir", SensorKind.PIR, "motion", 100),
            ("oasen-pir", SensorKind.PIR, "no_motion", 200), ("oasen-pir", SensorKind.PIR, "motion", 400),
            ("oasen-pir", SensorKind.PIR, "no_motion", 500)], start=1):
        ev = SensorEvent(hub="stockholm", agent=AGENT, boot="b", sensor=sensor, kind=kind,
                         state=SensorState(state), ts=_at(s), seq=seq)
        lines.append(_line(ev, MessageKind.EVENT, s))
    src = tmp_path / "room.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _run([str(src), "--config", config, "--until", "2026-11-30T09:00:00Z"]) == 0
    plain = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert _run([str(src), "--config", config, "--until", "2026-11-30T09:00:00Z", "--reasons"]) == 0
    detailed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    oasen = [(r["state"], r["reason"]) for r in detailed if r["zone"] == "oasen"]
    assert ("occupied", "motion") in oasen and ("occupied", "door_closed") in oasen
    assert all(a != b for a, b in itertools.pairwise(oasen))  # each record changes something
    # without --reasons: the same timeline, only the records where the state changed
    last: dict = {}
    state_changes = []
    for r in detailed:
        if last.get((r["zone"], r["desk"])) != r["state"]:
            state_changes.append(r)
        last[(r["zone"], r["desk"])] = r["state"]
    assert state_changes == plain and len(detailed) > len(plain)


def test_no_default_config_after_an_install_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import collector.replay

    monkeypatch.setattr(collector.replay, "DEFAULT_CONFIG_DIR", tmp_path / "site-packages" / "firmware_config")
    src = _recording(tmp_path / "events.jsonl")
    assert _run([str(src)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "pass --config HUB.toml" in err


def test_until_without_offset_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    src = _recording(tmp_path / "events.jsonl")
    with pytest.raises(SystemExit):
        _run([str(src), "--until", "2026-11-30T09:00:00"])
    assert "no UTC offset" in capsys.readouterr().err
