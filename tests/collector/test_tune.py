"""``hubsense tune``: unsupervised (what zones learn from history), supervised (--truth: the pinned
vacancy timeout right most often), the snippet, --apply into a hub config file, one-line errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hubsense.cli import main
from hubsense.config import DEFAULT_CONFIG_DIR, load_hub
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

T0 = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
AGENT, SENSOR, ZONE = "sthlm-pi-entre", "lagerelden-pir", "lagerelden"
CONFIG = DEFAULT_CONFIG_DIR / "stockholm.toml"


def _line(msg, kind: MessageKind, t: datetime) -> str:
    return json.dumps({"topic": topic("stockholm", AGENT, kind), "payload": encode(msg).decode(),
                       "received": t.isoformat()})


def _history(tmp: Path, visits: int = 30) -> tuple[Path, Path]:
    """Lägerelden: a short visit every 20 minutes (three bursts of motion 30 s apart), truth = from
    the first motion to the last; heartbeats every minute."""
    lines = [_line(AgentStatus(hub="stockholm", agent=AGENT, boot="b", state=AgentState.ONLINE, ts=T0),
                   MessageKind.STATUS, T0)]
    events, truth, seq = [], [], 0
    for v in range(visits):
        start = T0 + timedelta(minutes=5 + 20 * v)
        t = start
        for _ in range(3):
            for state, dt in ((SensorState.MOTION, 15), (SensorState.NO_MOTION, 30)):
                events.append((t, state))
                t += timedelta(seconds=dt)
        truth.append((start, t - timedelta(seconds=30)))
    end = T0 + timedelta(minutes=5 + 20 * visits)
    beat = T0
    for t, state in [*events, (end, None)]:
        while beat <= t:
            seq += 1
            lines.append(_line(Heartbeat(hub="stockholm", agent=AGENT, boot="b", ts=beat, seq=seq, uptime_s=1,
                                         interval_s=60), MessageKind.HEARTBEAT, beat))
            beat += timedelta(seconds=60)
        if state is not None:
            seq += 1
            lines.append(_line(SensorEvent(hub="stockholm", agent=AGENT, boot="b", sensor=SENSOR, kind=SensorKind.PIR,
                                           state=state, ts=t, seq=seq), MessageKind.EVENT, t))
    history = tmp / "history.jsonl"
    history.write_text("\n".join(lines) + "\n", encoding="utf-8")
    csv_path = tmp / "truth.csv"
    csv_path.write_text("space,start,end\n" + "".join(
        f"{ZONE},{a.isoformat()},{b.isoformat().replace('+00:00', 'Z')}\n" for a, b in truth), encoding="utf-8")
    return history, csv_path


def _profile_line(out: str, zone: str) -> str:
    lines = out.splitlines()
    i = lines.index(f'# hub "stockholm", [[zones]] id = "{zone}"')
    return lines[i + 1]


def test_unsupervised_shows_what_each_zone_learned_and_pins_it(tmp_path: Path, capsys) -> None:
    history, _ = _history(tmp_path)
    assert main(["tune", str(history), "--config", str(CONFIG)]) == 0
    out = capsys.readouterr().out
    row = next(line.split() for line in out.splitlines() if line.startswith("stockholm") and f" {ZONE} " in line)
    assert row[2] == "open" and int(row[-1]) > 30  # pauses learned from
    pinned = _profile_line(out, ZONE)
    value = float(pinned.removeprefix("profile = { vacancy_timeout_s = ").removesuffix(" }"))
    assert 15 <= value < 112  # short pauses inside visits, long ones between: a short hold
    assert '"utsiktsplatsen"' not in out  # nothing learned there: nothing pinned


def test_supervised_picks_the_pin_right_most_often(tmp_path: Path, capsys) -> None:
    history, truth = _history(tmp_path)
    assert main(["tune", str(history), "--config", str(CONFIG), "--truth", str(truth), "--grid-s", "5"]) == 0
    out = capsys.readouterr().out
    row = next(line.split() for line in out.splitlines() if line.startswith("stockholm") and f" {ZONE} " in line)
    before, after = float(row[2]), float(row[3])
    assert after > before and after > 0.97
    value = float(_profile_line(out, ZONE).removeprefix("profile = { vacancy_timeout_s = ").removesuffix(" }"))
    assert 20 <= value <= 30  # (nearly) bridges the 30 s pauses inside a visit, frees soon after it
    assert sum(1 for line in out.splitlines() if line.startswith("stockholm")) == 1  # only zones with truth


def test_apply_writes_the_profiles_into_the_config_and_keeps_the_rest(tmp_path: Path, capsys) -> None:
    history, truth = _history(tmp_path)
    config = tmp_path / "stockholm.toml"
    config.write_text(CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    snippet = tmp_path / "snippet.toml"
    assert main(["tune", str(history), "--config", str(CONFIG), "--truth", str(truth), "--apply", str(config),
                 "-o", str(snippet)]) == 0
    assert "written to" in capsys.readouterr().err
    before, after = CONFIG.read_text(encoding="utf-8").splitlines(), config.read_text(encoding="utf-8").splitlines()
    added = [line for line in after if line not in before]
    assert len(after) == len(before) + 1 and added == [_profile_line(snippet.read_text(), ZONE)]
    assert load_hub(config).zone(ZONE).profile.vacancy_timeout_s is not None


@pytest.mark.parametrize(("truth", "message"), [
    ("space,start,end\nkontoret,2026-11-30T08:00:00Z,2026-11-30T09:00:00Z\n", "truth.csv:2: space 'kontoret'"),
    ("space,start,end\nlagerelden,2026-11-30T08:00:00,2026-11-30T09:00:00Z\n", "has no UTC offset"),
    ("zone,from,to\n", "needs the columns space,start,end"),
])
def test_bad_truth_is_one_line_and_exit_2(tmp_path: Path, capsys, truth: str, message: str) -> None:
    history, _ = _history(tmp_path, visits=2)
    (tmp_path / "truth.csv").write_text(truth, encoding="utf-8")
    assert main(["tune", str(history), "--config", str(CONFIG), "--truth", str(tmp_path / "truth.csv")]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and message in err


def test_apply_to_another_hubs_file_is_refused(tmp_path: Path, capsys) -> None:
    history, truth = _history(tmp_path, visits=4)
    other = tmp_path / "ostersund.toml"
    other.write_text((DEFAULT_CONFIG_DIR / "ostersund.toml").read_text(encoding="utf-8"), encoding="utf-8")
    unchanged = other.read_text(encoding="utf-8")
    assert main(["tune", str(history), "--config", str(CONFIG), "--truth", str(truth), "--apply", str(other)]) == 2
    assert "nothing to write for hub 'ostersund'" in capsys.readouterr().err
    assert other.read_text(encoding="utf-8") == unchanged
