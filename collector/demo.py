"""``hubsense demo``: a private Mosquitto, the collector on SQLite with simulated
history, and simulated agents (real agent code on gpiozero mock pins) for every
hub in the config.  Ctrl-C or SIGTERM (kill, systemd, docker) stops everything it
started: agents first, then the collector, the broker last.

The data stays in ``--workdir`` (default ``var/demo``); a later run fills the time since
the last one with simulated history (no gap), ``--reset`` starts afresh."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from collector.engine import resolve
from collector.service import Collector, PortInUse, check_port
from collector.settings import settings_from_args
from edge.simulate import start_simulated_hubs
from hubsense.config import Hub, Profile, load_hubs
from hubsense.services import Mosquitto, ServiceError

log = logging.getLogger("hubsense.demo")


def _interrupt(*_) -> None:
    raise KeyboardInterrupt  # SIGTERM ends the demo like Ctrl-C: every finally block runs


def run_demo(args: argparse.Namespace) -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    db = args.db or workdir / "hubsense.sqlite3"
    if args.reset:
        for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            path.unlink(missing_ok=True)
    broker = Mosquitto(workdir / "mosquitto", port=args.mqtt_port or 0)
    try:
        settings = settings_from_args(args, sqlite_path=db, demo=True)
        check_port(settings)
        hubs = load_hubs(settings.config_paths)
        broker.start()
        settings = settings.model_copy(update={"mqtt_host": "127.0.0.1", "mqtt_port": broker.port})
        collector = Collector.build(settings, profiles=time_compressed_profiles(hubs, args.speed), hubs=hubs)
    except PortInUse as exc:
        broker.stop()
        print(f"error: {exc}; or: {_command()} --port 8001 (make demo PORT=8001)", file=sys.stderr)
        return 2
    except ServiceError as exc:
        broker.stop()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BaseException:
        broker.stop()
        raise  # a config error is reported by the command line entry point (hubsense.cli)
    stop = threading.Event()
    agents: list[threading.Thread] = []
    try:
        _history(collector, args.history_days, datetime.now(UTC))
        agents = start_simulated_hubs(collector.hubs, broker.port, args.speed, stop)
        print(f"\n  hubsense demo: dashboard on http://localhost:{settings.http_port}/ (simulated data)"
              f"\n  MQTT broker on 127.0.0.1:{broker.port}; data in {db} (--reset starts afresh)"
              f"\n  Ctrl-C stops everything.\n", flush=True)
        collector.serve()
    finally:
        stop.set()  # agents first, so nothing is left talking to the broker when it stops
        for t in agents:
            t.join(10)
        broker.stop()
    return 0


def _command() -> str:
    """How this demo was started, as a command line that works from here ('.venv/bin/hubsense demo')."""
    exe = Path(sys.argv[0])
    with contextlib.suppress(ValueError):
        exe = exe.resolve().relative_to(Path.cwd())
    return f"{exe} demo" if exe.name == "hubsense" else "hubsense demo"


def time_compressed_profiles(hubs: dict[str, Hub], speed: float) -> dict[str, dict[str, Profile]]:
    """Zone timeouts divided by the simulation speed, so a compressed day looks like a real one."""
    out: dict[str, dict[str, Profile]] = {}
    for hub in hubs.values():
        out[hub.id] = {}
        for zone in hub.zones:
            p = resolve(zone)
            out[hub.id][zone.id] = Profile(
                vacancy_timeout_s=max(p.vacancy_timeout_s / speed, 3.0),
                door_exit_window_s=max(p.door_exit_window_s / speed, 3.0),
                max_occupied_s=max(p.max_occupied_s / speed, 60.0),
                stuck_after_s=max(p.stuck_after_s / speed, 600.0),
            )
    return out


GAP_FILL_AFTER_S = 600.0  # a second run fills the time since the first (no hole in the statistics)


def _history(collector: Collector, days: int, now: datetime) -> None:
    """``days`` of simulated history on a fresh database; on a later run, the time since the last one."""
    if days <= 0:
        return
    from collector.simulate import simulate_history

    store = collector.store
    if store.event_count() == 0:
        log.info("generating %d days of simulated history", days)
        simulate_history(collector.hubs, store, days=days, end=now)
        return
    last = max((h.at for hub in collector.hubs for h in store.latest_health(hub)), default=None)
    if last is None or (now - last).total_seconds() < GAP_FILL_AFTER_S:
        return
    gap_days = min((now - last).total_seconds() / 86400, days)
    log.info("filling the %.1f days since the demo last ran with simulated history", gap_days)
    simulate_history(collector.hubs, store, days=gap_days, end=now)
