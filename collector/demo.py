"""``hubsense demo``: a private Mosquitto, the collector on SQLite with simulated
history, and simulated agents (real agent code on gpiozero mock pins) for every
hub in the config.  Ctrl-C stops everything it started."""

from __future__ import annotations

import argparse
import logging
import sys
import threading

import uvicorn

from collector.cli import settings_from_args
from collector.engine import resolve
from collector.service import GRACEFUL_SHUTDOWN_S, Collector
from hubsense.config import ConfigError, Hub, Profile, load_hubs
from hubsense.services import Mosquitto, ServiceError, port_in_use

log = logging.getLogger("hubsense.demo")


def run_demo(args: argparse.Namespace) -> int:
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    broker = Mosquitto(workdir / "mosquitto")
    try:
        settings = settings_from_args(args, sqlite_path=args.db or workdir / "hubsense.sqlite3", demo=True)
        if port_in_use(settings.http_port, settings.http_host):
            print(f"error: port {settings.http_port} is already in use; try: hubsense demo --port 8001",
                  file=sys.stderr)
            return 2
        broker.start()
        settings = settings.model_copy(update={"mqtt_host": "127.0.0.1", "mqtt_port": broker.port})
        hubs = load_hubs(settings.config_paths)
        collector = Collector.build(settings, profiles=time_compressed_profiles(hubs, args.speed))
    except (ServiceError, ConfigError) as exc:
        broker.stop()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _history(collector, args.history_days)
    stop = threading.Event()
    agents = _start_agents(collector, broker.port, args.speed, stop)
    print(f"\n  hubsense demo: dashboard on http://localhost:{settings.http_port}/"
          f"\n  MQTT broker on 127.0.0.1:{broker.port}; Ctrl-C stops everything.\n", flush=True)
    try:
        config = uvicorn.Config(collector.app, host=settings.http_host, port=settings.http_port,
                                log_level="warning", access_log=False,
                                timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S)
        uvicorn.Server(config).run()
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


def _start_agents(collector: Collector, port: int, speed: float, stop: threading.Event) -> list[threading.Thread]:
    from edge.simulate import run_simulated_hub

    threads = []
    for i, hub in enumerate(collector.hubs.values()):
        t = threading.Thread(
            target=run_simulated_hub, args=(hub, "127.0.0.1", port, speed, i + 1, stop),
            name=f"sim-{hub.id}", daemon=True,
        )
        t.start()
        threads.append(t)
    return threads
