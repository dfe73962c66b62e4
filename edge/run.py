"""The running agent, in a process that never imported pydantic.

``hubsense agent`` first checks everything with the full models (the hub config, the settings, the
agent id: one-line errors, exit status 2), then replaces itself with ``python -m edge.run FD``
(``os.execv``: the same process, so systemd, signals and the PID see no difference) and hands over
on a pipe (file descriptor ``FD``) what it checked: the agent's layout (:mod:`edge.layout`), its
settings, logging and ``--duration``.  The new image imports only what the agent runs on:
paho-mqtt, gpiozero, sqlite3 and :mod:`hubsense.wire`, about 10 MB less than the checking did (the
Raspberry Pi budget, docs/raspberry-pi.md); the password travels on the pipe, not on the command
line.  ``tests/edge/test_run.py`` checks which modules and shared libraries the running agent has.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import time

from edge.layout import AgentLayout
from edge.settings import AgentSettings
from edge.systemd import notifier
from hubsense.logs import setup_logging

EXIT_USAGE = 2


def handoff(layout: AgentLayout, settings: AgentSettings, log_level: str, log_json: bool,
            duration: float | None) -> None:
    """Become the running agent (does not return)."""
    read, write = os.pipe()
    data = json.dumps({"layout": layout.to_dict(), "settings": settings.to_dict(), "log_level": log_level,
                       "log_json": log_json, "duration": duration}).encode()
    with os.fdopen(write, "wb") as pipe:  # a few hundred bytes: far below the pipe's buffer
        pipe.write(data)
    os.set_inheritable(read, True)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "edge.run", str(read)])


def main(argv: list[str]) -> int:
    with os.fdopen(int(argv[0]), "rb") as pipe:
        spec = json.loads(pipe.read())
    setup_logging(spec["log_level"], json=spec["log_json"])
    return run(AgentLayout.from_dict(spec["layout"]), AgentSettings(**spec["settings"]), spec["duration"])


def run(layout: AgentLayout, settings: AgentSettings, duration: float | None) -> int:
    """Run the agent until SIGINT / SIGTERM (or ``duration`` s); 2 if its sensors cannot be opened."""
    from edge.agent import Agent
    from edge.sensors import PinFactoryError, make_pin_factory

    stop = stop_on_signals()
    try:
        agent = Agent(layout, layout.id, settings, pin_factory=make_pin_factory(settings.pin_factory))
        agent.start()
    except PinFactoryError as exc:
        return _usage(f"{exc} (use --pin-factory mock off a Raspberry Pi)")
    except Exception as exc:
        return _usage(f"cannot open the sensors of agent {layout.id}: {exc}")
    notifier().ready(f"agent {layout.id}: sensors open")  # systemd Type=notify (no-op elsewhere)
    deadline = None if duration is None else time.monotonic() + duration
    try:
        if not agent.wait_connected(1.0):
            _warn_unconnected(agent, layout, settings)
        stop.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
    finally:
        notifier().stopping()
        agent.stop()
    return 0


def _warn_unconnected(agent, layout: AgentLayout, settings: AgentSettings) -> None:
    why = broker_refuses(settings.broker_host, settings.broker_port)
    if why:
        print(f"warning: {refused_message(settings, why)} The agent keeps retrying with backoff; "
              f"events wait in the queue {settings.resolved_queue_path(layout.hub, layout.id)}.",
              file=sys.stderr, flush=True)
    elif agent.last_error:
        print(f"warning: {agent.last_error}", file=sys.stderr, flush=True)


def _usage(message: str) -> int:
    print(f"error: {message}", file=sys.stderr, flush=True)
    return EXIT_USAGE


def stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def broker_refuses(host: str, port: int) -> str | None:
    """Why a TCP connection to the broker fails, or None if it is accepted."""
    try:
        with socket.create_connection((host, port), timeout=3):
            return None
    except OSError as exc:
        return exc.strerror or str(exc)


def refused_message(settings: AgentSettings, why: str) -> str:
    return (f"MQTT broker {settings.broker_host}:{settings.broker_port} is not reachable ({why}); "
            "is Mosquitto running there, and is --broker right?")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
