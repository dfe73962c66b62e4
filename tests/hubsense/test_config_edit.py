"""Editing a hub config's text: profile fields set per zone (inline table, [zones.profile] table or
a new line), everything else kept as written, the result validated."""

from __future__ import annotations

import pytest

from hubsense.config import DEFAULT_CONFIG_DIR, ConfigError
from hubsense.config_edit import set_zone_profiles

STOCKHOLM = (DEFAULT_CONFIG_DIR / "stockholm.toml").read_text(encoding="utf-8")


def _changed(before: str, after: str) -> tuple[list[str], list[str]]:
    a, b = before.splitlines(), after.splitlines()
    return [x for x in a if x not in b], [x for x in b if x not in a]


def test_an_inline_profile_is_merged_and_a_missing_one_added() -> None:
    new, hub = set_zone_profiles(STOCKHOLM, {"skogsglantan": {"vacancy_timeout_s": 900.0},
                                             "oasen": {"max_occupied_s": 7200.5, "learn": False}}, "s.toml")
    removed, added = _changed(STOCKHOLM, new)
    assert removed == ["profile = { vacancy_timeout_min_s = 600 }"]
    assert added == ["profile = { max_occupied_s = 7200.5, learn = false }",
                     "profile = { vacancy_timeout_min_s = 600, vacancy_timeout_s = 900 }"]
    assert hub.zone("skogsglantan").profile.vacancy_timeout_min_s == 600
    assert hub.zone("oasen").profile.learn is False


def test_a_profile_table_is_edited_in_place() -> None:
    text = STOCKHOLM.replace('profile = { vacancy_timeout_min_s = 600 }\n',
                             '\n[zones.profile]\nvacancy_timeout_min_s = 600  # sits still\nlearn = true\n')
    new, hub = set_zone_profiles(text, {"skogsglantan": {"learn": False, "vacancy_timeout_s": 1200}}, "s.toml")
    removed, added = _changed(text, new)
    assert removed == ["learn = true"] and added == ["learn = false", "vacancy_timeout_s = 1200"]
    assert "vacancy_timeout_min_s = 600  # sits still" in new
    assert hub.zone("skogsglantan").profile.vacancy_timeout_s == 1200


def test_a_desk_area_with_a_multi_line_desk_list_gets_its_line_after_it() -> None:
    new, hub = set_zone_profiles(STOCKHOLM, {"skrivbordet": {"vacancy_timeout_s": 300}}, "s.toml")
    lines = new.splitlines()
    i = lines.index("profile = { vacancy_timeout_s = 300 }")
    assert lines[i - 1] == "]" and hub.zone("skrivbordet").profile.vacancy_timeout_s == 300


def test_an_unknown_zone_or_an_invalid_value_changes_nothing_and_says_why() -> None:
    with pytest.raises(ConfigError) as info:
        set_zone_profiles(STOCKHOLM, {"kontoret": {"vacancy_timeout_s": 60}}, "s.toml")
    assert info.value.errors == ["s.toml: zones: no [[zones]] table with id = 'kontoret' in this file"]
    with pytest.raises(ConfigError) as info:
        set_zone_profiles(STOCKHOLM, {"oasen": {"vacancy_timeout_s": -5}}, "s.toml")
    (error,) = info.value.errors
    assert error.startswith("s.toml:") and "zones[oasen].profile.vacancy_timeout_s" in error
