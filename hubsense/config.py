"""Hub layout and agent configuration: pydantic models, validation, loading.

One TOML file per hub under ``firmware_config/`` declares the hub, its zones
(with desks), and each agent with its sensors.  That file is the single source
of truth for which sensor watches which zone or desk: the agent on the Pi and
the collector read the same file.

Models are validated apart from file reading (:func:`parse_hub` takes a dict);
:func:`load_hub` adds the file name to every error.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, field_validator, model_validator

from hubsense.protocol import ID_PATTERN, SensorKind, kind_spec
from hubsense.spans import merge_spans

Ident = Annotated[str, Field(pattern=ID_PATTERN)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ZoneKind(StrEnum):
    OPEN = "open"  # open forest-path zone (Lägerelden, Rastplatsen, …)
    ROOM = "room"  # enclosed room with a door (meeting, conference, project, Oasen)
    DESK_AREA = "desk_area"  # desks with one sensor each


class BookingUnit(StrEnum):
    HOUR = "hour"
    HALF_DAY = "half_day"
    DAY = "day"


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


WEEKDAYS = list(Weekday)


class OpeningHours(_Strict):
    """Opening hours for one set of weekdays, in the hub's local time."""

    days: list[Weekday] = Field(description="Weekdays these hours apply to, e.g. ['mon', 'tue'].")
    open: time = Field(description="Local opening time, HH:MM.")
    close: time = Field(description="Local closing time, HH:MM; must be after 'open'.")

    @model_validator(mode="after")
    def _order(self) -> OpeningHours:
        if self.close <= self.open:
            raise ValueError("'close' must be after 'open'")
        return self


ALWAYS_OPEN = "always"


def _schedule_kind(value: object) -> str:
    return ALWAYS_OPEN if isinstance(value, str) else "hours"


# ``opening_hours``: a list of OpeningHours, or the word "always" (open around the clock)
OpeningSchedule = Annotated[
    Annotated[list[OpeningHours], Field(min_length=1), Tag("hours")] | Annotated[Literal["always"], Tag(ALWAYS_OPEN)],
    Discriminator(_schedule_kind),
]


class Profile(_Strict):
    """Occupancy-inference parameters.  Unset fields take the zone kind's default and are learned
    from the zone's own history where the engine learns them; a value set here is pinned."""

    vacancy_timeout_s: float | None = Field(
        None, gt=0, description="Seconds without motion after which an open zone or desk is free. "
        "Set: pinned. Unset: learned per zone, starting from the kind's default."
    )
    vacancy_timeout_min_s: float | None = Field(
        None, gt=0, description="Lower bound of the learned vacancy timeout (default by kind: open 15, "
        "room 30, desk_area 60)."
    )
    vacancy_timeout_max_s: float | None = Field(
        None, gt=0, description="Upper bound of the learned vacancy timeout (default by kind: open 1800, "
        "room 3600, desk_area 3600)."
    )
    learn: bool | None = Field(
        None, description="false: use the kind's defaults and the values set here, learn nothing (default true)."
    )
    max_occupied_limit_s: float | None = Field(
        None, gt=0, description="Rooms: the learned stillness cap (see max_occupied_s) never exceeds this "
        "(default 172800 for rooms)."
    )
    door_exit_window_s: float | None = Field(
        None, gt=0, description="Rooms: seconds after the door opens in which motion must follow, "
        "or the room is free."
    )
    max_occupied_s: float | None = Field(
        None, gt=0, description="Longest believable stillness without fresh evidence (phantom guard). "
        "Rooms learn a longer one from the stillness they have shown unless this is set."
    )
    stuck_after_s: float | None = Field(
        None, gt=0, description="A sensor unchanged this long inside opening hours is flagged stuck."
    )


class Desk(_Strict):
    id: Ident = Field(description="Desk id, unique within the hub.")
    name: str = Field(description="Display name of the desk.")


