"""Occupancy-inference parameters per zone: hub config overrides on top of per-kind defaults.

Resolution order for each field: an explicit override passed to the engine (e.g. ``hubsense
replay --profile``), then the zone's ``profile`` in the hub config, then the default of the
zone's kind below.  ``docs/engine.md`` explains how the defaults were chosen.
"""

from __future__ import annotations

from dataclasses import dataclass

from hubsense.config import Profile, Zone, ZoneKind

HOUR = 3600.0
# The weak-evidence rule is for zones where people pass through.  A zone configured with a longer
# timeout than this is declared a "sitting still" zone (Skogsgläntan): there a single trigger is
# what an arriving person makes, so any motion holds it for the full timeout.
WEAK_MAX_TIMEOUT_S = 600.0


@dataclass(frozen=True, slots=True)
class Params:
    """A fully resolved profile (every field set), plus the kind's fixed behaviour."""

    vacancy_timeout_s: float
    door_exit_window_s: float
    max_occupied_s: float
    stuck_after_s: float
    # Timeout after *weak* evidence (one brief trigger in an idle zone, e.g. a passer-by), as a
    # fraction of vacancy_timeout_s.  1.0 disables the distinction.
    weak_factor: float = 1.0


DEFAULTS: dict[ZoneKind, Params] = {
    # Open zones: people walk past; a lone trigger is weak evidence (see docs/engine.md).
    ZoneKind.OPEN: Params(
        vacancy_timeout_s=300.0, door_exit_window_s=90.0, max_occupied_s=8 * HOUR,
        stuck_after_s=24 * HOUR, weak_factor=0.2,
    ),
    # Rooms: the door does most of the work; the PIR timeout only matters with the door open
    # or before motion confirmed someone inside.
    ZoneKind.ROOM: Params(
        vacancy_timeout_s=600.0, door_exit_window_s=90.0, max_occupied_s=4 * HOUR,
        stuck_after_s=60 * HOUR,
    ),
    # Desks: one PIR under each desk sees legs; people sit still, so a longer timeout.
    ZoneKind.DESK_AREA: Params(
        vacancy_timeout_s=900.0, door_exit_window_s=90.0, max_occupied_s=6 * HOUR,
        stuck_after_s=60 * HOUR,
    ),
}

FIELDS = ("vacancy_timeout_s", "door_exit_window_s", "max_occupied_s", "stuck_after_s")


def resolve(zone: Zone, override: Profile | None = None) -> Params:
    """The zone's effective parameters."""
    base = DEFAULTS[zone.kind]
    values = {}
    for name in FIELDS:
        value = getattr(override, name, None) if override is not None else None
        if value is None:
            value = getattr(zone.profile, name)
        values[name] = float(value) if value is not None else getattr(base, name)
    weak = base.weak_factor if values["vacancy_timeout_s"] <= WEAK_MAX_TIMEOUT_S else 1.0
    return Params(**values, weak_factor=weak)


def parse_override(text: str) -> tuple[str, str, float]:
    """Parse ``zone:key=value`` (as given to ``--profile``) into (zone, key, value)."""
    try:
        zone, rest = text.split(":", 1)
        key, raw = rest.split("=", 1)
        value = float(raw)
    except ValueError:
        raise ValueError(f"expected zone:key=value, got {text!r}") from None
    key = key.strip()
    if key not in FIELDS:
        raise ValueError(f"unknown profile key {key!r}; one of {', '.join(FIELDS)}")
    if not value > 0:
        raise ValueError(f"{key} must be > 0, got {raw!r}")
    return zone.strip(), key, value


def overrides_from(texts: list[str]) -> dict[str, Profile]:
    """Collect several ``zone:key=value`` strings into Profile overrides by zone id."""
    by_zone: dict[str, dict[str, float]] = {}
    for text in texts:
        zone, key, value = parse_override(text)
        by_zone.setdefault(zone, {})[key] = value
    return {zone: Profile(**fields) for zone, fields in by_zone.items()}
