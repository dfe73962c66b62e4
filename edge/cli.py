"""``hubsense agent``: run a sensor agent, a walk test (``--check``) or a simulation (``--simulate``)."""

from __future__ import annotations

import argparse
import os
import sys
import threading
import warnings
from pathlib import Path

from edge.run import broker_refuses, refused_message, stop_on_signals
from edge.settings import PIN_FACTORIES, AgentSettings
from hubsense.config import DEFAULT_CONFIG_DIR, Agent, Hub, load_hubs
from hubsense.logs import setup_logging

EXIT_USAGE = 2


class UsageError(Exception):
    """A bad option or config: printed as 'error: ...' with exit status 2."""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "agent", help="run the sensor agent of one Raspberry Pi (or --check wiring, or --simulate)",
        description="Publish the sensors of one agent of the hub config to MQTT.",
    )
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG_DIR,
                   help="hub config file or directory of *.toml (default: %(default)s)")
    p.add_argument("--hub", help="hub id (needed only if the agent id is not unique across hubs)")
    p.add_argument("--agent", help="agent id from the config (all agents of the hub with --simulate)")
    p.add_argument("--broker", default="127.0.0.1:1883", metavar="HOST:PORT",
                   help="MQTT broker (default: %(default)s)")
    p.add_argument("--username", help="MQTT user name")
    p.add_argument("--password", help="MQTT password (or set HUBSENSE_MQTT_PASSWORD)")
    p.add_argument("--ca-file", type=Path, help="CA certificate: connect over TLS")
    p.add_argument("--certfile", type=Path, help="TLS client certificate")
    p.add_argument("--keyfile", type=Path, help="TLS client key")
    p.add_argument("--queue", type=Path, help="store-and-forward queue file (SQLite)")
    p.add_argument("--queue-max", type=int, default=10_000, help="queue bound in events (default: %(default)s)")
    p.add_argument("--heartbeat", type=float, default=60.0, help="heartbeat interval in seconds")
    p.add_argument("--pin-factory", choices=PIN_FACTORIES,
                   help="gpiozero pin factory (default: $GPIOZERO_PIN_FACTORY or gpiozero's choice)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="walk test: print sensor changes, no broker")
    mode.add_argument("--simulate", action="store_true", help="drive mock pins from a simulated day")
    p.add_argument("--speed", type=float, default=60.0, help="--simulate: simulated seconds per real second")
    p.add_argument("--seed", type=int, default=None, help="--simulate: random seed")
    p.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    p.add_argument("-v", "--verbose", action="store_true", help="log every event")
    p.add_argument("--log-json", action="store_true", help="log one JSON object per line (journald, Loki)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    setup_logging("DEBUG" if args.verbose else "INFO", json=args.log_json)
    hubs = load_hubs([args.config])  # a ConfigError is reported by the entry point (hubsense.cli)
    try:
        settings = _settings(args)
        targets = _select(hubs, args.hub, args.agent, need_agent=not args.simulate)
        if args.check:
            return _check(targets[0][0].agent(args.agent), settings, args.duration)
        if args.simulate:
            return _simulate(targets, settings, args)
        hub, _ = targets[0]
        return _run_agent(hub, args.agent, settings, args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _settings(args: argparse.Namespace) -> AgentSettings:
    host, sep, port = args.broker.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise UsageError(f"--broker must be HOST:PORT, not {args.broker!r}")
    try:
        return AgentSettings(
            broker_host=host, broker_port=int(port), username=args.username,
            password=args.password or os.environ.get("HUBSENSE_MQTT_PASSWORD"),
            ca_file=args.ca_file, certfile=args.certfile, keyfile=args.keyfile,
            queue_path=args.queue, queue_max_events=args.queue_max, heartbeat_interval_s=args.heartbeat,
            pin_factory=args.pin_factory,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _select(hubs: dict[str, Hub], hub_id: str | None, agent_id: str | None,
            need_agent: bool) -> list[tuple[Hub, list[str] | None]]:
    """(hub, agent ids or None for all) pairs the command applies to."""
    if hub_id is not None and hub_id not in hubs:
        raise UsageError(f"unknown hub {hub_id!r}; known hubs: {', '.join(sorted(hubs))}")
    candidates = [hubs[hub_id]] if hub_id else list(hubs.values())
    if agent_id is None:
        if need_agent:
            raise UsageError("--agent is required (known agents: " + _known(candidates) + ")")
        return [(h, None) for h in candidates]
    matches = [h for h in candidates if any(a.id == agent_id for a in h.agents)]
    if not matches:
        raise UsageError(f"unknown agent {agent_id!r}; known agents: {_known(candidates)}")
    if len(matches) > 1:
        raise UsageError(f"agent {agent_id!r} exists in hubs {', '.join(h.id for h in matches)}; pass --hub")
    return [(matches[0], [agent_id])]


def _known(hubs: list[Hub]) -> str:
    return ", ".join(f"{h.id}/{a.id}" for h in hubs for a in h.agents) or "none"


def _pin_factory(settings: AgentSettings):
    from edge.sensors import PinFactoryError, make_pin_factory

    try:
        return make_pin_factory(settings.pin_factory)
    except PinFactoryError as exc:
        raise UsageError(f"{exc} (use --pin-factory mock off a Raspberry Pi)") from None


NO_PIN_FACTORY = ("no GPIO pin factory works here: on a Raspberry Pi install lgpio (pip install 'hubsense[pi]', "
                  "docs/raspberry-pi.md); off a Pi, try the walk test on mock pins with --pin-factory mock")


def _check(agent: Agent, settings: AgentSettings, duration: float | None = None) -> int:
    from gpiozero.exc import BadPinFactory, PinFactoryFallback

    from edge.walktest import walk_lines

    stop = stop_on_signals()
    if duration is not None:
        timer = threading.Timer(duration, stop.set)
        timer.daemon = True
        timer.start()
    try:
        with warnings.catch_warnings():  # gpiozero's four "falling back from ..." warnings: one message instead
            warnings.simplefilter("ignore", PinFactoryFallback)
            for line in walk_lines(agent, _pin_factory(settings), stop):
                print(line, flush=True)
    except UsageError:
        raise
    except BadPinFactory:
        raise UsageError(NO_PIN_FACTORY) from None
    except Exception as exc:  # gpiozero errors: pin in use, no access to /dev/gpiochip0, ...
        raise UsageError(f"cannot open the sensors: {exc}") from None
    return 0


def _run_agent(hub: Hub, agent_id: str, settings: AgentSettings, args: argparse.Namespace) -> int:
    """Everything is checked: become the running agent, a process without pydantic (edge/run.py)."""
    from edge.layout import layout_of
    from edge.run import handoff

    handoff(layout_of(hub, agent_id), settings, "DEBUG" if args.verbose else "INFO", args.log_json, args.duration)
    return 0  # not reached: handoff replaces this process


def _simulate(targets: list[tuple[Hub, list[str] | None]], settings: AgentSettings,
              args: argparse.Namespace) -> int:
    from edge.simulate import run_simulated_hub

    why = broker_refuses(settings.broker_host, settings.broker_port)
    if why:
        raise UsageError(refused_message(settings, why))
    if settings.queue_path is None:
        settings = settings.replace(queue_path=Path(":memory:"))
    stop = stop_on_signals()
    threads = []
    for i, (hub, agent_ids) in enumerate(targets):
        seed = None if args.seed is None else args.seed + i
        t = threading.Thread(
            target=run_simulated_hub, args=(hub, settings.broker_host, settings.broker_port, args.speed, seed, stop),
            kwargs={"agent_ids": agent_ids, "settings": settings}, name=f"sim-{hub.id}", daemon=True,
        )
        t.start()
        threads.append(t)
    stop.wait(args.duration)
    stop.set()
    for t in threads:
        t.join(15)
    return 0
