from __future__ import annotations

import pytest

from collector.engine.profiles import DEFAULTS, overrides_from, parse_override, resolve
from hubsense.config import Profile, ZoneKind


def test_unset_fields_take_the_kind_defaults(stockholm) -> None:
    lagerelden = resolve(stockholm.zone("lagerelden"))
    assert lagerelden == DEFAULTS[ZoneKind.OPEN]
    assert resolve(stockholm.zone("oasen")).door_exit_window_s == DEFAULTS[ZoneKind.ROOM].door_exit_window_s


def test_zone_profile_then_override(stockholm) -> None:
    zone = stockholm.zone("skogsglantan")
    assert resolve(zone).vacancy_timeout_s == 1800
    assert resolve(stockholm.zone("rastplatsen")).vacancy_timeout_s == 300
    p = resolve(zone, Profile(vacancy_timeout_s=1200, stuck_after_s=60))
    assert (p.vacancy_timeout_s, p.stuck_after_s) == (1200, 60)
    assert p.max_occupied_s == DEFAULTS[ZoneKind.OPEN].max_occupied_s


def test_defaults_are_sensible() -> None:
    for params in DEFAULTS.values():
        assert 60 <= params.vacancy_timeout_s <= 1800
        assert params.door_exit_window_s < params.vacancy_timeout_s
        assert params.max_occupied_s >= 4 * 3600
        assert params.stuck_after_s >= 24 * 3600


def test_parse_override() -> None:
    assert parse_override("skogsglantan:vacancy_timeout_s=1200") == ("skogsglantan", "vacancy_timeout_s", 1200.0)
    assert overrides_from(["a:max_occupied_s=10", "a:stuck_after_s=5"]) == {
        "a": Profile(max_occupied_s=10, stuck_after_s=5)}
    for bad in ("nozone", "a:b", "a:vacancy_timeout_s=x", "a:colour=3", "a:vacancy_timeout_s=0"):
        with pytest.raises(ValueError):
            parse_override(bad)


def test_weak_evidence_rule_is_off_for_zones_configured_for_still_occupants(stockholm) -> None:
    assert resolve(stockholm.zone("rastplatsen")).weak_factor < 1
    assert resolve(stockholm.zone("skogsglantan")).weak_factor == 1
    assert resolve(stockholm.zone("oasen")).weak_factor == 1
