"""Edit a hub config file's text in place: set profile fields of zones, keep everything else as written
(comments, order, spacing), and validate the result with the config loader before it is used.

Used by ``hubsense tune --apply``.  A zone is a ``[[zones]]`` table; its profile may be an inline
table on one line (``profile = { vacancy_timeout_min_s = 600 }``), a ``[zones.profile]`` table, or
absent (then an inline line is added after the zone's last key).
"""

from __future__ import annotations

import re
import tomllib

from hubsense.config import ConfigError, Hub, parse_hub

_ZONES = re.compile(r"^\s*\[\[\s*zones\s*\]\]\s*(#.*)?$")
_HEADER = re.compile(r"^\s*\[")
_SUBTABLE = re.compile(r"^\s*\[\[?\s*zones\s*\.")
_PROFILE_TABLE = re.compile(r"^\s*\[\s*zones\s*\.\s*profile\s*\]\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")


def set_zone_profiles(text: str, values: dict[str, dict[str, float | bool]], source: str) -> tuple[str, Hub]:
    """``text`` with each zone's profile fields set to ``values`` (zone id -> field -> value), and the
    hub it now describes.  Raises :class:`ConfigError` (naming ``source``) if a zone is not a
    ``[[zones]]`` table of the file or the result does not validate."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    for zone, fields in values.items():
        lines = _set_zone(lines, zone, fields, source)
    new = "".join(lines)
    try:
        data = tomllib.loads(new)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{source}: the edited file would not be valid TOML: {exc}"]) from None
    return new, parse_hub(data, source, new)


def render(value: float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    value = round(float(value), 1)
    return str(int(value)) if value == int(value) else repr(value)


def _set_zone(lines: list[str], zone: str, fields: dict, source: str) -> list[str]:
    start, end = _zone_span(lines, zone, source)
    own_end = next((i for i in range(start + 1, end) if _HEADER.match(lines[i])), end)
    table = next((i for i in range(own_end, end) if _PROFILE_TABLE.match(lines[i])), None)
    if table is not None:
        return _set_in_table(lines, table, end, fields)
    for i in range(start + 1, own_end):
        m = _KEY.match(lines[i])
        if m and m.group(1) == "profile":
            lines[i] = _merged_inline(lines[i], fields, source, zone)
            return lines
    last = max((i for i in range(start, own_end) if lines[i].strip() and not lines[i].lstrip().startswith("#")),
               default=start)
    inline = ", ".join(f"{k} = {render(v)}" for k, v in fields.items())
    return [*lines[:last + 1], f"profile = {{ {inline} }}\n", *lines[last + 1:]]


def _zone_span(lines: list[str], zone: str, source: str) -> tuple[int, int]:
    """[start, end) lines of the ``[[zones]]`` table with ``id = "zone"`` (its sub-tables included)."""
    starts = [i for i, line in enumerate(lines) if _ZONES.match(line)]
    for start in starts:
        end = next((i for i in range(start + 1, len(lines))
                    if _HEADER.match(lines[i]) and not _SUBTABLE.match(lines[i])), len(lines))
        own_end = next((i for i in range(start + 1, end) if _HEADER.match(lines[i])), end)
        for i in range(start + 1, own_end):
            m = _KEY.match(lines[i])
            if m and m.group(1) == "id" and _value(lines[i]) == zone:
                return start, end
    raise ConfigError([f"{source}: zones: no [[zones]] table with id = {zone!r} in this file"])


def _value(line: str) -> object:
    try:
        return next(iter(tomllib.loads(line).values()))
    except (tomllib.TOMLDecodeError, StopIteration):
        return None


def _merged_inline(line: str, fields: dict, source: str, zone: str) -> str:
    indent = line[:len(line) - len(line.lstrip())]
    body, brace = line, line.rfind("}")
    comment = line[brace + 1:].strip() if brace >= 0 else ""
    if brace >= 0:
        body = line[:brace + 1]
    try:
        current = tomllib.loads(body.strip())["profile"]
    except (tomllib.TOMLDecodeError, KeyError):
        raise ConfigError([f"{source}: zones[{zone}].profile: cannot read its inline table to edit it"]) from None
    merged = {**current, **fields}
    inline = ", ".join(f"{k} = {render(v)}" for k, v in merged.items())
    return f"{indent}profile = {{ {inline} }}{' ' + comment if comment else ''}\n"


def _set_in_table(lines: list[str], header: int, end: int, fields: dict) -> list[str]:
    stop = next((i for i in range(header + 1, end) if _HEADER.match(lines[i])), end)
    todo = dict(fields)
    for i in range(header + 1, stop):
        m = _KEY.match(lines[i])
        if m and m.group(1) in todo:
            lines[i] = f"{m.group(1)} = {render(todo.pop(m.group(1)))}\n"
    last = max((i for i in range(header, stop) if lines[i].strip()), default=header)
    added = [f"{k} = {render(v)}\n" for k, v in todo.items()]
    return [*lines[:last + 1], *added, *lines[last + 1:]]
