"""collector/settings.py keeps its docstring's promises: ``hubsense collector --print-settings``
prints every setting, and docs/settings.md is exactly that output."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.settings import Settings
from hubsense.cli import main

DOC = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def test_print_settings_lists_every_field_and_docs_settings_md_is_its_output(
        capsys: pytest.CaptureFixture) -> None:
    assert main(["collector", "--print-settings"]) == 0
    out = capsys.readouterr().out
    for name, field in Settings.model_fields.items():
        assert f"| `{name}` | `HUBSENSE_{name.upper()}` |" in out
        assert field.description
    assert DOC.read_text(encoding="utf-8") == out, "regenerate: hubsense collector --print-settings > docs/settings.md"
