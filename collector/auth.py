"""API tokens: creation, hashed storage, verification, and the ``hubsense token`` command.

A token looks like ``hs_<id>_<secret>``.  Only the id (public, used to find the
record and in ``token list`` / ``token revoke``) and an scrypt hash of the whole
token with a per-token salt are stored; the token itself is printed once.

A token may be limited to some hubs (``--hub``, :attr:`TokenRecord.hubs`): it then sees only
those hubs' routes (:class:`Grant`).  A token without hubs sees every hub; an unscoped manager
token is the operator.  Token files of version 1 (before hub scopes) are read as unscoped and
rewritten as version 2 at the next change; every existing token keeps working.

scrypt is deliberately slow, so :class:`TokenStore` remembers tokens it has
verified, keyed by a SHA-256 digest of the token (the token is a 256-bit random
secret, so a fast digest of it cannot be brute-forced either).  The cache is
dropped whenever the token file changes on disk, so ``hubsense token revoke``
takes effect in a running collector within :data:`RELOAD_CHECK_S`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import math
import os
import secrets
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
TOKEN_PREFIX = "hs"
RELOAD_CHECK_S = 1.0
NEGATIVE_CACHE_MAX = 10_000


class Role(StrEnum):
    """``kiosk`` may see the live view; ``manager`` may see everything."""

    KIOSK = "kiosk"
    MANAGER = "manager"

    def allows(self, needed: Role) -> bool:
        return self is Role.MANAGER or needed is Role.KIOSK


@dataclass(frozen=True)
class Grant:
    """What a verified token may do: its role, and the hubs it may see (None: every hub)."""

    role: Role
    hubs: frozenset[str] | None = None

    @property
    def operator(self) -> bool:
        """An unscoped manager: may see every hub and the routes that span all of them."""
        return self.role is Role.MANAGER and self.hubs is None

    def sees(self, hub: str) -> bool:
        return self.hubs is None or hub.lower() in self.hubs


@dataclass(frozen=True)
class TokenRecord:
    id: str
    role: Role
    name: str
    created: str
    salt: str
    hash: str
    n: int = SCRYPT_N
    r: int = SCRYPT_R
    p: int = SCRYPT_P
    hubs: tuple[str, ...] = ()  # empty: every hub

    @property
    def grant(self) -> Grant:
        return Grant(self.role, frozenset(self.hubs) if self.hubs else None)

    def public(self) -> dict:
        return {"id": self.id, "role": self.role.value, "name": self.name, "created": self.created,
                "hubs": list(self.hubs) or "all"}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _scrypt(token: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(token.encode(), salt=salt, n=n, r=r, p=p, maxmem=128 * r * n * 2, dklen=32)


def split_token(token: str) -> str | None:
    """The id of a well-formed token, else None."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or len(parts[2]) < 20:
        return None
    return parts[1]


