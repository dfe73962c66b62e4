from __future__ import annotations

from pathlib import Path

import pytest

from edge.settings import AgentSettings


def test_every_field_is_described() -> None:
    assert len(AgentSettings.descriptions()) > 15 and all(AgentSettings.descriptions().values())


def test_rejects_unknown_and_inconsistent_fields() -> None:
    with pytest.raises(TypeError, match="brokerhost"):
        AgentSettings(brokerhost="x")
    with pytest.raises(ValueError, match="reconnect_max_s"):
        AgentSettings(reconnect_min_s=10, reconnect_max_s=1)
    with pytest.raises(ValueError, match="pin_factory"):
        AgentSettings(pin_factory="pigpio")
    with pytest.raises(ValueError, match="both certfile and keyfile"):
        AgentSettings(ca_file=Path("ca"), certfile=Path("c"))
    for bad in ({"broker_port": 0}, {"broker_port": "1883"}, {"keepalive_s": 4}, {"heartbeat_interval_s": 0},
                {"pir_sample_hz": 101}, {"door_bounce_s": -1}, {"queue_max_events": 0}, {"reconnect_min_s": 0},
                {"heartbeat_interval_s": float("nan")}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            AgentSettings(**bad)
    with pytest.raises(ValueError, match="ca_file"):
        AgentSettings(certfile=Path("c"), keyfile=Path("k"))


def test_paths_from_text_and_a_changed_copy_checked_again() -> None:
    s = AgentSettings(queue_path="q.sqlite3")
    assert s.queue_path == Path("q.sqlite3")
    assert s.replace(broker_port=1884).broker_port == 1884
    with pytest.raises(ValueError, match="broker_port"):
        s.replace(broker_port=70000)
    assert AgentSettings(**s.to_dict()) == s


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    s = AgentSettings()
    assert s.resolved_client_id("stockholm", "pi") == "hubsense-stockholm-pi"
    assert s.resolved_queue_path("stockholm", "pi") == str(tmp_path / "hubsense" / "queue-stockholm-pi.sqlite3")
    assert AgentSettings(queue_path=Path(":memory:")).resolved_queue_path("h", "a") == ":memory:"
