"""Where everything of a deployment lives, and who owns it.

The deployment folder is the checkout that holds ``docker-compose.yml``::

    .env                        compose variables and secrets         operator, 0600
    firmware_config/            hub configs (mounted into the collector)
    secrets/                    'hubsense provision' output            operator, 0700 / 0600
      mosquitto/passwd, acl     installed into the broker by the mosquitto-auth service
      agents/HUB/AGENT.toml     one per Raspberry Pi
      certs/                    optional: ca.crt, server.crt, server.key -> TLS listener on 8883
      collector/tokens.json     API tokens (hashes), mounted into the collector  collector user, 0700 / 0600

The operator is whoever owns the folder; the collector's user is ``HUBSENSE_UID:HUBSENSE_GID``
(the image's ``hubsense`` user, 10001, when ``deploy init`` runs as root, e.g. from the image;
the invoking user otherwise, since only root can give files away).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

COLLECTOR_UID = 10001  # the Dockerfile's 'hubsense' user (tests keep the two equal)
TLS_COMPOSE_FILE = "deploy/compose.tls.yml"  # publishes 8883; in COMPOSE_FILE only with certificates
CERT_FILES = ("ca.crt", "server.crt", "server.key")
AGENT_CA_PATH = "/etc/hubsense/ca.crt"  # where the CA certificate goes on each Raspberry Pi
INFLUX_COLLECTOR_USER = "hubsense-collector"  # same name as the collector's broker user
INFLUX_GRAFANA_USER = "hubsense-grafana"
MANAGER_TOKEN_NAME = "first manager (hubsense deploy init)"


@dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def env(self) -> Path:
        return self.root / ".env"

    @property
    def compose(self) -> Path:
        return self.root / "docker-compose.yml"

    @property
    def config_dir(self) -> Path:
        return self.root / "firmware_config"

    @property
    def secrets(self) -> Path:
        return self.root / "secrets"

    @property
    def passwd(self) -> Path:
        return self.secrets / "mosquitto" / "passwd"

    @property
    def acl(self) -> Path:
        return self.secrets / "mosquitto" / "acl"

    @property
    def credentials(self) -> Path:
        return self.secrets / "credentials.json"

    @property
    def collector_dir(self) -> Path:
        return self.secrets / "collector"

    @property
    def tokens(self) -> Path:
        return self.collector_dir / "tokens.json"

    @property
    def certs(self) -> Path:
        return self.secrets / "certs"

    def rel(self, path: Path) -> str:
        """``path`` relative to the folder, for messages."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def certs_present(self) -> list[str]:
        return [name for name in CERT_FILES if (self.certs / name).is_file()]

    def tls(self) -> bool:
        return len(self.certs_present()) == len(CERT_FILES)


def default_collector_owner() -> tuple[int, int]:
    """Who the collector runs as when ``.env`` does not say: see the module docstring."""
    if os.geteuid() == 0:
        return COLLECTOR_UID, COLLECTOR_UID
    return os.getuid(), os.getgid()


def give(path: Path, uid: int, gid: int) -> None:
    """chown when we can (as root); otherwise the file is already ours."""
    if os.geteuid() == 0:
        st = path.lstat()
        if (st.st_uid, st.st_gid) != (uid, gid):
            os.lchown(path, uid, gid)


def give_tree(top: Path, uid: int, gid: int, skip: Path) -> None:
    """:func:`give` ``top`` and everything below it, except ``skip`` and what lies under it."""
    if os.geteuid() != 0 or not top.exists():
        return
    give(top, uid, gid)
    for dirpath, dirnames, filenames in os.walk(top):
        base = Path(dirpath)
        dirnames[:] = [d for d in dirnames if base / d != skip]
        for name in [*dirnames, *filenames]:
            give(base / name, uid, gid)
