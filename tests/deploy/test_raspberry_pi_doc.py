"""docs/raspberry-pi.md: the wiring it shows is the wiring the hub config declares."""

from __future__ import annotations

import re
from pathlib import Path

from hubsense.config import Hub
from hubsense.protocol import SensorKind

DOC = Path(__file__).resolve().parents[2] / "docs" / "raspberry-pi.md"
# BCM GPIO -> physical pin on the 40-pin header (all Pis since the B+)
HEADER = {2: 3, 3: 5, 4: 7, 17: 11, 27: 13, 22: 15, 10: 19, 9: 21, 11: 23, 0: 27, 5: 29, 6: 31, 13: 33,
          19: 35, 26: 37, 14: 8, 15: 10, 18: 12, 23: 16, 24: 18, 25: 22, 8: 24, 7: 26, 1: 28, 12: 32,
          16: 36, 20: 38, 21: 40}
GROUND = {6, 9, 14, 20, 25, 30, 34, 39}
FIVE_VOLT = {2, 4}


def _rows(text: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip().strip("|").split("|")] for line in text.splitlines()
            if line.startswith("|") and not line.startswith("|---")]


def test_sensor_table_matches_the_hub_config(stockholm: Hub) -> None:
    agent = stockholm.agent("sthlm-pi-rum")
    rows = [r for r in _rows(DOC.read_text()) if len(r) == 4 and r[0] in {s.id for s in agent.sensors}]
    assert {r[0] for r in rows} == {s.id for s in agent.sensors}
    for sensor_id, kind, gpio, header in rows:
        sensor = next(s for s in agent.sensors if s.id == sensor_id)
        assert (kind, int(gpio), int(header)) == (sensor.kind.value, sensor.pin, HEADER[sensor.pin]), sensor_id


def test_wiring_examples_use_the_example_agents_first_pir_and_door(stockholm: Hub) -> None:
    sensors = stockholm.agent("sthlm-pi-rum").sensors
    pir = next(s for s in sensors if s.kind is SensorKind.PIR)
    door = next(s for s in sensors if s.kind is SensorKind.DOOR)
    assert door.effective_pull_up  # the doc says: internal pull-up, active low
    text = DOC.read_text()
    pir_part = text[text.index("### PIR"):text.index("### Door")]
    door_part = text[text.index("### Door"):text.index("## 4.")]
    assert f"OUT | GPIO {pir.pin} (header pin {HEADER[pir.pin]})" in pir_part
    assert {int(p) for p in re.findall(r"5 V\*\* \(header pin (\d+) or (\d+)\)", pir_part)[0]} <= FIVE_VOLT
    assert int(re.search(r"GND \| GND \(header pin (\d+)\)", pir_part).group(1)) in GROUND
    assert f"one leg | GPIO {door.pin} (header pin {HEADER[door.pin]})" in door_part
    assert int(re.search(r"other leg \| GND \(header pin (\d+)\)", door_part).group(1)) in GROUND
