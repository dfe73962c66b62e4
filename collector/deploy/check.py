"""``hubsense deploy init --check``: is a deployment folder ready for ``docker compose up``?

Read-only.  Every problem names the file, what is wrong and the command that fixes it.  The
compose file runs this check (the ``preflight`` service) before anything else starts.
"""

from __future__ import annotations

import ipaddress
import json
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from collector.deploy.envfile import EnvFileError, read_env_file
from collector.deploy.init import DeployError, require_git_ignored, weak
from collector.deploy.layout import CERT_FILES, TLS_COMPOSE_FILE, Layout
from collector.deploy.spec import SECRET_NAMES, VARS
from hubsense.config import ConfigError, Hub, load_hubs
from hubsense.provision import COLLECTOR_USER, acl_text, agent_user, read_passwd, verify_mosquitto_hash

FIX = "run 'hubsense deploy init'"
_BIND_SOURCE = re.compile(r"(?:^\s*-\s*[\"']?|^\s*source:\s*)(\./[^:\s\"']*)", re.M)


@dataclass
class CheckResult:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def check_deployment(root: Path) -> CheckResult:
    layout = Layout(root.resolve())
    r = CheckResult()
    try:
        require_git_ignored(layout)
    except DeployError as exc:
        r.errors += exc.errors
    hubs = _hubs(layout, r)  # None: the configs have errors (reported)
    values = _env(layout, r)
    if values is not None:
        _secrets(values, r)
        _network(layout, values, r)
        _broker(layout, values, hubs, r)
        _tokens(layout, values, r)
        _tls(layout, values, r)
    _compose(layout, values or {}, r)
    return r


def _private(path: Path) -> bool:
    return path.stat().st_mode & 0o077 == 0


def _hubs(layout: Layout, r: CheckResult) -> dict[str, Hub] | None:
    try:
        hubs = load_hubs([layout.config_dir])
    except ConfigError as exc:
        r.errors += exc.errors
        return None
    r.facts.append(f"hubs: {', '.join(sorted(hubs))}")
    return hubs


def _env(layout: Layout, r: CheckResult) -> dict[str, str] | None:
    rel = layout.rel(layout.env)
    if not layout.env.exists():
        r.errors.append(f"{rel} is missing: {FIX} (or: docker compose run --rm deploy init)")
        return None
    try:
        values = read_env_file(layout.env)
    except EnvFileError as exc:
        r.errors += [f"{e}: fix the line or delete it and {FIX}" for e in exc.errors]
        return None
    except PermissionError:
        r.errors.append(f"{rel}: cannot be read by this user: run the check as the folder's owner or root")
        return None
    if not _private(layout.env):
        r.errors.append(f"{rel}: mode {stat.filemode(layout.env.stat().st_mode)} lets other users read the "
                        f"secrets: chmod 600 {rel}")
    missing = [v.name for v in VARS if not values.get(v.name)]
    if missing:
        r.errors.append(f"{rel}: {', '.join(missing)} missing or empty: {FIX}")
    return values


def _secrets(values: dict[str, str], r: CheckResult) -> None:
    bad = [name for name in SECRET_NAMES if values.get(name) and weak(values[name])]
    if bad:
        r.errors.append(f".env: {', '.join(bad)}: a placeholder or weak secret (e.g. change-me, or "
                        f"shorter than 16 characters): {FIX} (it replaces them)")


def _network(layout: Layout, values: dict[str, str], r: CheckResult) -> None:
    for name in ("MQTT_PORT", "MQTTS_PORT", "HTTP_PORT", "GRAFANA_PORT"):
        value = values.get(name, "")
        if value and not (value.isdigit() and 0 < int(value) < 65536):
            r.errors.append(f".env: {name}={value!r} is not a port number")
    bind = values.get("MQTT_BIND", "")
    try:
        loopback = ipaddress.IPv4Address(bind).is_loopback if bind else False
    except ValueError:
        r.errors.append(f".env: MQTT_BIND={bind!r} is not an IPv4 address of this server: "
                        f"{FIX} --mqtt-bind <LAN address>")
        loopback = False
    if loopback and not layout.tls():
        r.warnings.append(f"MQTT_BIND={bind} and no TLS certificates: Raspberry Pis cannot reach the broker "
                          f"({FIX} --mqtt-bind <LAN address>)")
    for name in ("HUBSENSE_UID", "HUBSENSE_GID"):
        value = values.get(name, "")
        if value and (not value.isdigit() or int(value) == 0):
            r.errors.append(f".env: {name}={value!r}: the collector must run as a non-root numeric id "
                            "(10001 is the image's user)")


