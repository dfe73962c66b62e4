"""A Mosquitto that only admits provisioned users, with the generated ACL and broker options."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hubsense.config import Hub
from hubsense.provision import provision
from hubsense.services import Mosquitto


def secured_broker(workdir: Path, creds: Path, listener_config: list[str] | None = None) -> Mosquitto:
    """The provisioned broker options: conf.d (global) and listener.conf after the listener line."""
    per_listener = (creds / "mosquitto" / "listener.conf").read_text().splitlines()
    return Mosquitto(
        workdir,
        listener_config=[*(listener_config or []), *per_listener],
        extra_config=["allow_anonymous false", f"password_file {creds / 'mosquitto' / 'passwd'}",
                      f"acl_file {creds / 'mosquitto' / 'acl'}", f"include_dir {creds / 'mosquitto' / 'conf.d'}"],
    )


@pytest.fixture(scope="module")
def creds(tmp_path_factory: pytest.TempPathFactory, stockholm: Hub) -> Path:
    out = tmp_path_factory.mktemp("creds")
    provision([stockholm], out)
    return out


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory, creds: Path) -> Iterator[Mosquitto]:
    m = secured_broker(tmp_path_factory.mktemp("secure-mosquitto"), creds).start()
    yield m
    m.stop()
