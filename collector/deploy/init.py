"""``hubsense deploy init``: make (or bring up to date) a deployment folder, idempotently.

Every value already in ``.env`` is kept, except placeholders and weak secrets, which are replaced,
and derived values, which are recomputed; secrets are generated only when missing (``--rotate``:
new ones).  Broker users, ACL and agent files come from :func:`hubsense.provision.provision`.
A file is rewritten only when its content changes, so a second run changes nothing.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from collector.deploy.envfile import EnvFileError, read_env_file, render_env
from collector.deploy.layout import (
    AGENT_CA_PATH,
    MANAGER_TOKEN_NAME,
    TLS_COMPOSE_FILE,
    Layout,
    default_collector_owner,
    give,
    give_tree,
)
from collector.deploy.spec import BY_NAME, SECTIONS, VARS
from hubsense.config import Hub, load_hubs
from hubsense.provision import COLLECTOR_USER, ProvisionError, private_dirs, provision, write_secret

ENV_HEADER = """\
Written by 'hubsense deploy init': the compose variables and secrets of this hub server.
Keep it private (mode 0600) and never commit it.  After editing, run 'hubsense deploy init'
again (it keeps every value and fills in what is missing) or 'hubsense deploy init --check'."""
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")


class DeployError(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass
class InitResult:
    lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    manager_token: str | None = None


def new_secret() -> str:
    return secrets.token_urlsafe(32)  # 256 bits; only [A-Za-z0-9_-]: safe in .env, URLs and shells


def weak(value: str | None) -> bool:
    from collector.auth import weak_secret  # the collector's own production-mode rule

    return weak_secret(value)


def require_git_ignored(layout: Layout) -> None:
    """In a git checkout, ``.env`` and ``secrets/`` must be ignored (they are in the project's .gitignore)."""
    if not (layout.root / ".git").exists():
        return
    ignore = layout.root / ".gitignore"
    lines = {line.strip() for line in ignore.read_text().splitlines()} if ignore.exists() else set()
    missing = [name for name, forms in ((".env", {".env", "/.env"}),
                                        ("secrets/", {"secrets", "secrets/", "/secrets", "/secrets/"}))
               if not lines & forms]
    if missing:
        raise DeployError([f"{layout.rel(ignore)}: does not ignore {', '.join(missing)}: secrets would end "
                           "up in git; add the line(s) back first"])


def choose_hubs(known: dict[str, Hub], wanted: list[str] | None) -> list[Hub]:
    if not wanted:
        return list(known.values())
    unknown = [h for h in wanted if h not in known]
    if unknown:
        raise DeployError([f"--hubs: unknown hub(s) {', '.join(unknown)}; configured: {', '.join(sorted(known))}"])
    return [known[h] for h in wanted]


def check_options(server: str | None, mqtt_bind: str | None) -> None:
    errors = []
    if server is not None and not _HOST.match(server):
        errors.append(f"--server {server!r}: not a host name or address")
    if mqtt_bind is not None:
        try:
            ipaddress.IPv4Address(mqtt_bind)
        except ValueError:
            errors.append(f"--mqtt-bind {mqtt_bind!r}: not an IPv4 address of this server (e.g. 192.168.1.10, "
                          "or 127.0.0.1 once every agent uses TLS)")
    if errors:
        raise DeployError(errors)


def settings(old: dict[str, str], server: str | None, mqtt_bind: str | None) -> dict[str, str]:
    """Settings and option-driven values (secrets and derived values come later)."""
    values = {v.name: old.get(v.name) or v.default for v in VARS if v.kind == "setting"}
    bad = [f"{k}={values[k]!r}" for k in ("MQTT_PORT", "MQTTS_PORT") if not values[k].isdigit()]
    if bad:
        raise DeployError([f".env: {', '.join(bad)}: not a port number"])
    host = server or old.get("HUBSENSE_SERVER")
    if not host:
        raise DeployError(["--server is needed on the first run: this server's name or address as the "
                           "Raspberry Pis reach it (e.g. --server hub-server.lan), written into their files"])
    values["HUBSENSE_SERVER"] = host
    values["MQTT_BIND"] = mqtt_bind or old.get("MQTT_BIND") or "127.0.0.1"
    return values


def generated(old: dict[str, str], rotate: bool) -> tuple[dict[str, str], Counter]:
    """Generated secrets: kept, replaced when weak, new when missing or rotated."""
    values, what = {}, Counter()
    for var in (v for v in VARS if v.generated):
        current = old.get(var.name, "")
        if rotate and var.kind == "secret":
            values[var.name], outcome = new_secret(), "rotated"
        elif not current:
            values[var.name], outcome = new_secret(), "generated"
        elif weak(current):
            values[var.name], outcome = new_secret(), "replaced (placeholder or weak)"
        else:
            values[var.name], outcome = current, "kept"
        what[outcome] += 1
    return values, what


def collector_owner(old: dict[str, str]) -> tuple[int, int]:
    try:
        return int(old["HUBSENSE_UID"]), int(old["HUBSENSE_GID"])
    except (KeyError, ValueError):
        return default_collector_owner()


def collector_password(layout: Layout) -> str:
    users = json.loads(layout.credentials.read_text(encoding="utf-8"))["users"]
    return users[COLLECTOR_USER]["password"]


def write_env(layout: Layout, values: dict[str, str], extra: dict[str, str]) -> bool:
    """Write ``.env`` (0600); returns whether it changed."""
    sections = [(title, [(v.name, values[v.name], v.help) for v in VARS if v.section == title])
                for title in SECTIONS]
    text = render_env(ENV_HEADER, sections, extra)
    before = layout.env.read_text(encoding="utf-8") if layout.env.exists() else None
    write_secret(layout.env, text)
    return before != text


def manager_token(layout: Layout, rotate: bool, owner: tuple[int, int]) -> str | None:
    """Create the first manager token (or, with ``rotate``, replace it); returns the new token, if any."""
    from collector.auth import Role, create_token, read_records, revoke_token

    token = None
    try:
        private_dirs(layout.collector_dir, [])
        records = read_records(layout.tokens)
        if rotate or not any(r.role is Role.MANAGER for r in records.values()):
            token, _ = create_token(layout.tokens, Role.MANAGER, MANAGER_TOKEN_NAME)
            for old in records.values():
                if rotate and old.name == MANAGER_TOKEN_NAME:
                    revoke_token(layout.tokens, old.id)
        os.chmod(layout.tokens, 0o600)
    except PermissionError as exc:
        raise DeployError([f"{layout.rel(layout.collector_dir)}: {exc.strerror}: it belongs to the collector's "
                           f"user (HUBSENSE_UID={owner[0]}); run 'hubsense deploy init' as root or from the image "
                           "(docker compose run --rm deploy init)"]) from exc
    give(layout.collector_dir, *owner)
    give(layout.tokens, *owner)
    return token


def init_deployment(root: Path, *, hubs: list[str] | None = None, config_paths: list[Path] | None = None,
                    server: str | None = None, mqtt_bind: str | None = None, rotate: bool = False) -> InitResult:
    """Make ``root`` ready for ``docker compose up``; see the module docstring."""
    layout = Layout(root.resolve())
    layout.root.mkdir(parents=True, exist_ok=True)
    check_options(server, mqtt_bind)
    require_git_ignored(layout)
    try:
        old = read_env_file(layout.env)
    except EnvFileError as exc:
        raise DeployError(exc.errors) from exc
    known = load_hubs(config_paths or [layout.config_dir])
    chosen = choose_hubs(known, hubs)
    if 0 < len(layout.certs_present()) < 3:
        raise DeployError([f"{layout.rel(layout.certs)}: has {', '.join(layout.certs_present())}; TLS needs "
                           "ca.crt, server.crt and server.key (or none of them)"])
    result = InitResult()
    values = settings(old, server, mqtt_bind)
    tls = layout.tls()
    port = int(values["MQTTS_PORT"] if tls else values["MQTT_PORT"])
    try:
        report = provision(chosen, layout.secrets, broker=(values["HUBSENSE_SERVER"], port),
                           ca_file=AGENT_CA_PATH if tls else None, rotate=[] if rotate else None, force=True)
    except ProvisionError as exc:
        raise DeployError([str(exc)]) from exc
    secret_values, outcomes = generated(old, rotate)
    uid, gid = collector_owner(old)
    values |= secret_values | {
        "COMPOSE_FILE": "docker-compose.yml" + (f":{TLS_COMPOSE_FILE}" if tls else ""),
        "HUBSENSE_UID": str(uid), "HUBSENSE_GID": str(gid),
        "HUBSENSE_MQTT_PASSWORD": collector_password(layout),
    }
    extra = {k: v for k, v in old.items() if k not in BY_NAME}
    changed = write_env(layout, values, extra)
    result.manager_token = manager_token(layout, rotate, (uid, gid))
    operator = layout.root.stat()
    give(layout.env, operator.st_uid, operator.st_gid)
    give_tree(layout.secrets, operator.st_uid, operator.st_gid, skip=layout.collector_dir)
    result.lines = summary(layout, chosen, report, outcomes, changed, tls, result.manager_token)
    result.warnings = warnings(known, chosen, values, tls)
    return result


def summary(layout: Layout, hubs: list[Hub], report: dict[str, str], outcomes: Counter, env_changed: bool,
            tls: bool, token: str | None) -> list[str]:
    users = Counter(report.values())
    return [
        f"deployment folder {layout.root}",
        f"  hubs: {', '.join(h.id for h in hubs)}; MQTT for agents: {'TLS' if tls else 'plain (no certificates)'}",
        f"  broker users in {layout.rel(layout.passwd)}: "
        + ", ".join(f"{n} {what}" for what, n in sorted(users.items())),
        f"  .env: {'written' if env_changed else 'unchanged'}; secrets "
        + ", ".join(f"{n} {what}" for what, n in sorted(outcomes.items())),
        f"  manager token in {layout.rel(layout.tokens)}: {'new' if token else 'kept'}",
    ]


def warnings(known: dict[str, Hub], chosen: list[Hub], values: dict[str, str], tls: bool) -> list[str]:
    out = []
    left = sorted(set(known) - {h.id for h in chosen})
    if left:
        out.append(f"hub(s) {', '.join(left)} are in the hub configs but got no broker users (--hubs): the "
                   "collector shows their zones as unknown")
    if not tls and values["MQTT_BIND"].startswith("127."):
        out.append(f"agents use plain MQTT but MQTT_BIND is {values['MQTT_BIND']}: Raspberry Pis cannot reach "
                   "the broker; pass --mqtt-bind <this server's LAN address>, or add TLS certificates")
    return out
