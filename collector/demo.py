"""``hubsense demo``: a private Mosquitto, the collector on SQLite with simulated
history, and simulated agents (real agent code on gpiozero mock pins) for every
hub in the config.  Ctrl-C stops everything it started."""

from __future__ import annotations

import argparse
import logging
import sys
import threading

from collector.engine import resolve
from collector.service import Collector, PortInUse, check_port
from collector.settings import settings_from_args
from edge.simulate import start_simulated_hubs
from hubsense.config import Hub, Profile, load_hubs
from hubsense.services import Mosquitto, ServiceError

log = logging.getLogger("hubsense.demo")


def run_demo(args: argparse.Namespace) -> int:
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    broker = Mosquitto(workdir / "mosquitto")
    try:
        settings = settings_from_args(args, sqlite_path=args.db or workdir / "hubsense.sqlite3", demo=True)
        check_port(settings)
        hubs = load_hubs(settings.config_paths)
        broker.start()
        settings = settings.model_copy(update={"mqtt_host": "127.0.0.1", "mqtt_port": broker.port})
        collector = Collector.build(settings, profiles=time_compressed_profiles(hubs, args.speed), hubs=hubs)
    except (ServiceError, PortInUse) as exc:
        broker.stop()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception:
        broker.stop()
        raise  # a config error is reported by the command line entry point (hubsense.cli)
    _history(collector, args.history_days)
    stop = threading.Event()
    agents = start_simulated_hubs(collector.hubs, broker.port, args.speed, stop)
    print(f"\n  hubsense demo: dashboard on http://localhost:{settings.http_port}/"
          f"\n  MQTT broker on 127.0.0.1:{broker.port}; Ctrl-C stops everything.\n", flush=True)
    try:
        collector.serve()
    finally:
        stop.set()
        for t in agents:
            t.join(10)
        broker.stop()
    return 0


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


def _history(collector: Collector, days: int) -> None:
    if days <= 0 or collector.store.event_count() > 0:
        return
    from collector.simulate import simulate_history

    log.info("generating %d days of simulated history", days)
    simulate_history(collector.hubs, collector.store, days=days)
