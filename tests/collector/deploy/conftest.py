"""A copy of the checkout's deployment files in a temporary folder, and one made ready by
``hubsense deploy init`` (as an operator would: the real command, the real files)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from collector.deploy.init import InitResult, init_deployment

REPO = Path(__file__).resolve().parents[3]
CHECKOUT_FILES = ("docker-compose.yml", ".gitignore", "Dockerfile")
CHECKOUT_DIRS = ("deploy", "firmware_config")


def make_checkout(root: Path) -> Path:
    """What a clone holds that the deployment needs (docker-compose.yml, deploy/, firmware_config/)."""
    root.mkdir(parents=True, exist_ok=True)
    for name in CHECKOUT_FILES:
        shutil.copy2(REPO / name, root / name)
    for name in CHECKOUT_DIRS:
        shutil.copytree(REPO / name, root / name)
    return root


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    return make_checkout(tmp_path / "hubsense")


@pytest.fixture
def deployed(checkout: Path) -> tuple[Path, InitResult]:
    return checkout, init_deployment(checkout, server="hub-server.lan", mqtt_bind="192.168.1.10")
