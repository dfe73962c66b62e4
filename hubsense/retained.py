"""``hubsense mqtt retained`` / ``hubsense mqtt clear-retained``: list or remove what the broker keeps.

Retained messages outlive their publisher: a removed agent's last ``status``, an event published
with the retain flag by mistake, junk under an agent's prefix.  The broker hands them to every new
subscriber, so the collector sees them again at every start (it counts them apart, under
``retained`` in ``/healthz``).  This command lists the retained messages under topic filters and,
with ``clear-retained``, replaces each with an empty retained message, which deletes it.

It logs in as ``hubsense-admin`` from ``hubsense provision``'s ``credentials.json`` (``--secrets``;
the only user that may write every hubsense topic, never installed on a Pi or the collector), or
as ``--username`` / ``--password``.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt

from hubsense.mqtt_client import make_client
from hubsense.provision import ADMIN_USER

QUIET_S = 0.5  # retained messages come right after the SUBACK; this long without one means all are in


class RetainedError(Exception):
    pass


def find_retained(client: mqtt.Client, filters: list[str], timeout: float = 10.0) -> dict[str, bytes]:
    """Subscribe to ``filters`` on a connected client (loop running) and collect the retained messages."""
    found: dict[str, bytes] = {}
    done = threading.Event()
    last = [time.monotonic()]

    def on_message(_c, _u, message: mqtt.MQTTMessage) -> None:
        if message.retain and message.payload:
            found[message.topic] = message.payload
        last[0] = time.monotonic()

    def on_subscribe(_c, _u, _mid, reason_codes, _props) -> None:
        refused = [f for f, rc in zip(filters, reason_codes, strict=False) if rc.is_failure]
        if refused:
            print(f"warning: the broker refused to list {', '.join(refused)} for this user", file=sys.stderr)
        last[0] = time.monotonic()
        done.set()

    client.on_message = on_message
    client.on_subscribe = on_subscribe
    client.subscribe([(f, 1) for f in filters])
    if not done.wait(timeout):
        raise RetainedError("no SUBACK from the broker")
    while time.monotonic() - last[0] < QUIET_S:
        time.sleep(0.05)
    client.unsubscribe(filters)
    return found


def clear(client: mqtt.Client, topics: list[str], timeout: float = 10.0) -> list[str]:
    """Delete the retained message of each topic; returns those the broker refused (MQTT v5 reason)."""
    refused: list[str] = []
    pending: dict[int, str] = {}
    lock = threading.Lock()

    def on_publish(_c, _u, mid, reason_code, _props) -> None:
        with lock:
            topic = pending.pop(mid, None)
            if topic is not None and reason_code.is_failure:
                refused.append(topic)

    client.on_publish = on_publish
    for topic in topics:
        with lock:
            pending[client.publish(topic, b"", qos=1, retain=True).mid] = topic
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        time.sleep(0.02)
    if pending:
        raise RetainedError(f"no PUBACK for {len(pending)} topic(s)")
    return refused


def _login(args: argparse.Namespace) -> tuple[str, str, str, int]:
    """(user, password, host, port) from --secrets or --username/--password and --broker."""
    host, port = "127.0.0.1", 1883
    user, password = args.username, args.password
    if args.secrets is not None:
        creds = json.loads((args.secrets / "credentials.json").read_text(encoding="utf-8"))["users"]
        if ADMIN_USER not in creds:
            raise RetainedError(f"{args.secrets}/credentials.json has no {ADMIN_USER}: run 'hubsense provision' again")
        user, password = user or ADMIN_USER, password or creds[ADMIN_USER]["password"]
        env = args.secrets / "collector.env"
        if env.exists():
            values = dict(line.split("=", 1) for line in env.read_text().splitlines() if "=" in line)
            host, port = values.get("HUBSENSE_MQTT_HOST", host), int(values.get("HUBSENSE_MQTT_PORT", port))
    if args.broker:
        h, _, p = args.broker.rpartition(":")
        if not h or not p.isdigit():
            raise RetainedError(f"--broker must be HOST:PORT, not {args.broker!r}")
        host, port = h, int(p)
    return user, password, host, port


def _run(args: argparse.Namespace) -> int:
    try:
        user, password, host, port = _login(args)
        client = make_client("", username=user, password=password, ca_file=args.tls_ca)
        connected = threading.Event()
        client.on_connect = lambda _c, _u, _f, rc, _p: connected.set() if not rc.is_failure else None
        client.connect(host, port)
        client.loop_start()
        try:
            if not connected.wait(10):
                raise RetainedError(f"could not log in to the broker at {host}:{port} as {user or 'anonymous'}")
            found = find_retained(client, args.filters)
            for topic in sorted(found):
                print(f"{topic}\t{found[topic][:120].decode('utf-8', 'replace')!r}")
            if args.clear and found:
                refused = clear(client, sorted(found))
                for topic in refused:
                    print(f"error: the broker refused to clear {topic}", file=sys.stderr)
                print(f"cleared {len(found) - len(refused)} retained message(s)", file=sys.stderr)
                return 1 if refused else 0
            if not found:
                print("no retained messages", file=sys.stderr)
            return 0
        finally:
            client.disconnect()
            client.loop_stop()
    except (RetainedError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("mqtt", help="broker maintenance: list or clear retained messages")
    msub = p.add_subparsers(dest="mqtt_command", required=True)
    for name, clearing in (("retained", False), ("clear-retained", True)):
        c = msub.add_parser(name, help=("delete" if clearing else "list") + " the retained messages under topic "
                            "filters (e.g. 'hubsense/stockholm/old-pi/#')")
        c.add_argument("filters", nargs="+", metavar="FILTER", help="MQTT topic filter(s), wildcards allowed")
        c.add_argument("--secrets", type=Path, default=None, metavar="DIR",
                       help=f"'hubsense provision' output: log in as {ADMIN_USER}, broker from collector.env")
        c.add_argument("--broker", default=None, metavar="HOST:PORT", help="broker address (default 127.0.0.1:1883)")
        c.add_argument("--username", default=None)
        c.add_argument("--password", default=None)
        c.add_argument("--tls-ca", type=Path, default=None, metavar="PATH", help="CA certificate: connect over TLS")
        c.set_defaults(func=_run, clear=clearing)
