"""Browser-test fixtures: a real collector (Mosquitto ingest, SQLite, API, dashboard) served by
uvicorn in a thread, with history, and one headless Debian Chromium per module."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
import pytest

from collector.model import OccupancyState, StateChange
from collector.service import Collector
from collector.store.base import Store
from hubsense.config import DEFAULT_CONFIG_DIR, WEEKDAYS, Hub
from hubsense.protocol import AgentState, AgentStatus, MessageKind, SensorEvent, encode, topic
from hubsense.services import launch_chromium
from tests.support import RunningCollector, collector_settings

HISTORY_DAYS = 3
CLOSED_HUB = "skogsby"  # a hub of the test config that is closed whenever the tests run
ALWAYS_OPEN = ('[[opening_hours]]\ndays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n'
               'open = 00:00:00\nclose = 23:59:59.999999\n\n')


def round_the_clock_configs(directory: Path, now: datetime) -> Path:
    """The real hub configs, open round the clock (so the live board shows whatever the time of day),
    plus a copy of Östersund that opens only the day after tomorrow at 07:00."""
    directory.mkdir(parents=True, exist_ok=True)
    hours = re.compile(r"\[\[opening_hours\]\]\n(?:[^\[\n].*\n|\n)*")
    for path in sorted(DEFAULT_CONFIG_DIR.glob("*.toml")):
        text = path.read_text(encoding="utf-8")
        first = hours.search(text).start()
        (directory / path.name).write_text(text[:first] + ALWAYS_OPEN + hours.sub("", text[first:]), encoding="utf-8")
    text = (DEFAULT_CONFIG_DIR / "ostersund.toml").read_text(encoding="utf-8")
    day = WEEKDAYS[(now.astimezone(ZoneInfo("Europe/Stockholm")).weekday() + 2) % 7]
    closed = f'[[opening_hours]]\ndays = ["{day.value}"]\nopen = 07:00:00\nclose = 19:00:00\n\n'
    text = text.replace('id = "ostersund"', f'id = "{CLOSED_HUB}"', 1).replace("Hubsense Östersund", "Hubsense Skogsby")
    first = hours.search(text).start()
    (directory / "zz-skogsby.toml").write_text(text[:first] + closed + hours.sub("", text[first:]), encoding="utf-8")
    return directory


def add_history(collector: Collector, days: int) -> bool:
    """Simulated history (if the simulator is available); True if any was added."""
    if days <= 0:
        return False
    try:
        from collector.simulate import simulate_history
    except ImportError:
        return False
    simulate_history(collector.hubs, collector.store, days=days)
    return True


def seed_history(hubs: dict[str, Hub], store: Store, days: int, now: datetime) -> None:
    """Fallback history when the simulator is not there: every zone and desk occupied
    10:00-12:00 UTC on each of the last ``days`` days, free the rest of the day."""
    changes = []
    for hub in hubs.values():
        for back in range(days, 0, -1):
            day = (now - timedelta(days=back)).replace(hour=0, minute=0, second=0, microsecond=0)
            for zone in hub.zones:
                for desk in [None, *(d.id for d in zone.desks)]:
                    for at, state in ((day, OccupancyState.FREE), (day + timedelta(hours=10), OccupancyState.OCCUPIED),
                                      (day + timedelta(hours=12), OccupancyState.FREE)):
                        changes.append(StateChange(hub.id, zone.id, desk, state, at, "seed"))
    changes.sort(key=lambda c: c.at)
    store.add_changes(changes)


@pytest.fixture(scope="module")
def server(broker, tmp_path_factory) -> Iterator[RunningCollector]:
    work = tmp_path_factory.mktemp("dashboard")
    configs = round_the_clock_configs(work / "config", datetime.now(UTC))
    settings = collector_settings(broker, work, config_paths=[configs], default_hub="stockholm", demo=True)
    with Collector.build(settings).serving() as collector:
        if not add_history(collector, HISTORY_DAYS):
            seed_history(collector.hubs, collector.store, HISTORY_DAYS, datetime.now(UTC))
        yield RunningCollector(collector, collector.url)


@pytest.fixture(scope="module")
def chromium() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    yield page
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


class Publisher:
    """Publishes protocol messages as an agent would (paho, QoS 1, statuses retained)."""

    def __init__(self, port: int) -> None:
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"dash-test-{secrets.token_hex(4)}")
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.boot = secrets.token_hex(4)
        self.seq = 0
        self.retained: set[str] = set()

    def status(self, hub: str, agent: str, state: AgentState) -> None:
        msg = AgentStatus(hub=hub, agent=agent, boot=self.boot, state=state, ts=datetime.now(UTC))
        name = topic(hub, agent, MessageKind.STATUS)
        self.client.publish(name, encode(msg), qos=1, retain=True).wait_for_publish(5)
        self.retained.add(name)

    def event(self, hub: str, agent: str, sensor: str, kind: str, state: str) -> None:
        self.seq += 1
        msg = SensorEvent(hub=hub, agent=agent, boot=self.boot, sensor=sensor, kind=kind, state=state,
                          ts=datetime.now(UTC), seq=self.seq)
        self.client.publish(topic(hub, agent, MessageKind.EVENT), encode(msg), qos=1).wait_for_publish(5)

    def close(self) -> None:
        for name in self.retained:  # leave no retained status behind on the shared broker
            self.client.publish(name, b"", qos=1, retain=True).wait_for_publish(5)
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def publisher(broker) -> Iterator[Publisher]:
    pub = Publisher(broker.port)
    yield pub
    pub.close()
