from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest

from hubsense.cli import main
from hubsense.config import DEFAULT_CONFIG_DIR, ConfigError, Hub, ZoneKind, load_hub, load_hubs, parse_hub

FOREST = ["lagerelden", "utsiktsplatsen", "rastplatsen", "hinderbanan", "nationalparken", "oasen", "skogsglantan"]
NAMES = ["Lägerelden", "Utsiktsplatsen", "Rastplatsen", "Hinderbanan", "Nationalparken", "Oasen", "Skogsgläntan"]


@pytest.mark.parametrize("hub_id", ["stockholm", "ostersund"])
def test_real_hubs_have_the_forest_path(hubs: dict[str, Hub], hub_id: str) -> None:
    hub = hubs[hub_id]
    ids = [z.id for z in hub.zones]
    assert ids[:7] == FOREST
    assert [z.name for z in hub.zones[:7]] == NAMES
    assert hub.timezone == "Europe/Stockholm"
    assert any(z.kind is ZoneKind.ROOM and z.bookable for z in hub.zones)
    desk_areas = [z for z in hub.zones if z.kind is ZoneKind.DESK_AREA]
    assert desk_areas and all(z.desks for z in desk_areas)
    watched = {s.zone for a in hub.agents for s in a.sensors}
    assert watched == set(ids), "every zone has at least one sensor"
    desk_sensors = {s.desk for a in hub.agents for s in a.sensors if s.desk}
    assert desk_sensors == {d.id for z in desk_areas for d in z.desks}


def _data() -> dict:
    return tomllib.loads((DEFAULT_CONFIG_DIR / "stockholm.toml").read_text())


