"""Generated hub configs for scale tests (``hubsense simulate --hubs N --out DIR``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.fleet import hub_identity, slug
from hubsense.cli import main
from hubsense.config import DEFAULT_CONFIG_DIR, load_hub, load_hubs


def test_generated_hubs_are_like_the_template_with_their_own_identity(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--hubs", "40", "--out", str(tmp_path)]) == 0
    assert "40 hub configs" in capsys.readouterr().out
    hubs = load_hubs([tmp_path])  # every file passes config check (city/region consistency included)
    template = load_hub(DEFAULT_CONFIG_DIR / "stockholm.toml")
    assert len(hubs) == 40 and len({h.name for h in hubs.values()}) == 40
    for hub in hubs.values():
        assert [z.id for z in hub.zones] == [z.id for z in template.zones]
        assert hub.sensors().keys() == template.sensors().keys() and hub.city and hub.region
    assert len({h.region for h in hubs.values()}) > 10
    assert main(["config", "check", str(tmp_path)]) == 0


def test_ids_are_ascii_and_stable() -> None:
    assert slug("Västerås") == "vasteras" and slug("Örebro") == "orebro"
    assert hub_identity(0)["id"] == "stockholm-1" and hub_identity(30)["id"] == "stockholm-2"


def test_hubs_needs_an_output_directory(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--hubs", "3"]) == 2
    assert "--out" in capsys.readouterr().err