def _broker(layout: Layout, values: dict[str, str], hubs: dict[str, Hub] | None, r: CheckResult) -> None:
    rel = layout.rel(layout.passwd)
    try:
        hashes = read_passwd(layout.passwd)
        state = json.loads(layout.credentials.read_text(encoding="utf-8")) if layout.credentials.exists() else {}
        acl = layout.acl.read_text(encoding="utf-8") if layout.acl.exists() else None
    except PermissionError as exc:
        r.errors.append(f"{exc.filename}: cannot be read by this user: run the check as the folder's owner or root")
        return
    if not hashes or acl is None:
        r.errors.append(f"{rel} or {layout.rel(layout.acl)} is missing: {FIX}")
        return
    password = values.get("HUBSENSE_MQTT_PASSWORD", "")
    if COLLECTOR_USER not in hashes:
        r.errors.append(f"{rel}: no user {COLLECTOR_USER} (the collector's): {FIX}")
    elif password and not verify_mosquitto_hash(password, hashes[COLLECTOR_USER]):
        r.errors.append(f".env: HUBSENSE_MQTT_PASSWORD is not the password of {COLLECTOR_USER} in {rel}: {FIX} "
                        "(it copies it from secrets/credentials.json)")
    r.facts.append(f"broker users: {len(hashes)}")
    if hubs is not None:
        _users_match_hubs(layout, hashes, state.get("hubs", []), acl, hubs, r)


def _users_match_hubs(layout: Layout, hashes: dict[str, str], state_hubs: list[str], acl: str,
                      hubs: dict[str, Hub], r: CheckResult) -> None:
    rel = layout.rel(layout.passwd)
    provisioned = [h for h in state_hubs if h in hubs]
    for hub in hubs.values():
        missing = [a.id for a in hub.agents if agent_user(hub.id, a.id) not in hashes]
        if hub.id not in provisioned and len(missing) == len(hub.agents):
            r.warnings.append(f"hub {hub.id} is configured but has no broker users: its zones stay unknown ({FIX})")
        elif missing:
            r.errors.append(f"{rel}: agent(s) {', '.join(missing)} of hub {hub.id} have no broker user: {FIX}")
    if provisioned and acl != acl_text([hubs[h] for h in provisioned]):
        r.errors.append(f"{layout.rel(layout.acl)} does not match the hub configs: {FIX}")
    gone = sorted(set(state_hubs) - set(hubs))
    if gone:
        r.errors.append(f"{layout.rel(layout.credentials)}: hub(s) {', '.join(gone)} are no longer configured: {FIX}")


def _owned(path: Path, uid: int, mode: int, r: CheckResult, rel: str) -> None:
    st = path.stat()
    if st.st_uid != uid:
        r.errors.append(f"{rel}: owned by uid {st.st_uid}, but the collector runs as uid {uid} (HUBSENSE_UID), "
                        f"so it cannot use it: {FIX} as root or from the image (docker compose run --rm deploy "
                        f"init), or chown -R {uid} secrets/collector")
    elif st.st_mode & 0o777 != mode:
        r.errors.append(f"{rel}: mode {st.st_mode & 0o777:o}, expected {mode:o}: chmod {mode:o} {rel}")


