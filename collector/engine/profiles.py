"""Occupancy-inference parameters per zone: configured values on top of per-kind defaults.

Resolution order for each field: an explicit override passed to the engine (e.g. ``hubsense
replay --profile``), then the zone's ``profile`` in the hub config, then the default of the
zone's kind below.  A value set by configuration is *pinned*: the zone does not learn it.
Unset, ``vacancy_timeout_s`` is where learning starts (the prior) and ``max_occupied_s`` the
floor of the learned stillness cap; ``docs/engine.md`` explains both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hubsense.config import Profile, Zone, ZoneKind

HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class Params:
    """A fully resolved profile (every field set)."""

    vacancy_timeout_s: float  # pinned hold, or the prior of the learned one
    door_exit_window_s: float
    max_occupied_s: float
    stuck_after_s: float
    vacancy_timeout_min_s: float = 15.0  # bounds of the learned hold
    vacancy_timeout_max_s: float = 1800.0
    max_occupied_limit_s: float = 24 * HOUR  # a learned stillness cap never exceeds this
    learn: bool = True
    pinned: frozenset[str] = field(default_factory=frozenset)  # fields set by configuration

    @property
    def learn_hold(self) -> bool:
        return self.learn and "vacancy_timeout_s" not in self.pinned

    @property
    def learn_stillness(self) -> bool:
        return self.learn and "max_occupied_s" not in self.pinned


DEFAULTS: dict[ZoneKind, Params] = {
    # Open zones: people walk past, sit and talk; the hold is learned per zone.
    ZoneKind.OPEN: Params(
        vacancy_timeout_s=120.0, door_exit_window_s=90.0, max_occupied_s=8 * HOUR, stuck_after_s=24 * HOUR,
        vacancy_timeout_min_s=15.0, vacancy_timeout_max_s=1800.0,
    ),
    # Rooms: the door does most of the work; the PIR hold matters with the door open or before
    # someone was seen inside.  Door cycles free a room that was left, so the phantom guard only has
    # to catch a door sensor that missed a departure and can be long: people sit still for hours (a
    # home at night, a long workshop).
    ZoneKind.ROOM: Params(
        vacancy_timeout_s=600.0, door_exit_window_s=90.0, max_occupied_s=24 * HOUR, stuck_after_s=60 * HOUR,
        max_occupied_limit_s=48 * HOUR,
        vacancy_timeout_min_s=30.0, vacancy_timeout_max_s=3600.0,
    ),
    # Desks: one PIR under each desk sees legs; people sit still, so a longer prior.
    ZoneKind.DESK_AREA: Params(
        vacancy_timeout_s=900.0, door_exit_window_s=90.0, max_occupied_s=6 * HOUR, stuck_after_s=60 * HOUR,
        vacancy_timeout_min_s=60.0, vacancy_timeout_max_s=3600.0,
    ),
}

FIELDS = ("vacancy_timeout_s", "door_exit_window_s", "max_occupied_s", "stuck_after_s",
          "vacancy_timeout_min_s", "vacancy_timeout_max_s", "max_occupied_limit_s")


def resolve(zone: Zone, override: Profile | None = None) -> Params:
    """The zone's effective parameters."""
    base = DEFAULTS[zone.kind]
    values, pinned = {}, set()
    for name in FIELDS:
        value = getattr(override, name, None) if override is not None else None
        if value is None:
            value = getattr(zone.profile, name, None)
        if value is not None:
            pinned.add(name)
        values[name] = float(value) if value is not None else getattr(base, name)
    learn = _first_set(override, zone.profile, "learn")
    lo, hi = values["vacancy_timeout_min_s"], values["vacancy_timeout_max_s"]
    if "vacancy_timeout_s" not in pinned:  # the prior stays inside configured bounds
        values["vacancy_timeout_s"] = min(hi, max(lo, values["vacancy_timeout_s"]))
    return Params(**values, learn=base.learn if learn is None else learn, pinned=frozenset(pinned))


def _first_set(override: Profile | None, profile: Profile, name: str):
    value = getattr(override, name, None) if override is not None else None
    return value if value is not None else getattr(profile, name, None)


def parse_override(text: str) -> tuple[str, str, float]:
    """Parse ``zone:key=value`` (as given to ``--profile``) into (zone, key, value).

    ``zone`` may be ``hub/zone`` to address one hub's zone."""
    try:
        zone, rest = text.split(":", 1)
        key, raw = rest.split("=", 1)
    except ValueError:
        raise ValueError(f"expected [hub/]zone:key=value, got {text!r}") from None
    key = key.strip()
    if key == "learn":
        if raw.strip().lower() not in ("true", "false"):
            raise ValueError(f"learn must be true or false, got {raw!r}")
        return zone.strip(), key, raw.strip().lower() == "true"
    if key not in FIELDS:
        raise ValueError(f"unknown profile key {key!r}; one of {', '.join((*FIELDS, 'learn'))}")
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{key} must be a number, got {raw!r}") from None
    if not value > 0:
        raise ValueError(f"{key} must be > 0, got {raw!r}")
    return zone.strip(), key, value


def overrides_from(texts: list[str]) -> dict[str, Profile]:
    """Collect several ``[hub/]zone:key=value`` strings into Profile overrides keyed by what was
    written before the colon (``zone`` or ``hub/zone``)."""
    by_zone: dict[str, dict[str, float]] = {}
    for text in texts:
        zone, key, value = parse_override(text)
        by_zone.setdefault(zone, {})[key] = value
    return {zone: Profile(**fields) for zone, fields in by_zone.items()}


def for_hub(hub_id: str, zones: list[str], overrides: dict[str, Profile]) -> dict[str, Profile]:
    """The overrides (keyed ``zone`` or ``hub/zone``, as :func:`overrides_from` gives them) that
    address one hub's zones, by zone id; ``hub/zone`` wins over ``zone``, field by field."""
    out: dict[str, Profile] = {}
    for zone in zones:
        fields: dict = {}
        for key in (zone, f"{hub_id}/{zone}"):
            if key in overrides:
                fields.update(overrides[key].model_dump(exclude_none=True))
        if fields:
            out[zone] = Profile(**fields)
    return out


def unknown_targets(hubs: dict[str, list[str]], overrides: dict[str, Profile]) -> list[str]:
    """Override keys that address no zone of ``hubs`` (hub id -> zone ids)."""
    zones = {z for zs in hubs.values() for z in zs}
    out = []
    for key in overrides:
        hub, _, zone = key.rpartition("/")
        if zone not in (hubs.get(hub, ()) if hub else zones):
            out.append(key)
    return sorted(out)
