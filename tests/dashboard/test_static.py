"""The dashboard's static files: every one is used, nothing is loaded from elsewhere."""

from __future__ import annotations

import re

from dashboard import STATIC


def test_every_script_and_stylesheet_is_used() -> None:
    pages = [p.read_text(encoding="utf-8") for p in STATIC.glob("*.html")]
    scripts = {p.name: p.read_text(encoding="utf-8") for p in STATIC.glob("*.js")}
    loaded = {m for page in pages for m in re.findall(r'src="/static/([\w.-]+\.js)"', page)}
    imported = {m for text in scripts.values() for m in re.findall(r'from "\./([\w.-]+\.js)"', text)}
    unused = set(scripts) - loaded - imported
    assert not unused, f"static scripts no page loads or module imports: {sorted(unused)}"
    css = {p.name for p in STATIC.glob("*.css")}
    linked = {m for page in pages for m in re.findall(r'href="/static/([\w.-]+\.css)"', page)}
    assert css <= linked