class Zone(_Strict):
    id: Ident = Field(description="Zone id, unique within the hub.")
    name: str = Field(min_length=1, description="Display name (may contain å, ä, ö).")
    kind: ZoneKind = Field(description="'open', 'room' or 'desk_area'.")
    capacity: int = Field(ge=1, description="Number of people the zone is laid out for.")
    bookable: bool = Field(False, description="Booked and billed (meeting/conference/project rooms).")
    booked_per: list[BookingUnit] = Field(
        default_factory=list, description="How a bookable zone is booked and billed: 'hour', 'half_day' and/or "
        "'day' (shown on its card, e.g. 'booked per hour or day'). Bookable zones only."
    )
    description: str = Field("", description="What the zone is for.")
    desks: list[Desk] = Field(default_factory=list, description="Desks in a desk area.")
    profile: Profile = Field(default_factory=Profile, description="Overrides of the kind's default profile.")

    @model_validator(mode="after")
    def _desks(self) -> Zone:
        if self.desks and self.kind is not ZoneKind.DESK_AREA:
            raise ValueError("only a 'desk_area' zone can have desks")
        if self.kind is ZoneKind.DESK_AREA and not self.desks:
            raise ValueError("a 'desk_area' zone needs at least one desk")
        if self.desks and len(self.desks) > self.capacity:
            raise ValueError(f"{len(self.desks)} desks exceed capacity {self.capacity}")
        if self.booked_per and not self.bookable:
            raise ValueError("'booked_per' needs 'bookable = true'")
        return self


class Sensor(_Strict):
    id: Ident = Field(description="Sensor id, unique within the hub.")
    kind: SensorKind = Field(description="'pir' (motion) or 'door' (reed contact).")
    pin: int = Field(ge=0, le=27, description="BCM GPIO pin number on the Raspberry Pi.")
    pull_up: bool | None = Field(
        None, description="Internal pull resistor: true = pull-up, false = pull-down, "
        "null = none (pin floats; set active_high). Default: false for pir, true for door."
    )
    active_high: bool | None = Field(
        None, description="Only when pull_up is null: whether a high pin means active "
        "(motion / door closed)."
    )
    zone: Ident = Field(description="Zone this sensor watches.")
    desk: Ident | None = Field(None, description="Desk this sensor watches (desk areas only).")

    @model_validator(mode="after")
    def _pull(self) -> Sensor:
        if self.pull_up is not None and self.active_high is not None:
            raise ValueError("set either pull_up or active_high, not both")
        return self

    @property
    def effective_pull_up(self) -> bool | None:
        if self.pull_up is None and self.active_high is None:
            return kind_spec(self.kind).pull_up
        return self.pull_up


class Agent(_Strict):
    id: Ident = Field(description="Agent id (one Raspberry Pi), unique within the hub.")
    name: str = Field("", description="Where the Pi is mounted.")
    sensors: list[Sensor] = Field(min_length=1, description="Sensors wired to this Pi.")



# --- organisations and billing (docs/bookings.md) -------------------------------------

UNASSIGNED = "unassigned"  # where bookings that match no organisation land; no organisation may use the id
DOMAIN_PATTERN = r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$"
Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]


