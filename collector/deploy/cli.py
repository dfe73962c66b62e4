"""``hubsense deploy init [--check | --rotate]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("deploy", help="the hub server's deployment folder for docker-compose.yml")
    dsub = p.add_subparsers(dest="deploy_command", required=True)
    i = dsub.add_parser("init", help="write .env, broker users and ACL, the first manager token (idempotent)",
                        description="Make the deployment folder ready for 'docker compose up': .env with "
                        "generated secrets, broker users and ACL for every hub (hubsense provision), the first "
                        "manager token (printed once), owners and modes of ./secrets.  Existing secrets are kept.")
    i.add_argument("--out", type=Path, default=Path("."), metavar="DIR",
                   help="the deployment folder: the checkout with docker-compose.yml (default: .)")
    i.add_argument("--hubs", nargs="+", metavar="HUB", default=None,
                   help="only these hubs (default: every hub in firmware_config/)")
    i.add_argument("--config", dest="config_paths", type=Path, action="append",
                   help="hub config file or directory (default: DIR/firmware_config)")
    i.add_argument("--server", default=None, metavar="HOST",
                   help="this server's name or address as the Raspberry Pis reach it (default: kept, else the "
                   "host name)")
    i.add_argument("--mqtt-bind", default=None, metavar="ADDRESS",
                   help="host address plain MQTT is published on: the LAN address (default: kept, else 127.0.0.1)")
    mode = i.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="only validate the folder; change nothing")
    mode.add_argument("--rotate", action="store_true",
                      help="new broker passwords for every user, new InfluxDB passwords for the collector and "
                      "Grafana, a new first manager token")
    i.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.check:
        return _check(args.out)
    from collector.deploy.init import DeployError, init_deployment

    try:
        result = init_deployment(args.out, hubs=args.hubs, config_paths=args.config_paths, server=args.server,
                                 mqtt_bind=args.mqtt_bind, rotate=args.rotate)
    except DeployError as exc:  # a ConfigError is reported by the command line entry point (hubsense.cli)
        print("\n".join(f"error: {e}" for e in exc.errors), file=sys.stderr)
        return 2
    for line in result.lines:
        print(line, file=sys.stderr)
    for line in result.warnings:
        print(f"warning: {line}", file=sys.stderr)
    if result.manager_token:
        print("The facility manager's API token (open /manager and paste it; shown only now, store it in a "
              "password manager):", file=sys.stderr)
        print(result.manager_token)
    if args.rotate:
        print("rotated: apply with 'docker compose up -d --force-recreate', then install the new "
              "secrets/agents/HUB/AGENT.toml (or .env) files on every Raspberry Pi", file=sys.stderr)
    else:
        print("next: docker compose up -d --build", file=sys.stderr)
    return 0


def _check(out: Path) -> int:
    from collector.deploy.check import check_deployment

    result = check_deployment(out)
    for line in result.errors:
        print(f"error: {line}", file=sys.stderr)
    for line in result.warnings:
        print(f"warning: {line}", file=sys.stderr)
    if not result.ok:
        print(f"{len(result.errors)} problem(s) in {out.resolve()}; nothing was changed", file=sys.stderr)
        return 2
    print(f"ok: {out.resolve()} is ready for docker compose up ({'; '.join(result.facts)})", file=sys.stderr)
    return 0
