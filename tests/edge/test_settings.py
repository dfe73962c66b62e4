from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from edge.settings import AgentSettings


def test_every_field_is_described() -> None:
    assert all(f.description for f in AgentSettings.model_fields.values())


def test_rejects_unknown_and_inconsistent_fields() -> None:
    with pytest.raises(ValidationError, match="extra"):
        AgentSettings(brokerhost="x")
    with pytest.raises(ValidationError, match="reconnect_max_s"):
        AgentSettings(reconnect_min_s=10, reconnect_max_s=1)
    with pytest.raises(ValidationError, match="pin_factory"):
        AgentSettings(pin_factory="pigpio")
    with pytest.raises(ValidationError, match="both certfile and keyfile"):
        AgentSettings(ca_file=Path("ca"), certfile=Path("c"))


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    s = AgentSettings()
    assert s.resolved_client_id("stockholm", "pi") == "hubsense-stockholm-pi"
    assert s.resolved_queue_path("stockholm", "pi") == str(tmp_path / "hubsense" / "queue-stockholm-pi.sqlite3")
    assert AgentSettings(queue_path=Path(":memory:")).resolved_queue_path("h", "a") == ":memory:"