def _errors(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_hub(data, "hub.toml")
    return info.value.errors


def test_unknown_field_is_named_with_file() -> None:
    data = _data()
    data["zones"][0]["colour"] = "red"
    assert _errors(data) == ["hub.toml: zones[lagerelden].colour: unknown field"]


def test_wrong_type_names_the_field() -> None:
    data = _data()
    data["agents"][0]["sensors"][0]["pin"] = "four"
    (err,) = _errors(data)
    sensor = data["agents"][0]["sensors"][0]["id"]
    assert err.startswith(f"hub.toml: agents[{data['agents'][0]['id']}].sensors[{sensor}].pin: ")


def test_cross_reference_errors() -> None:
    data = _data()
    sensors = data["agents"][0]["sensors"]
    sensors[0]["zone"] = "nowhere"
    sensors[1]["pin"] = sensors[2]["pin"]
    sensors[2]["id"] = sensors[1]["id"]
    data["zones"].append(dict(data["zones"][0]))
    errors = _errors(data)
    text = "\n".join(errors)
    assert len(errors) == 4, errors  # one line (and one count) per error
    assert "points at unknown zone 'nowhere'" in text
    one, two = sensors[1]["id"], sensors[2]["id"]
    assert f"sensors '{one}' and '{two}' of agent '{data['agents'][0]['id']}' are both on pin" in text
    assert "duplicate sensor id" in text
    assert "duplicate zone id 'lagerelden'" in text


def test_bad_timezone() -> None:
    data = _data()
    data["timezone"] = "Mars/Olympus"
    assert _errors(data) == ["hub.toml: timezone: unknown time zone 'Mars/Olympus'"]


def test_door_sensor_on_an_open_zone() -> None:
    data = _data()
    data["agents"][0]["sensors"][0]["kind"] = "door"
    assert "which is not a room" in "\n".join(_errors(data))


def test_config_check_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", str(DEFAULT_CONFIG_DIR)]) == 0
    assert "ok: stockholm" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text((DEFAULT_CONFIG_DIR / "ostersund.toml").read_text().replace('pin = 4\n', 'pin = 99\n', 1))
    broken = tmp_path / "broken.toml"
    broken.write_text("id = [")
    assert main(["config", "check", str(bad), str(broken)]) == 2
    err = capsys.readouterr().err
    text = bad.read_text()
    line = text[:text.index("pin = 99")].count("\n") + 1
    agent = tomllib.loads(text)["agents"][0]
    where = f"agents[{agent['id']}].sensors[{agent['sensors'][0]['id']}].pin"
    assert f"{bad}:{line}: {where}: Input should be less than or equal to 27" in err  # the line of the field
    assert f"{broken}: not valid TOML" in err
    assert err.rstrip().endswith("2 errors")


def test_missing_timezone_is_an_error() -> None:
    data = _data()
    del data["timezone"]
    assert _errors(data) == ["hub.toml: timezone: required field missing"]


def test_duplicate_hub_id_names_the_other_file(tmp_path: Path) -> None:
    for name in ("a.toml", "b.toml"):
        (tmp_path / name).write_text((DEFAULT_CONFIG_DIR / "stockholm.toml").read_text())
    with pytest.raises(ConfigError) as info:
        load_hubs([tmp_path])
    assert info.value.errors == [f"{tmp_path / 'b.toml'}: id: hub id 'stockholm' is declared in "
                                 f"{tmp_path / 'a.toml'} too"]


def test_load_hub_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_hub(tmp_path / "missing.toml")


def test_booked_per_only_on_bookable_zones() -> None:
    data = _data()
    data["zones"][0]["booked_per"] = ["hour"]
    (err,) = _errors(data)
    assert "'booked_per' needs 'bookable = true'" in err
    data = _data()
    data["zones"][7]["booked_per"] = ["fortnight"]
    (err,) = _errors(data)
    assert "booked_per" in err and "'hour', 'half_day' or 'day'" in err


def test_opening_hours_always_is_open_around_the_clock() -> None:
    data = _data()
    data["opening_hours"] = "always"
    hub = parse_hub(data, "hub.toml")
    assert hub.always_open and hub.hours_on(date(2026, 12, 6)) == []
    assert hub.open_spans(1000.0, 90000.0) == [(1000.0, 90000.0)]
    assert not parse_hub(_data(), "hub.toml").always_open


def test_opening_hours_other_words_and_bad_tables_are_named_errors() -> None:
    data = _data()
    data["opening_hours"] = "weekdays"
    assert _errors(data) == ["hub.toml: opening_hours: must be [[opening_hours]] tables or \"always\", "
                             "not 'weekdays'"]
    data["opening_hours"] = [{"days": ["mon"], "open": "08:00", "close": "07:00"}]
    (err,) = _errors(data)
    assert err.startswith("hub.toml: opening_hours[0]: ") and "after 'open'" in err
    data["opening_hours"] = []
    (err,) = _errors(data)
    assert err.startswith("hub.toml: opening_hours: ")


# -- organisations and billing ------------------------------------------------------


def test_real_hubs_bill_their_bookable_rooms(hubs: dict[str, Hub]) -> None:
    for hub in hubs.values():
        assert hub.billing.currency == "SEK" and hub.organisations
        for zone in hub.zones:
            assert (hub.billing.tariff_of(zone.id) is not None) == zone.bookable, zone.id


def test_billing_errors_name_the_tariff_and_the_organisation(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    text = (DEFAULT_CONFIG_DIR / "stockholm.toml").read_text()
    text = text.replace('rooms = ["konferens-algen"]', 'rooms = ["konferens-algen", "oasen", "motesrum-raven"]')
    text = text.replace('price_per_hour = "900.00"', 'price_per_hour = "900.001"')
    text = text.replace('domains = ["stockholm.se"]', 'domains = ["Trafikverket.se"]')
    text = text.replace('no_show_share = "0.5"\n', '')
    bad = tmp_path / "stockholm.toml"
    bad.write_text(text)
    assert main(["config", "check", str(bad)]) == 2
    err = capsys.readouterr().err

    def line(snippet: str) -> int:
        return text[:text.index(snippet)].count("\n") + 1

    price, projektrum = line('price_per_hour = "900.001"'), line('id = "projektrum"')
    assert (f"{bad}:{price}: billing.tariffs[konferens].price_per_hour: "
            "Decimal input should have no more than 2 decimal places") in err
    assert f"{bad}:{projektrum}: billing.tariffs[projektrum]: no_show = 'share' needs" in err
    # one field error stops the cross-reference check; fix the two and the rest is named
    text = text.replace('"900.001"', '"900.00"').replace('no_show = "share"', 'no_show = "full"')
    bad.write_text(text)
    assert main(["config", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "billing.tariffs[konferens].rooms: zone 'oasen' is not bookable (set 'bookable = true')" in err
    assert "billing.tariffs[konferens].rooms: room 'motesrum-raven' already has tariff 'motesrum'" in err
    assert "organisations[stockholms-stad]: domain 'trafikverket.se' is claimed by 'trafikverket' too" in err
    assert err.rstrip().endswith("3 errors")


def test_an_organisation_needs_something_to_match_and_not_the_reserved_id() -> None:
    data = _data()
    data["organisations"] = [{"id": "unassigned", "name": "X", "domains": ["x.se"]},
                             {"id": "tom", "name": "Tom"},
                             {"id": "bad", "name": "Bad", "domains": ["not a domain"]}]
    errors = "\n".join(_errors(data))
    assert "organisations[unassigned]: 'unassigned' is reserved" in errors
    assert "organisations[tom]: an organisation needs 'domains' or 'calendars'" in errors
    assert "organisations[bad].domains: 'not a domain': not an e-mail domain (write e.g. 'skatteverket.se')" in errors


def test_tariff_fields_are_checked() -> None:
    data = _data()
    tariff = data["billing"]["tariffs"][0]
    tariff.update(rounding_min=20, policy="cheapest", price_per_hour=-1, colour="red")
    errors = "\n".join(_errors(data))
    for field in ("rounding_min: Input should be 15, 30 or 60", "policy: Input should be 'booked', 'used' or 'max'",
                  "price_per_hour: Input should be greater than or equal to 0", "colour: unknown field"):
        assert f"billing.tariffs[motesrum].{field}" in errors
    data = _data()
    data["billing"]["currency"] = "kr"
    assert _errors(data) == ["hub.toml: billing.currency: String should match pattern '^[A-Z]{3}$'"]


def test_city_and_region_are_optional_and_checked(tmp_path: Path) -> None:
    base = (DEFAULT_CONFIG_DIR / "stockholm.toml").read_text()
    (tmp_path / "a.toml").write_text(base)
    other = base.replace('id = "stockholm"', 'id = "sthlm-city"').replace('region = "Stockholm"',
                                                                         'region = "Mälardalen"')
    (tmp_path / "b.toml").write_text(other)
    with pytest.raises(ConfigError) as info:
        load_hubs([tmp_path])
    assert info.value.errors == [f"{tmp_path / 'b.toml'}: region: 'Mälardalen' for city 'Stockholm', but "
                                 f"{tmp_path / 'a.toml'} puts 'Stockholm' in region 'Stockholm'"]
    bare = "\n".join(line for line in other.splitlines() if not line.startswith(("city", "region")))
    (tmp_path / "b.toml").write_text(bare)
    hubs = load_hubs([tmp_path])
    assert hubs["sthlm-city"].city is None and hubs["stockholm"].region == "Stockholm"
    data = _data()
    data["city"] = " Östersund"
    (err,) = _errors(data)
    assert "city" in err
