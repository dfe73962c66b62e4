"""Statistics routes: utilisation, heatmap and sessions for facility managers; the busy-times
forecast for members ("usually free at this time").

``start`` / ``end`` are parsed by :func:`collector.api.params.period` (ISO 8601 with offset, or a bare
date = the hub's local midnight).  Every route also answers ``?format=csv`` (header row, ISO 8601
times), which needs a manager token.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query, Response

from collector.api.access import LIVE, MANAGER
from collector.api.formats import csv_response, iso, json_response, null, nullable
from collector.api.models import ForecastReport, HeatmapReport, SessionsReport, UtilisationReport
from collector.api.params import (
    DIALECT,
    END,
    FORMAT,
    START,
    ZONE,
    Bucket,
    Dialect,
    Format,
    get_hub,
    get_settings,
    get_store,
    period,
    select_zones,
)
from collector.api.security import GuardedRoute
from collector.settings import Settings
from collector.stats import doors, forecast, heatmap, sessions, utilisation
from collector.stats.load import load_door_openings, load_history
from collector.stats.localtime import from_epoch
from collector.store.base import Store
from hubsense.config import Hub, Zone

router = APIRouter(route_class=GuardedRoute)


@router.get("/api/hubs/{hub}/utilisation", response_model=UtilisationReport, dependencies=[MANAGER],
            summary="Time-weighted utilisation per zone and for the hub, in local calendar buckets")
def get_utilisation(
    start: str = START, end: str = END,
    bucket: Bucket = Query("day", description="Bucket size (local calendar)."),
    zone: str | None = ZONE, format: Format = FORMAT, dialect: Dialect = DIALECT,
    hub: Hub = Depends(get_hub), store: Store = Depends(get_store), settings: Settings = Depends(get_settings),
) -> Response:
    s, e = period(hub, start, end, settings, bucket)
    zones = select_zones(hub, zone)
    zone = zones[0].id if zone else None
    now = datetime.now(UTC)
    report = utilisation.utilisation(hub, load_history(store, hub, s, e, now, zone), bucket, zones)
    rows = _utilisation_rows(hub, report)
    if format == "csv":
        return csv_response(rows, list(rows[0]) if rows else [], f"{hub.id}-utilisation", dialect, hub.tz)
    return json_response({"hub": hub.id, "timezone": hub.timezone, "start": s.isoformat(),
                          "end": e.isoformat(), "measured_until": _measured_until(s, e, now),
                          "bucket": bucket, "rows": rows})


def _measured_until(start: datetime, end: datetime, now: datetime) -> str:
    return max(start, min(end, now)).isoformat()


def _utilisation_rows(hub: Hub, report: utilisation.Utilisation) -> list[dict]:
    starts, ends = iso(report.edges[:-1]), iso(report.edges[1:])
    local = [datetime.fromtimestamp(t, hub.tz).isoformat() for t in report.edges[:-1].tolist()]
    rows: list[dict] = []
    none = [None] * len(starts)
    for series in [*report.zones, report.hub]:
        zone, kind = (series.zone.id, series.zone.kind.value) if series.zone else (None, None)
        desks = series.desks or None
        peak, share = none, none
        if series.peak_desks is not None:
            peak = [p if p >= 0 else None for p in series.peak_desks.tolist()]
            share = nullable(series.peak_desk_share)
        rows += [
            {"start": a, "end": b, "local_start": ls, "zone": zone, "kind": kind, "open_s": o, "known_s": k,
             "occupied_s": oc, "utilisation": u, "data_quality": q, "desks": desks, "peak_desks_in_use": p,
             "peak_desk_share": sh}
            for a, b, ls, o, k, oc, u, q, p, sh in zip(
                starts, ends, local, series.open_s.tolist(), series.known_s.tolist(), series.occupied_s.tolist(),
                nullable(series.utilisation), nullable(series.data_quality), peak, share, strict=True)
        ]
    return rows


@router.get("/api/hubs/{hub}/heatmap", response_model=HeatmapReport, dependencies=[MANAGER],
            summary="Hour-of-week occupancy heatmap per zone (open hours, local time, Monday first)")
def get_heatmap(
    start: str = START, end: str = END, zone: str | None = ZONE, format: Format = FORMAT,
    dialect: Dialect = DIALECT,
    hub: Hub = Depends(get_hub), store: Store = Depends(get_store), settings: Settings = Depends(get_settings),
) -> Response:
    s, e = period(hub, start, end, settings)
    now = datetime.now(UTC)
    zones = select_zones(hub, zone)
    zone = zones[0].id if zone else None
    maps = heatmap.heatmap(hub, load_history(store, hub, s, e, now, zone), zones)
    if format == "csv":
        rows = [{"zone": m.zone.id, "weekday": d, "hour": h, "share": null(m.share[d, h]),
                 "data_quality": null(m.data_quality[d, h]), "open_s": float(m.open_s[d, h]),
                 "known_s": float(m.known_s[d, h]), "occupied_s": float(m.occupied_s[d, h])}
                for m in maps for d in range(7) for h in range(24)]
        columns = ["zone", "weekday", "hour", "share", "data_quality", "open_s", "known_s", "occupied_s"]
        return csv_response(rows, columns, f"{hub.id}-heatmap", dialect, hub.tz)
    zones = [{"zone": m.zone.id, "share": [nullable(r) for r in m.share],
              "data_quality": [nullable(r) for r in m.data_quality],
              "open_hours": (m.open_s / 3600).tolist()} for m in maps]
    return json_response({"hub": hub.id, "timezone": hub.timezone, "start": s.isoformat(),
                          "end": e.isoformat(), "measured_until": _measured_until(s, e, now),
                          "hours": "open", "zones": zones})


@router.get("/api/hubs/{hub}/forecast", response_model=ForecastReport, dependencies=[LIVE],
            summary="Busy-times forecast: occupancy probability per zone and local hour of the week")
def get_forecast(
    zone: str | None = ZONE,
    weeks: int = Query(forecast.DEFAULT_WEEKS, ge=1, le=52, description="Weeks of history to use."),
    format: Format = FORMAT, dialect: Dialect = DIALECT, hub: Hub = Depends(get_hub),
    store: Store = Depends(get_store),
) -> Response:
    zones = select_zones(hub, zone)
    zone = zones[0].id if zone else None
    now = datetime.now(UTC)
    start, _ = forecast.window(now.timestamp(), weeks)
    history = load_history(store, hub, from_epoch(start), now, now, zone)
    forecasts = forecast.forecast(hub, history, zones)
    rows = [{"zone": f.zone.id, "weekday": d, "hour": h, "probability": null(f.probability[d, h]),
             "weeks": int(f.weeks[d, h]), "label": forecast.label(f.probability[d, h], int(f.weeks[d, h]))}
            for f in forecasts for d in range(7) for h in range(24)]
    if format == "csv":
        return csv_response(rows, ["zone", "weekday", "hour", "probability", "weeks", "label"],
                            f"{hub.id}-forecast", dialect, hub.tz)
    quality = {f.zone.id: null(f.data_quality) for f in forecasts}
    by_zone = [{"zone": z.id, "data_quality": quality[z.id],
                "cells": [{k: v for k, v in r.items() if k != "zone"} for r in rows if r["zone"] == z.id]}
               for z in zones]
    return json_response({"hub": hub.id, "timezone": hub.timezone, "generated_at": now.isoformat(),
                          "window_start": from_epoch(start).isoformat(), "weeks": weeks, "zones": by_zone})


@router.get("/api/hubs/{hub}/sessions", response_model=SessionsReport, dependencies=[MANAGER],
            summary="Three tables: occupied sessions, daily peak concurrency and door traffic")
def get_sessions(
    start: str = START, end: str = END, zone: str | None = ZONE, format: Format = FORMAT,
    dialect: Dialect = DIALECT,
    table: Literal["sessions", "peaks", "doors"] = Query(
        "sessions", description="With format=csv, the table to export (a CSV holds one table): 'sessions' "
        "(the default: one row per zone and desk), 'peaks' (one row per local day) or 'doors' (one row per "
        "room with a door sensor). JSON always holds all three, under these names."),
    hub: Hub = Depends(get_hub), store: Store = Depends(get_store), settings: Settings = Depends(get_settings),
) -> Response:
    s, e = period(hub, start, end, settings)
    zones = select_zones(hub, zone)
    zone = zones[0].id if zone else None
    now = datetime.now(UTC)
    history = load_history(store, hub, s, e, now, zone)
    tables = {
        "peaks": _peak_rows(hub, sessions.daily_peaks(hub, history, zones)),
        "sessions": [vars(x) for x in sessions.sessions(hub, history, zones)],
        "doors": _door_rows(hub, store, s, e, now, zones),
    }
    if format == "csv":
        rows = tables[table]
        columns = list(rows[0]) if rows else []
        if table == "doors":
            rows = [{**r, "by_hour_of_day": " ".join(map(str, r["by_hour_of_day"]))} for r in rows]
        return csv_response(rows, columns, f"{hub.id}-{table}", dialect, hub.tz)
    return json_response({"hub": hub.id, "timezone": hub.timezone, "start": s.isoformat(),
                          "end": e.isoformat(), "measured_until": _measured_until(s, e, now), **tables})


def _peak_rows(hub: Hub, peaks: sessions.DailyPeaks) -> list[dict]:
    starts = peaks.edges[:-1]
    none = [None] * len(starts)
    zones = peaks.zones.tolist() if peaks.zones is not None else none
    desks = peaks.desks.tolist() if peaks.desks is not None else none
    return [{"start": a, "end": b, "date": datetime.fromtimestamp(t, hub.tz).date().isoformat(),
             "peak_zones": z if z is not None and z >= 0 else None,
             "peak_desks": d if d is not None and d >= 0 else None}
            for a, b, t, z, d in zip(iso(starts), iso(peaks.edges[1:]), starts.tolist(), zones, desks, strict=True)]


def _door_rows(hub: Hub, store: Store, start: datetime, end: datetime, now: datetime,
               zones: list[Zone]) -> list[dict]:
    openings = load_door_openings(store, hub, start, end)
    traffic = doors.door_traffic(hub, openings, start.timestamp(), end.timestamp(), now.timestamp(),
                                 [z.id for z in zones])
    return [vars(t) for t in traffic]
