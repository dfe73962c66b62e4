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
    glade = resolve(zone)  # a lower bound is configured: the prior moves up to it, learning stays on
    assert (glade.vacancy_timeout_min_s, glade.vacancy_timeout_s, glade.learn_hold) == (600, 600, True)
    assert glade.pinned == {"vacancy_timeout_min_s"}
    p = resolve(zone, Profile(vacancy_timeout_s=1200, stuck_after_s=60))
    assert (p.vacancy_timeout_s, p.stuck_after_s, p.learn_hold) == (1200, 60, False)  # set: pinned
    assert p.max_occupied_s == DEFAULTS[ZoneKind.OPEN].max_occupied_s


def test_defaults_are_sensible() -> None:
    for params in DEFAULTS.values():
        assert 60 <= params.vacancy_timeout_s <= 1800
        assert params.vacancy_timeout_min_s < params.vacancy_timeout_s < params.vacancy_timeout_max_s
        assert params.max_occupied_s >= 4 * 3600
        assert params.stuck_after_s >= 24 * 3600


def test_parse_override() -> None:
    assert parse_override("skogsglantan:vacancy_timeout_s=1200") == ("skogsglantan", "vacancy_timeout_s", 1200.0)
    assert overrides_from(["a:max_occupied_s=10", "a:stuck_after_s=5"]) == {
        "a": Profile(max_occupied_s=10, stuck_after_s=5)}
    for bad in ("nozone", "a:b", "a:vacancy_timeout_s=x", "a:colour=3", "a:vacancy_timeout_s=0"):
        with pytest.raises(ValueError):
            parse_override(bad)


def test_learning_can_be_switched_off_per_zone(stockholm) -> None:
    assert resolve(stockholm.zone("rastplatsen")).learn_hold
    assert not resolve(stockholm.zone("rastplatsen"), Profile(learn=False)).learn_hold


def test_hub_scoped_overrides_and_learn_flag() -> None:
    assert parse_override("stockholm/oasen:learn=false") == ("stockholm/oasen", "learn", False)
    assert parse_override("oasen:vacancy_timeout_min_s=60") == ("oasen", "vacancy_timeout_min_s", 60.0)
