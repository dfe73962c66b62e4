"""The ``hubsense`` command.  Each subcommand lives in the module that owns it and
registers itself through a ``register(subparsers)`` function listed in
:data:`COMMAND_MODULES`; modules are imported only when listed, so the agent on a
Raspberry Pi never imports FastAPI or numpy unless it runs a collector command.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from pydantic import ValidationError

from hubsense.config import DEFAULT_CONFIG_DIR, ConfigError, load_hubs
from hubsense.protocol import json_schemas

# (module, commands it registers): the module is imported only when one of its
# commands is run, or for --help.
COMMAND_MODULES: list[tuple[str, tuple[str, ...]]] = [
    ("edge.cli", ("agent",)),
    ("collector.cli", ("collector", "demo", "export")),
    ("collector.replay", ("replay",)),
    ("collector.tune", ("tune",)),
    ("collector.simulate", ("simulate",)),
    ("hubsense.provision", ("provision",)),
    ("hubsense.retained", ("mqtt",)),
    ("collector.deploy.cli", ("deploy",)),
    ("collector.auth", ("token",)),
    ("collector.bookings.cli", ("bookings",)),
    ("collector.notify.cli", ("webhooks",)),
    ("collector.billing.cli", ("billing",)),
]


def _config_check(args: argparse.Namespace) -> int:
    try:
        hubs = load_hubs(args.paths)
    except ConfigError as exc:
        for line in exc.errors:
            print(f"error: {line}", file=sys.stderr)
        n = len(exc.errors)
        print(f"{n} error{'' if n == 1 else 's'}", file=sys.stderr)
        return 2
    for hub in hubs.values():
        n_sensors = sum(len(a.sensors) for a in hub.agents)
        print(f"ok: {hub.id}: {len(hub.zones)} zones, {len(hub.agents)} agents, {n_sensors} sensors")
    return 0


def _protocol_schema(args: argparse.Namespace) -> int:
    print(json.dumps(json_schemas(), indent=2, ensure_ascii=False))
    return 0


DESCRIPTION = """\
hubsense: occupancy sensing for coworking hubs. PIR and door sensors on Raspberry Pi
agents publish over MQTT to a collector that keeps zone state, statistics and the
dashboard. 'hubsense COMMAND --help' describes each command."""


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Help that shows defaults and keeps descriptions as written (every command uses it)."""


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("hubsense")
    except PackageNotFoundError:
        return "unknown"


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hubsense", description=DESCRIPTION, formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version", version=f"hubsense {version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser = _with_formatter(sub.add_parser)  # every command: defaults shown, text as written

    config = sub.add_parser("config", help="hub configuration files")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser("check", help="validate hub config files; exit status 2 on any error")
    check.add_argument("paths", nargs="*", type=Path, default=[DEFAULT_CONFIG_DIR], metavar="PATH")
    check.set_defaults(func=_config_check)

    proto = sub.add_parser("protocol", help="the MQTT wire contract")
    proto_sub = proto.add_subparsers(dest="protocol_command", required=True)
    proto_sub.add_parser("schema", help="print the JSON Schema of every payload").set_defaults(
        func=_protocol_schema
    )

    for module_name, commands in COMMAND_MODULES:
        if only is not None and only not in commands:
            continue
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:  # e.g. collector extras not installed on a Pi
            for cmd in commands:
                p = sub.add_parser(cmd, help=f"(unavailable: {exc})")
                p.set_defaults(func=lambda _a, e=exc: _unavailable(e))
            continue
        module.register(sub)
    return parser


def _with_formatter(add_parser):
    def add(name: str, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        if "help" in kwargs and "description" not in kwargs:
            kwargs["description"] = kwargs["help"][:1].upper() + kwargs["help"][1:] + "."
        return add_parser(name, **kwargs)

    return add


def _unavailable(exc: Exception) -> int:
    print(f"error: this command needs the collector extras: pip install 'hubsense[collector]' ({exc})",
          file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    first = next((a for a in argv if not a.startswith("-")), None)
    known = {c for _, cmds in COMMAND_MODULES for c in cmds}
    # Import only the module of the command being run (all of them for --help).
    parser = build_parser(only=first if first in known or first is None else "")
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:  # from any command: a config file or setting that cannot be used
        return _config_error(exc.errors)
    except ValidationError as exc:  # settings (environment, command line) that do not validate
        return _config_error([settings_error(exc, e) for e in exc.errors(include_url=False)])
    except OSError as exc:  # a file named on the command line that cannot be read or written
        name = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {name}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _config_error(lines: list[str]) -> int:
    """The one place a configuration error ends a command: one line per problem, exit status 2."""
    for line in lines:
        print(f"error: {line}", file=sys.stderr)
    return 2


def settings_error(exc: ValidationError, err: dict) -> str:
    """'Settings: mqtt_port (HUBSENSE_MQTT_PORT): reason' for one error of a settings model."""
    loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
    env = f" (HUBSENSE_{str(err['loc'][0]).upper()})" if exc.title == "Settings" and err["loc"] else ""
    return f"{exc.title}: {loc}{env}: {err['msg'].removeprefix('Value error, ')}"


if __name__ == "__main__":
    sys.exit(main())