class Organisation(_Strict):
    """A member organisation: bookings are attributed to it at import, never to a person."""

    id: Ident = Field(description="Organisation id (lower case), used in URLs and file names.")
    name: str = Field(min_length=1, description="Name on the statement, e.g. 'Skatteverket'.")
    domains: list[str] = Field(
        default_factory=list, description="E-mail domains of the organisation: a booking whose organiser's "
        "address is in one of them (or a subdomain) belongs to it. Lower case, e.g. 'skatteverket.se'."
    )
    calendars: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list, description="Calendar identifiers that mean this organisation, matched exactly "
        "(case-insensitive) against a booking's organiser address (a shared booking mailbox, never a person's), "
        "a CATEGORIES value of the event, or the calendar's name (X-WR-CALNAME)."
    )

    @field_validator("domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        out = [v.strip().lower().removeprefix("@") for v in value]
        bad = [v for v in out if not re.fullmatch(DOMAIN_PATTERN, v)]
        if bad:
            raise ValueError(f"{', '.join(map(repr, bad))}: not an e-mail domain (write e.g. 'skatteverket.se')")
        return out

    @model_validator(mode="after")
    def _matchable(self) -> Organisation:
        if self.id == UNASSIGNED:
            raise ValueError(f"'{UNASSIGNED}' is reserved for bookings that match no organisation")
        if not self.domains and not self.calendars:
            raise ValueError("an organisation needs 'domains' or 'calendars' to match its bookings")
        return self


class BillingPolicy(StrEnum):
    BOOKED = "booked"  # the booked slot
    USED = "used"  # sensed occupancy inside the booking plus a billable overrun
    MAX = "max"  # the larger of the two


class NoShowCharge(StrEnum):
    FULL = "full"  # billed as booked
    SHARE = "share"  # no_show_share of what the booking would cost
    NONE_IF_TAKEN = "none_if_taken"  # nothing when the released room was used by others, else full


class Tariff(_Strict):
    """Price and billing policy of one or more bookable rooms."""

    id: Ident = Field(description="Tariff id, e.g. 'motesrum'.")
    rooms: list[Ident] = Field(min_length=1, description="Bookable zones (ids) billed with this tariff; a room "
                               "has at most one tariff.")
    price_per_hour: Money = Field(description="Price per hour in the hub's currency, at most 2 decimals "
                                  "(write it as a string or an integer, e.g. \"450.00\").")
    minimum_charge: Money = Field(Decimal(0), description="Least a booking that takes place costs, in the "
                                  "hub's currency.")
    rounding_min: Literal[15, 30, 60] = Field(15, description="Billed time is rounded UP to whole steps of "
                                              "this many minutes: 15, 30 or 60.")
    policy: BillingPolicy = Field(BillingPolicy.BOOKED, description="'booked' (the booked slot), 'used' (sensed "
                                  "occupancy inside the booking plus a billable overrun) or 'max' (the larger).")
    overrun_grace_min: float = Field(10, ge=0, description="An overrun (the room still in use after the "
                                     "booking's end) up to this many minutes is free; a longer one is billed in "
                                     "full under 'used' and 'max'.")
    no_show: NoShowCharge = Field(NoShowCharge.FULL, description="What a no-show (a released booking) costs: "
                                  "'full', 'share' (no_show_share of the full price) or 'none_if_taken' "
                                  "(nothing when the released room was then used by others, else full).")
    no_show_share: Decimal | None = Field(None, ge=0, le=1, max_digits=4, decimal_places=3,
                                          description="With no_show = 'share': the share of the full price, "
                                          "0..1, e.g. 0.5.")

    @model_validator(mode="after")
    def _share(self) -> Tariff:
        if self.no_show is NoShowCharge.SHARE and self.no_show_share is None:
            raise ValueError("no_show = 'share' needs 'no_show_share' (0..1)")
        if self.no_show is not NoShowCharge.SHARE and self.no_show_share is not None:
            raise ValueError("'no_show_share' is only used with no_show = 'share'")
        return self


class Billing(_Strict):
    """How the hub's bookable rooms are billed (see docs/bookings.md)."""

    currency: str = Field("SEK", pattern=r"^[A-Z]{3}$", description="ISO 4217 currency of every price, "
                          "e.g. 'SEK'.")
    release_after_min: float | None = Field(
        None, gt=0, description="A booked room still empty this many minutes into its booking (no motion, door "
        "closed or never opened) is released: members see it free, and the booking is a no-show. Default: the "
        "bookings_grace_min setting."
    )
    tariffs: list[Tariff] = Field(default_factory=list, description="Prices and policies of the bookable rooms; "
                                  "a room without a tariff is not billed.")

    def tariff_of(self, zone: str) -> Tariff | None:
        return next((t for t in self.tariffs if zone in t.rooms), None)


class Hub(_Strict):
    id: Ident = Field(description="Hub id, used in MQTT topics and URLs.")
    name: str = Field(description="Display name of the hub.")
    address: str = Field("", description="Street address.")
    city: str | None = Field(None, min_length=1, max_length=80, pattern=r"^\S(.*\S)?$",
                             description="City or town the hub is in (optional): shown with the hub and searched "
                             "by the hub picker and the network overview.")
    region: str | None = Field(None, min_length=1, max_length=80, pattern=r"^\S(.*\S)?$",
                               description="Region the hub belongs to (optional, e.g. 'Norrland'): the hub picker "
                               "and the network overview group hubs by it. A city's hubs must share one region.")
    timezone: str = Field(description="IANA time zone of the opening hours, e.g. 'Europe/Stockholm' (required: "
                          "a guess would shift every opening hour and statistic).")
    opening_hours: OpeningSchedule = Field(
        description='When the hub is open: [[opening_hours]] tables (weekdays with opening and closing times), '
        'or "always" for a space open around the clock every day (a home, a 24/7 hub).'
    )
    zones: list[Zone] = Field(min_length=1, description="Zones along the forest path, rooms, desk areas.")
    agents: list[Agent] = Field(default_factory=list, description="Raspberry Pi agents and their sensors.")
    organisations: list[Organisation] = Field(
        default_factory=list, description="Member organisations that book rooms: bookings are attributed to them "
        "by e-mail domain or calendar identifier; unmatched ones are 'unassigned'."
    )
    billing: Billing = Field(default_factory=Billing, description="Currency, release rule and tariffs of the "
                             "bookable rooms.")

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _cross_references(self) -> Hub:
        errors = list(cross_reference_errors(self))
        if errors:  # one line per error: parse_hub reports (and counts) them one by one
            raise ValueError("\n".join(errors))
        return self

    # -- lookups -------------------------------------------------------------

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def zone(self, zone_id: str) -> Zone:
        for zone in self.zones:
            if zone.id == zone_id:
                return zone
        raise KeyError(zone_id)

    def agent(self, agent_id: str) -> Agent:
        for agent in self.agents:
            if agent.id == agent_id:
                return agent
        raise KeyError(agent_id)

    def sensors(self) -> dict[str, tuple[Agent, Sensor]]:
        """Every sensor of the hub by id, with its agent."""
        return {s.id: (a, s) for a in self.agents for s in a.sensors}

    # -- opening hours ---------------------------------------------------------

    @property
    def always_open(self) -> bool:
        """``opening_hours = "always"``: open around the clock, every day."""
        return self.opening_hours == ALWAYS_OPEN

    def hours_on(self, day: date) -> list[OpeningHours]:
        """The opening-hours entries that apply on a local date (none: closed all day; a hub that is
        always open has none either: ask :attr:`always_open` or use :meth:`open_spans`)."""
        if self.opening_hours == ALWAYS_OPEN:
            return []
        weekday = WEEKDAYS[day.weekday()]
        return [h for h in self.opening_hours if weekday in h.days]

    def open_spans(self, start: float, end: float) -> list[tuple[float, float]]:
        """Opening hours inside [start, end] (epoch seconds) as sorted, disjoint epoch spans.

        The one expansion of "local day x opening hours": each local date's hours become UTC
        instants through zoneinfo, so a DST day keeps its local 08:00-17:00 (the instants shift by
        an hour; the open length changes only if the hours span the 02:00-03:00 jump)."""
        if end <= start:
            return []
        if self.always_open:
            return [(start, end)]
        tz = self.tz
        day = datetime.fromtimestamp(start, UTC).astimezone(tz).date()
        last = datetime.fromtimestamp(end, UTC).astimezone(tz).date()
        spans = []
        while day <= last:
            for hours in self.hours_on(day):
                a = datetime.combine(day, hours.open, tz).timestamp()
                b = datetime.combine(day, hours.close, tz).timestamp()
                spans.append((max(a, start), min(b, end)))
            day += timedelta(days=1)
        return merge_spans(spans)


def _duplicates(ids: list[str]) -> list[str]:
    return sorted(i for i, n in Counter(ids).items() if n > 1)


def cross_reference_errors(hub: Hub) -> list[str]:
    """Errors no single field can see: dangling references, duplicates, pin clashes."""
    errors: list[str] = []
    zones = {z.id: z for z in hub.zones}
    for dup in _duplicates([z.id for z in hub.zones]):
        errors.append(f"zones: duplicate zone id {dup!r}")
    for dup in _duplicates([d.id for z in hub.zones for d in z.desks]):
        errors.append(f"zones: duplicate desk id {dup!r}")
    for dup in _duplicates([a.id for a in hub.agents]):
        errors.append(f"agents: duplicate agent id {dup!r}")
    for dup in _duplicates([s.id for a in hub.agents for s in a.sensors]):
        errors.append(f"agents: duplicate sensor id {dup!r}")
    for i, agent in enumerate(hub.agents):
        for pin in _duplicates([str(s.pin) for s in agent.sensors]):
            names = " and ".join(repr(s.id) for s in agent.sensors if str(s.pin) == pin)
            errors.append(f"agents.{i}.sensors: sensors {names} of agent {agent.id!r} are both on pin {pin}")
        for j, sensor in enumerate(agent.sensors):
            loc = f"agents.{i}.sensors.{j}"
            zone = zones.get(sensor.zone)
            if zone is None:
                errors.append(f"{loc}.zone: sensor {sensor.id!r} points at unknown zone {sensor.zone!r}")
                continue
            if sensor.desk is not None and sensor.desk not in {d.id for d in zone.desks}:
                errors.append(
                    f"{loc}.desk: sensor {sensor.id!r} points at desk {sensor.desk!r}, "
                    f"which zone {zone.id!r} does not have"
                )
            spec = kind_spec(sensor.kind)
            if spec.rooms_only and zone.kind is not ZoneKind.ROOM:
                errors.append(f"{loc}.kind: {sensor.kind} sensor {sensor.id!r} in zone {zone.id!r}, "
                              "which is not a room")
            if not spec.desks and sensor.desk is not None:
                errors.append(f"{loc}.desk: {sensor.kind} sensor {sensor.id!r} cannot watch a desk")
    return errors + billing_errors(hub, zones)


def billing_errors(hub: Hub, zones: dict[str, Zone]) -> list[str]:
    """Organisations and tariffs: unique ids, a domain or identifier claimed once, tariffs only on
    bookable rooms and at most one per room."""
    errors: list[str] = []
    for dup in _duplicates([o.id for o in hub.organisations]):
        errors.append(f"organisations: duplicate organisation id {dup!r}")
    for what, values in (("domain", lambda o: o.domains), ("calendar identifier", lambda o: o.calendars)):
        owners: dict[str, str] = {}
        for i, org in enumerate(hub.organisations):
            for value in values(org):
                key = value.lower()
                if key in owners and owners[key] != org.id:
                    errors.append(f"organisations.{i}: {what} {value!r} is claimed by {owners[key]!r} too")
                owners.setdefault(key, org.id)
    for dup in _duplicates([t.id for t in hub.billing.tariffs]):
        errors.append(f"billing.tariffs: duplicate tariff id {dup!r}")
    billed: dict[str, str] = {}
    for i, tariff in enumerate(hub.billing.tariffs):
        for room in tariff.rooms:
            zone = zones.get(room)
            if zone is None:
                errors.append(f"billing.tariffs.{i}.rooms: unknown zone {room!r}")
            elif not zone.bookable:
                errors.append(f"billing.tariffs.{i}.rooms: zone {room!r} is not bookable (set 'bookable = true')")
            elif room in billed:
                errors.append(f"billing.tariffs.{i}.rooms: room {room!r} already has tariff {billed[room]!r}")
            billed.setdefault(room, tariff.id)
    return errors


class ConfigError(Exception):
    """A config file that cannot be used; ``errors`` lists 'file: field: reason' lines."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def parse_hub(data: dict, source: str = "<config>", text: str | None = None) -> Hub:
    """Validate a hub config dict; raises :class:`ConfigError` with one line per error, naming
    source (with the line number when ``text``, the file's TOML, is given), field and reason.
    Fields inside lists are named by the id of their item: ``agents[sthlm-pi-skog].sensors[desk-03-pir].pin``."""
    try:
        return Hub.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_url=False):
            lines += _format(source, err, data, text)
        raise ConfigError(lines) from None


def _format(source: str, err: dict, data: dict, text: str | None) -> list[str]:
    msg = err["msg"].removeprefix("Value error, ")
    if err["loc"][:1] == ("opening_hours",) and err["loc"][1:2] in (("hours",), (ALWAYS_OPEN,)):
        if err["loc"][1] == ALWAYS_OPEN:  # a string other than "always"
            msg = f'must be [[opening_hours]] tables or "always", not {err.get("input")!r}'
        err = {**err, "loc": ("opening_hours", *err["loc"][2:])}  # the schedule's tag is no field name
    if err["type"] == "extra_forbidden":
        msg = "unknown field"
    if err["type"] == "missing":
        msg = "required field missing"
    if err["type"] == "value_error" and err["loc"] == ():
        # the hub's cross-reference errors: one per line, each 'dotted.loc: reason'
        out = []
        for line in msg.split("\n"):
            loc, _, reason = line.partition(": ")
            out.append(_located(source, tuple(_path_parts(loc)), reason, data, text))
        return out
    return [_located(source, tuple(err["loc"]), msg, data, text)]


def _path_parts(dotted: str) -> list[str | int]:
    return [int(p) if p.isdigit() else p for p in dotted.split(".") if p]


def _located(source: str, loc: tuple, msg: str, data: dict, text: str | None) -> str:
    named, ids = _named_path(loc, data)
    line = _line_of(text, ids, loc[-1] if loc and isinstance(loc[-1], str) else None) if text else None
    where = f"{source}:{line}" if line else source
    return f"{where}: {named or '(top level)'}: {msg}"


def _named_path(loc: tuple, data: object) -> tuple[str, list[str]]:
    """'agents.1.sensors.0.pin' as 'agents[sthlm-pi-skog].sensors[desk-03-pir].pin' (and the ids passed)."""
    parts: list[str] = []
    ids: list[str] = []
    node = data
    for key in loc:
        if isinstance(key, int) and isinstance(node, list) and 0 <= key < len(node):
            node = node[key]
            item_id = node.get("id") if isinstance(node, dict) else None
            if isinstance(item_id, str) and parts:
                parts[-1] += f"[{item_id}]"
                ids.append(item_id)
            elif parts:
                parts[-1] += f"[{key}]"
            continue
        parts.append(str(key))
        node = node.get(key) if isinstance(node, dict) else None
    return ".".join(parts), ids


def _line_of(text: str, ids: list[str], field: str | None) -> int | None:
    """Best-effort line number: where the innermost item (by its id) is declared, and within it the
    field.  tomllib gives no positions, so the TOML text is searched in order of the path's ids."""
    lines = text.splitlines()
    at = 0
    for item_id in ids:
        found = next((i for i in range(at, len(lines)) if re.search(rf'\bid\s*=\s*"{re.escape(item_id)}"', lines[i])),
                     None)
        if found is None:
            return None
        at = found
    if field is None:
        return at + 1 if ids else None
    key = re.compile(rf"(^|[{{,\s]){re.escape(field)}\s*=")
    for i in range(at, len(lines)):
        if i > at and lines[i].lstrip().startswith("[") and ids:
            break  # the next table: the field is not written in this item
        if key.search(lines[i]):
            return i + 1
    return at + 1 if ids else None


def load_hub(path: str | Path) -> Hub:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    return parse_hub(data, str(path), text)


def region_errors(hubs: dict[str, Hub], where: dict[str, Path]) -> list[str]:
    """A city whose hubs name different regions (the picker would show it twice): one error per hub
    that disagrees with the first hub of that city."""
    first: dict[str, Hub] = {}
    errors = []
    for hub in hubs.values():
        if hub.city is None:
            continue
        seen = first.setdefault(hub.city.casefold(), hub)
        if seen.region != hub.region:
            errors.append(f"{where[hub.id]}: region: {hub.region!r} for city {hub.city!r}, but {where[seen.id]} "
                          f"puts {seen.city!r} in region {seen.region!r}")
    return errors


def load_hubs(paths: list[str | Path]) -> dict[str, Hub]:
    """Load several hub files (or directories of ``*.toml``); errors from all files are collected."""
    files: list[Path] = []
    for p in map(Path, paths):
        files.extend(sorted(p.glob("*.toml")) if p.is_dir() else [p])
    hubs: dict[str, Hub] = {}
    where: dict[str, Path] = {}
    errors: list[str] = []
    for f in files:
        try:
            hub = load_hub(f)
        except ConfigError as exc:
            errors.extend(exc.errors)
            continue
        if hub.id in hubs:
            errors.append(f"{f}: id: hub id {hub.id!r} is declared in {where[hub.id]} too")
        hubs[hub.id] = hub
        where.setdefault(hub.id, f)
    errors += region_errors(hubs, where)
    if not files:
        errors.append(f"{', '.join(map(str, paths))}: no hub config files found")
    if errors:
        raise ConfigError(errors)
    return hubs


DEFAULT_CONFIG_DIR = Path(__file__).resolve().parent.parent / "firmware_config"
