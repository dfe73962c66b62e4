"""Response models of the statistics API (documented in the OpenAPI schema).

Routes build plain rows (dicts) from numpy columns and serialise them with
orjson; these models document the shape and are used to validate in tests.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from hubsense.config import ZoneKind

_TIMES = "UTC, ISO 8601"
_MEASURED = ("min(end, now) (UTC, ISO 8601): nothing after now is observed, so time after it is neither "
             "open, known nor occupied, and buckets that lie wholly after it have null figures.")


class UtilisationRow(BaseModel):
    start: datetime = Field(description=f"Bucket start ({_TIMES}); the query start for the first bucket.")
    end: datetime = Field(description=f"Bucket end, exclusive ({_TIMES}); the query end for the last bucket.")
    local_start: datetime = Field(description="Bucket start in the hub's local time, with its UTC offset.")
    zone: str | None = Field(description="Zone id; null for the hub total (all zones pooled).")
    kind: ZoneKind | None = Field(description="Zone kind; null for the hub total.")
    open_s: float = Field(description="Seconds inside opening hours up to measured_until (zone-equivalent; "
                          "summed over zones for the hub total).")
    known_s: float = Field(description="Open seconds in which the state was known (not unknown).")
    occupied_s: float = Field(description="Open seconds occupied; for desk areas desk-seconds in use "
                              "divided by the number of desks.")
    utilisation: float | None = Field(description="occupied_s / known_s, 0..1; null when nothing was known. "
                                      "Unknown time is never counted as free.")
    data_quality: float | None = Field(description="known_s / open_s, 0..1: share of open time with working "
                                       "sensors; null when the bucket has no open time.")
    desks: int | None = Field(description="Desks in a desk area (null for other zones).")
    peak_desks_in_use: int | None = Field(description="Desk areas: most desks in use at once during open "
                                          "hours; null elsewhere or when closed.")
    peak_desk_share: float | None = Field(description="peak_desks_in_use / desks, 0..1.")


class UtilisationReport(BaseModel):
    hub: str = Field(description="Hub id.")
    timezone: str = Field(description="IANA time zone of the buckets and opening hours.")
    start: datetime = Field(description=f"Query start ({_TIMES}).")
    end: datetime = Field(description=f"Query end, exclusive ({_TIMES}).")
    measured_until: datetime = Field(description=_MEASURED)
    bucket: str = Field(description="hour, day, week or month (local calendar boundaries).")
    rows: list[UtilisationRow] = Field(description="One row per bucket and zone, then per bucket for the hub.")


class HeatmapZone(BaseModel):
    zone: str = Field(description="Zone id.")
    share: list[list[float | None]] = Field(
        description="7 x 24 (Monday first, local hours): occupied share of known open time; null when the "
        "hour was never open in the period or nothing was known."
    )
    data_quality: list[list[float | None]] = Field(description="7 x 24: known share of open time; null if never open.")
    open_hours: list[list[float]] = Field(description="7 x 24: open hours that fell into each cell.")


class HeatmapReport(BaseModel):
    hub: str = Field(description="Hub id.")
    timezone: str = Field(description="IANA time zone of the hour-of-week cells.")
    start: datetime = Field(description=f"Query start ({_TIMES}).")
    end: datetime = Field(description=f"Query end, exclusive ({_TIMES}).")
    measured_until: datetime = Field(description=_MEASURED)
    hours: str = Field(description="Which hours count: always 'open' (opening hours only).")
    zones: list[HeatmapZone] = Field(description="One heatmap per zone.")


class ForecastCell(BaseModel):
    weekday: int = Field(description="0 = Monday … 6 = Sunday (local).")
    hour: int = Field(description="Local hour of day, 0..23.")
    probability: float | None = Field(description="Share of known open time the zone was occupied in this "
                                      "hour over the window; null without evidence.")
    weeks: int = Field(description="Weeks in the window that gave known open time in this hour.")
    label: str = Field(description="'usually free' (< 25 %), 'often busy' (< 60 %), 'usually busy', or 'no data'.")


class ForecastZone(BaseModel):
    zone: str = Field(description="Zone id.")
    data_quality: float | None = Field(description="Known share of the window's open time, 0..1; null if the "
                                       "hub was never open in the window.")
    cells: list[ForecastCell] = Field(description="168 cells, Monday 00 first.")


class ForecastReport(BaseModel):
    hub: str = Field(description="Hub id.")
    timezone: str = Field(description="IANA time zone of the cells.")
    generated_at: datetime = Field(description=f"When the forecast was made ({_TIMES}).")
    window_start: datetime = Field(description=f"Start of the history used ({_TIMES}).")
    weeks: int = Field(description="Weeks of history used (the window is weeks x 7 days before generated_at).")
    zones: list[ForecastZone] = Field(description="One forecast per zone.")


class DailyPeak(BaseModel):
    start: datetime = Field(description=f"Local day start ({_TIMES}), clipped to the query.")
    end: datetime = Field(description=f"Local day end ({_TIMES}), clipped to the query.")
    date: str = Field(description="Local date, YYYY-MM-DD.")
    peak_zones: int | None = Field(description="Most zones (other than desk areas) occupied at once during "
                                   "open hours; null when closed all day or the selection has no such zones.")
    peak_desks: int | None = Field(description="Most desks in use at once during open hours; null when closed "
                                   "or when the selection has no desks.")


class SessionRow(BaseModel):
    zone: str = Field(description="Zone id.")
    desk: str | None = Field(description="Desk id, or null for the zone itself.")
    count: int = Field(description="Occupied sessions overlapping the period.")
    median_s: float | None = Field(description="Median session duration in seconds (clipped to the period).")
    p90_s: float | None = Field(description="90th-percentile session duration in seconds.")
    data_quality: float | None = Field(description="Known share of the period's open time for this zone or desk, "
                                       "0..1; null if never open.")


class DoorRow(BaseModel):
    zone: str = Field(description="Zone id of a room with a door sensor.")
    openings: int = Field(description="Door openings in the period (agent clock).")
    openings_open_hours: int = Field(description="Openings inside opening hours.")
    per_open_hour: float | None = Field(description="openings_open_hours per open hour; null if never open.")
    by_hour_of_day: list[int] = Field(description="24 counts of openings by local hour of day.")


class SessionsReport(BaseModel):
    hub: str = Field(description="Hub id.")
    timezone: str = Field(description="IANA time zone of the days.")
    start: datetime = Field(description=f"Query start ({_TIMES}).")
    end: datetime = Field(description=f"Query end, exclusive ({_TIMES}).")
    measured_until: datetime = Field(description=_MEASURED)
    peaks: list[DailyPeak] = Field(description="Peak concurrent occupancy per local day.")
    sessions: list[SessionRow] = Field(description="Occupied sessions per zone and per desk.")
    doors: list[DoorRow] = Field(description="Door traffic per room with a door sensor.")