def _tokens(layout: Layout, values: dict[str, str], r: CheckResult) -> None:
    from collector.auth import Role, read_records

    rel = layout.rel(layout.tokens)
    if not layout.tokens.exists():
        r.errors.append(f"{rel} is missing (the collector refuses to start without a manager token): {FIX}")
        return
    uid = values.get("HUBSENSE_UID", "")
    if uid.isdigit():
        _owned(layout.collector_dir, int(uid), 0o700, r, layout.rel(layout.collector_dir))
        _owned(layout.tokens, int(uid), 0o600, r, rel)
    try:
        records = read_records(layout.tokens)
    except PermissionError:
        r.warnings.append(f"{rel}: cannot be read by this user, so its manager token was not checked (run the "
                          "check as root or from the image: docker compose run --rm deploy init --check)")
        return
    except (ValueError, KeyError, TypeError) as exc:
        r.errors.append(f"{rel}: not a token file ({exc}): move it away and {FIX}")
        return
    if not any(rec.role is Role.MANAGER for rec in records.values()):
        r.errors.append(f"{rel}: no manager token (the collector refuses to start): {FIX}")


def _tls(layout: Layout, values: dict[str, str], r: CheckResult) -> None:
    present = layout.certs_present()
    files = values.get("COMPOSE_FILE", "").split(":")
    rel = layout.rel(layout.certs)
    if present and len(present) < len(CERT_FILES):
        missing = [n for n in CERT_FILES if n not in present]
        r.errors.append(f"{rel}: has {', '.join(present)} but not {', '.join(missing)}: TLS needs all three "
                        "(or none)")
        return
    for name in present:
        try:
            head = (layout.certs / name).read_text(encoding="ascii", errors="replace")[:64]
        except PermissionError:
            continue
        if not head.startswith("-----BEGIN "):
            r.errors.append(f"{rel}/{name}: not a PEM file")
    if present and TLS_COMPOSE_FILE not in files:
        r.errors.append(f".env: COMPOSE_FILE lacks {TLS_COMPOSE_FILE} although {rel} holds certificates, so port "
                        f"8883 would not be published: {FIX}")
    if not present and TLS_COMPOSE_FILE in files:
        r.errors.append(f".env: COMPOSE_FILE has {TLS_COMPOSE_FILE} but {rel} holds no certificates: 8883 would be "
                        f"published without a TLS listener: {FIX}")
    r.facts.append(f"MQTT for agents: {'TLS' if present else 'plain'}")


def _compose(layout: Layout, values: dict[str, str], r: CheckResult) -> None:
    if not layout.compose.exists():
        r.errors.append(f"{layout.rel(layout.compose)} is missing: --out must be the hubsense checkout that holds it")
        return
    names = [f for f in values.get("COMPOSE_FILE", "docker-compose.yml").split(":") if f]
    for name in names:
        path = layout.root / name
        if not path.exists():
            r.errors.append(f".env: COMPOSE_FILE names {name}, which does not exist")
            continue
        for source in dict.fromkeys(_BIND_SOURCE.findall(path.read_text(encoding="utf-8"))):
            if not (layout.root / source).exists():
                fix = FIX if source.startswith("./secrets") else "is --out the hubsense checkout?"
                r.errors.append(f"{name}: mounts {source}, which does not exist here: {fix}")
            elif not source.startswith("./secrets"):
                _world_readable(layout, layout.root / source, r)


def _others_may_read(path: Path) -> bool:
    need = 0o005 if path.is_dir() else 0o004  # folders also need x to be entered
    return path.stat().st_mode & need == need


def _world_readable(layout: Layout, top: Path, r: CheckResult) -> None:
    """Mounted project files are read by each container's own user (mosquitto, grafana, the collector)."""
    hidden = [p for p in ([top, *top.rglob("*")] if top.is_dir() else [top]) if not _others_may_read(p)]
    if hidden:
        more = f", and {len(hidden) - 1} more" if len(hidden) > 1 else ""
        r.errors.append(f"{layout.rel(hidden[0])}: not readable by other users (mode "
                        f"{hidden[0].stat().st_mode & 0o777:o}{more}), but a container reads it as its own user: "
                        f"chmod -R a+rX {layout.rel(top)} (a umask of 077 when cloning does this)")
