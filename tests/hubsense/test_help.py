"""``hubsense --help``, ``--version`` and every command's help: whole sentences, defaults shown."""

from __future__ import annotations

import pytest

from hubsense.cli import main, version


def _help(capsys: pytest.CaptureFixture, *argv: str) -> str:
    with pytest.raises(SystemExit) as info:
        main([*argv, "--help"])
    assert info.value.code == 0
    return capsys.readouterr().out


def test_top_level_help_is_whole_and_plain(capsys: pytest.CaptureFixture) -> None:
    text = _help(capsys)
    assert "``" not in text and "`" not in text  # no reStructuredText markup
    assert "occupancy sensing for coworking hubs" in text and "describes each command." in text
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"hubsense {version()}" and version() != "unknown"


@pytest.mark.parametrize("command", [["collector"], ["demo"], ["export"], ["simulate"], ["provision"],
                                     ["bookings", "show"], ["agent"], ["replay"]])
def test_every_command_describes_itself_and_shows_defaults(capsys: pytest.CaptureFixture, command) -> None:
    text = _help(capsys, *command)
    _usage, _, rest = text.partition("\n\n")
    description = rest.split("\n\n")[0]
    assert description and not description.startswith(("positional", "options")), text
    assert "(default:" in text, f"{command}: defaults are shown"


def test_bookings_show_without_calendars_says_so(capsys: pytest.CaptureFixture, monkeypatch) -> None:
    monkeypatch.delenv("HUBSENSE_BOOKINGS", raising=False)
    assert main(["bookings", "show", "--hub", "stockholm"]) == 0
    err = capsys.readouterr().err
    assert "no calendars configured for hub 'stockholm'" in err and "booking(s)" not in err