def new_token(role: Role, name: str = "", hubs: tuple[str, ...] = ()) -> tuple[str, TokenRecord]:
    """A fresh token and the record to store for it (``hubs``: the hubs it may see; empty: all)."""
    token_id = secrets.token_hex(4)
    token = f"{TOKEN_PREFIX}_{token_id}_{secrets.token_urlsafe(32)}"
    salt = secrets.token_bytes(16)
    digest = _scrypt(token, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    created = datetime.now(UTC).isoformat(timespec="seconds")
    hubs = tuple(sorted({h.lower() for h in hubs}))
    return token, TokenRecord(token_id, role, name, created, _b64(salt), _b64(digest), hubs=hubs)


def check_token(token: str, record: TokenRecord) -> bool:
    """The slow, authoritative check: scrypt the token and compare in constant time."""
    digest = _scrypt(token, base64.b64decode(record.salt), record.n, record.r, record.p)
    return hmac.compare_digest(digest, base64.b64decode(record.hash))


# --- the token file -----------------------------------------------------------


FILE_VERSION = 2  # 2: records may carry "hubs"; version 1 files (no hubs) read as unscoped tokens


def read_records(path: Path) -> dict[str, TokenRecord]:
    """The token file's records by id; a version 1 file (no hub scopes) reads as unscoped tokens."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("version", 1) > FILE_VERSION:
        raise ValueError(f"{path}: token file version {data['version']} is newer than this hubsense "
                         f"understands ({FILE_VERSION})")
    records = {}
    for raw in data.get("tokens", []):
        rec = TokenRecord(**{**raw, "role": Role(raw["role"]), "hubs": tuple(raw.get("hubs") or ())})
        records[rec.id] = rec
    return records


def write_records(path: Path, records: dict[str, TokenRecord]) -> None:
    """Atomically replace the token file (mode 0600), always in the current format."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"version": FILE_VERSION,
            "tokens": [{**asdict(r), "role": r.role.value, "hubs": list(r.hubs)} for r in records.values()]}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(body, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def create_token(path: Path, role: Role, name: str = "", hubs: tuple[str, ...] = ()) -> tuple[str, TokenRecord]:
    records = read_records(path)
    token, record = new_token(role, name, hubs)
    while record.id in records:  # 32-bit ids: a clash is unlikely but possible
        token, record = new_token(role, name, hubs)
    records[record.id] = record
    write_records(path, records)
    return token, record


def revoke_token(path: Path, token_id: str) -> bool:
    records = read_records(path)
    if records.pop(token_id, None) is None:
        return False
    write_records(path, records)
    return True


# --- verification with a cache --------------------------------------------------


class TokenStore:
    """Verifies tokens against the token file; cheap after a token's first use."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._records: dict[str, TokenRecord] = {}
        self._roles: set[Role] = set()
        self._good: dict[bytes, Grant] = {}
        self._bad: set[bytes] = set()
        self._stamp: tuple[int, int, int] | None = None
        self._checked = float("-inf")
        self._reload()

    def _file_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)  # writes replace the file: a new inode

    def _reload(self) -> None:
        stamp = self._file_stamp()
        if stamp != self._stamp:
            self._records = read_records(self.path)
            self._roles = {r.role for r in self._records.values()}
            self._good.clear()
            self._bad.clear()
            self._stamp = stamp

    def _maybe_reload(self) -> None:
        now = time.monotonic()
        if now - self._checked >= RELOAD_CHECK_S:
            with self._lock:
                self._checked = now
                self._reload()

    MISS = object()

    def has_role(self, role: Role) -> bool:
        self._maybe_reload()
        return role in self._roles

    def cached(self, token: str) -> Grant | object | None:
        """The grant from the cache without running scrypt: a Grant, None (known bad) or :data:`MISS`."""
        self._maybe_reload()
        key = _key(token)
        grant = self._good.get(key)
        if grant is not None:
            return grant
        if key in self._bad or self._records.get(split_token(token) or "") is None:
            return None  # known bad, malformed or unknown id: no scrypt needed
        return self.MISS

    def grant(self, token: str) -> Grant | None:
        """What the token may do, or None if it is unknown, revoked or malformed (may run scrypt)."""
        grant = self.cached(token)
        if grant is not self.MISS:
            return grant  # type: ignore[return-value]
        key = _key(token)
        record = self._records.get(split_token(token) or "")
        if record is not None and check_token(token, record):
            self._good[key] = record.grant
            return record.grant
        if len(self._bad) < NEGATIVE_CACHE_MAX:  # bounded: a repeated bad token costs no scrypt
            self._bad.add(key)
        return None

    def verify(self, token: str) -> Role | None:
        """The token's role, or None if it is unknown, revoked or malformed (may run scrypt)."""
        grant = self.grant(token)
        return None if grant is None else grant.role


def _key(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


# --- production readiness -------------------------------------------------------

WEAK_PASSWORDS = frozenset({"", "password", "secret", "admin", "hubsense", "mosquitto", "public", "default",
                            "root", "guest", "test", "collector", "influxdb"})
PLACEHOLDERS = ("changeme", "change-me", "change_me", "replace-me", "example")  # e.g. change-me-mqtt
MIN_PASSWORD_LEN = 16
MIN_SECRET_BITS = 60  # estimated; a generated secret (deploy init: token_urlsafe(32)) has ~200
# Guessed first: a secret made of these (or of runs like 'aaaa', '1234', 'dcba') has little entropy left.
COMMON_PARTS = ("password", "passwort", "losenord", "secret", "hemlig", "admin", "hubsense", "mosquitto",
                "influx", "grafana", "collector", "qwerty", "asdfgh", "zxcvbn", "letmein", "welcome", "iloveyou",
                "monkey", "dragon", "sommar", "vinter", "summer", "winter", "stockholm", "ostersund")


def secret_bits(secret: str) -> float:
    """A rough lower estimate of a secret's entropy in bits: common words and runs (repeated, ascending
    or descending characters) removed, then length times the Shannon entropy of what is left per
    character.  ``passwordpassword`` gives 0, ``1234567890123456`` 0, sixteen spaces 0, a
    ``secrets.token_urlsafe(32)`` about 200."""
    rest = secret.lower()
    for word in COMMON_PARTS:
        rest = rest.replace(word, "")
    rest = _without_runs(rest)
    if not rest:
        return 0.0
    counts = Counter(rest)
    per_char = -sum(n / len(rest) * math.log2(n / len(rest)) for n in counts.values())
    return max(0.0, per_char * len(rest))


def _without_runs(text: str, min_run: int = 3) -> str:
    """``text`` without runs of at least ``min_run`` characters that repeat or step by one (aaa, 123, cba)."""
    out, i = [], 0
    while i < len(text):
        j = i + 1
        if j < len(text):
            step = ord(text[j]) - ord(text[i])
            if step in (-1, 0, 1):
                while j + 1 < len(text) and ord(text[j + 1]) - ord(text[j]) == step:
                    j += 1
                if j - i + 1 >= min_run:
                    i = j + 1
                    continue
        out.append(text[i])
        i += 1
    return "".join(out)


def weak_secret(secret: str | None) -> bool:
    """Empty, a well-known default, a placeholder (change-me...), too short, or too predictable
    (:func:`secret_bits` under :data:`MIN_SECRET_BITS`)."""
    if secret is None:
        return True
    low = secret.lower()
    return (low in WEAK_PASSWORDS or any(p in low for p in PLACEHOLDERS) or len(secret) < MIN_PASSWORD_LEN
            or secret_bits(secret) < MIN_SECRET_BITS)


_WEAK = (f"empty, a default or placeholder, shorter than {MIN_PASSWORD_LEN} characters or too predictable "
         f"(under ~{MIN_SECRET_BITS} bits: repeated or consecutive characters, common words); generate one, e.g. "
         "'openssl rand -base64 24'")


def production_problems(settings) -> list[str]:
    """Why these settings must not run in production mode (empty list: fine)."""
    problems = []
    if not TokenStore(settings.tokens_path).has_role(Role.MANAGER):
        problems.append(f"no manager token in {settings.tokens_path}: run 'hubsense token create --role manager'")
    if not settings.mqtt_username:
        problems.append("MQTT without credentials: set HUBSENSE_MQTT_USERNAME / HUBSENSE_MQTT_PASSWORD "
                        "(see 'hubsense provision')")
    elif weak_secret(settings.mqtt_password):
        problems.append(f"MQTT password is {_WEAK}")
    if settings.store == "influxdb":
        if settings.influx_token is not None:
            if weak_secret(settings.influx_token):
                problems.append(f"InfluxDB token is {_WEAK}")
        elif not settings.influx_username:
            problems.append("InfluxDB without credentials: set HUBSENSE_INFLUX_TOKEN or _USERNAME/_PASSWORD")
        elif weak_secret(settings.influx_password):
            problems.append(f"InfluxDB password is {_WEAK}")
    return problems


# --- command line ---------------------------------------------------------------


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("token", help="API tokens for managers and kiosks (stored hashed)")
    p.add_argument("--tokens", type=Path, default=None, help="token file (default: settings tokens_path)")
    tsub = p.add_subparsers(dest="token_command", required=True)
    c = tsub.add_parser("create", help="create a token and print it once")
    c.add_argument("--role", required=True, choices=[r.value for r in Role])
    c.add_argument("--name", default="", help="who or what the token is for")
    c.add_argument("--hub", dest="hubs", action="append", default=[], metavar="HUB",
                   help="limit the token to this hub (repeatable); without --hub it sees every hub "
                   "(an unscoped manager token is the operator's)")
    c.add_argument("--config", dest="config_paths", type=Path, action="append", default=None,
                   help="hub config file or directory the --hub ids are checked against (default: settings)")
    c.set_defaults(func=_cmd_create)
    tsub.add_parser("list", help="list tokens (ids, roles, names; never the tokens)").set_defaults(func=_cmd_list)
    r = tsub.add_parser("revoke", help="revoke a token by id")
    r.add_argument("id")
    r.set_defaults(func=_cmd_revoke)


def _tokens_path(args: argparse.Namespace) -> Path:
    if args.tokens is not None:
        return args.tokens
    from collector.settings import Settings

    return Settings().tokens_path


def _checked_hubs(args: argparse.Namespace) -> tuple[str, ...]:
    """The --hub ids, each checked against the hub configs (ConfigError naming the unknown ones)."""
    if not args.hubs:
        return ()
    from collector.settings import Settings
    from hubsense.config import ConfigError, load_hubs

    paths = args.config_paths or Settings().config_paths
    known = load_hubs(paths)
    asked = [h.lower() for h in args.hubs]
    unknown = [h for h in asked if h not in known]
    if unknown:
        raise ConfigError([f"--hub: unknown hub(s) {', '.join(map(repr, unknown))}; hubs in "
                           f"{', '.join(map(str, paths))}: {', '.join(known)}"])
    return tuple(asked)


def _cmd_create(args: argparse.Namespace) -> int:
    path = _tokens_path(args)
    token, record = create_token(path, Role(args.role), args.name, _checked_hubs(args))
    scope = f"hubs {', '.join(record.hubs)}" if record.hubs else "every hub"
    print(f"created {record.role.value} token {record.id} for {scope} in {path}; it is shown only now:",
          file=sys.stderr)
    print(token)
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    for record in read_records(_tokens_path(args)).values():
        print(json.dumps(record.public(), ensure_ascii=False))
    return 0


def _cmd_revoke(args: argparse.Namespace) -> int:
    if not revoke_token(_tokens_path(args), args.id):
        print(f"error: no token with id {args.id!r}", file=sys.stderr)
        return 2
    print(f"revoked {args.id}", file=sys.stderr)
    return 0
