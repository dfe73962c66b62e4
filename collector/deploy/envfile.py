"""The deployment's ``.env`` (read by ``docker compose``): parse it, and render it in a fixed order.

Only the part of the compose ``.env`` syntax that a generated file needs is read:
``KEY=VALUE`` lines, blank lines and ``#`` comments, values optionally in single or double quotes
(unquoted values end at `` #``).  Anything else is an error naming the line (never its content,
which may be a secret).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

_LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")
_PLAIN = re.compile(r"^[A-Za-z0-9_@%+=:,./-]*$")  # needs no quotes in .env (and no ${} interpolation)


class EnvFileError(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def _value(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return raw[1:-1]
    return re.split(r"\s+#", raw, maxsplit=1)[0].strip()


def parse_env(text: str, source: str = ".env") -> dict[str, str]:
    """``{KEY: value}``; raises :class:`EnvFileError` listing every bad line by number."""
    values: dict[str, str] = {}
    errors = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            errors.append(f"{source}:{number}: not a KEY=VALUE line")
            continue
        values[match[1]] = _value(match[2])
    if errors:
        raise EnvFileError(errors)
    return values


def read_env_file(path: Path) -> dict[str, str]:
    """The values of an existing ``.env``, or ``{}`` when there is none."""
    if not path.exists():
        return {}
    return parse_env(path.read_text(encoding="utf-8"), path.name)


def quote(value: str) -> str:
    """``value`` as an .env value that compose reads back unchanged."""
    if _PLAIN.match(value):
        return value
    if "'" not in value and "\n" not in value:
        return f"'{value}'"  # single quotes: literal, no interpolation
    raise ValueError("a value with both a single quote and other special characters cannot be written to .env")


def render_env(header: str, sections: Iterable[tuple[str, list[tuple[str, str, str]]]],
               extra: dict[str, str]) -> str:
    """``.env`` text: a header, then each section's ``(key, value, help)`` with its help as a comment,
    then ``extra`` (keys set by hand, kept as they were)."""
    out = [f"# {line}" if line else "#" for line in header.splitlines()]
    for title, rows in sections:
        out += ["", f"# --- {title} ---"]
        for key, value, help_text in rows:
            out += [f"# {help_text}", f"{key}={quote(value)}"]
    if extra:
        out += ["", "# --- set by hand (kept by 'hubsense deploy init') ---"]
        out += [f"{key}={quote(value)}" for key, value in extra.items()]
    return "\n".join(out) + "\n"
