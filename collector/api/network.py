"""The network overview for operators: every hub in one table, and utilisation compared across hubs.

Both routes read the cached per-hub summaries (:mod:`collector.network`), so they stay fast at
1,000 hubs: live figures are rebuilt per hub when that hub changes, yesterday's and this week's
utilisation by a background refresh.  Both list only the hubs the caller's token may see
(``EACH_HUB``); ``?hub=`` picks some of them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from collector.api.access import EACH_HUB, MANAGER
from collector.api.formats import JSONBytes, csv_response, dumps
from collector.api.models import NetworkOverview, NetworkUtilisation, SpoolStatus
from collector.api.params import (
    DIALECT,
    FORMAT,
    Dialect,
    Format,
    bounded_date,
    find_hub,
    get_settings,
    get_visible_hubs,
)
from collector.api.security import GuardedRoute
from collector.network import NetworkSummaries, date_buckets, total
from collector.settings import Settings
from collector.store.base import ReportsStatus
from hubsense.config import Hub

router = APIRouter(dependencies=[MANAGER, EACH_HUB], route_class=GuardedRoute)
MAX_ROWS = 100_000  # hubs x buckets in one comparison
HUBS = Query(None, description="Only these hubs (repeatable; default: every hub the token may see).")
OVERVIEW_COLUMNS = ["id", "name", "city", "region", "zones", "free", "occupied", "unknown", "open_now", "agents",
                    "agents_offline", "stuck_sensors", "queued", "dropped", "yesterday_utilisation",
                    "yesterday_data_quality", "week_utilisation", "week_data_quality"]


def _chosen(hubs: dict[str, Hub], asked: list[str] | None) -> dict[str, Hub]:
    if not asked:
        return hubs
    chosen = [find_hub(hubs, h) for h in asked]  # 404 names the hubs the caller may see
    return {h.id: h for h in chosen}


@router.get("/api/network/hubs", response_model=NetworkOverview,
            summary="Every hub in one table: live counts, agents offline, stuck sensors, queues, utilisation")
def network_hubs(request: Request, hub: list[str] | None = HUBS, format: Format = FORMAT,
                 dialect: Dialect = DIALECT, hubs: dict[str, Hub] = Depends(get_visible_hubs)) -> Response:
    summaries: NetworkSummaries = request.app.state.summaries
    now = datetime.now(UTC)
    chosen = _chosen(hubs, hub)
    if format == "csv":
        rows = [summaries.overview(h, now) for h in chosen]
        flat = [{**r, **_flat("yesterday", r["yesterday"]), **_flat("week", r["week"])} for r in rows]
        return csv_response(flat, OVERVIEW_COLUMNS, "network-hubs", dialect)
    store = request.app.state.store
    spool = SpoolStatus(**store.status()).model_dump() if isinstance(store, ReportsStatus) else None
    head = dumps({"generated_at": now, "history_at": summaries.history_at, "spool": spool})
    body = summaries.overview_body(chosen, now)  # cached per hub, and joined while nothing changes
    return JSONBytes(head[:-1] + b',"hubs":' + body + b"}")


def _flat(prefix: str, figures: dict | None) -> dict:
    figures = figures or {}
    return {f"{prefix}_utilisation": figures.get("utilisation"), f"{prefix}_data_quality": figures.get("data_quality")}


def _local_date(value: str, name: str) -> date:
    try:
        if len(value) == 10:
            return bounded_date(date.fromisoformat(value), name)
    except ValueError:
        pass
    raise HTTPException(400, f"{name}: {value!r} is not a local date (YYYY-MM-DD); hubs compare by their own "
                             "calendar days, so this route takes dates, not times")


@router.get("/api/network/utilisation", response_model=NetworkUtilisation,
            summary="Utilisation of many hubs side by side, by local day, week or month")
def network_utilisation(
    request: Request,
    start: str = Query(..., description="First local date, inclusive (YYYY-MM-DD; each hub's own midnight)."),
    end: str = Query(..., description="Local date the period ends before, EXCLUSIVE (YYYY-MM-DD)."),
    bucket: Literal["day", "week", "month"] = Query("day", description="day, week (Monday first) or month."),
    hub: list[str] | None = HUBS, format: Format = FORMAT, dialect: Dialect = DIALECT,
    hubs: dict[str, Hub] = Depends(get_visible_hubs), settings: Settings = Depends(get_settings),
) -> Response:
    first, last = _local_date(start, "start"), _local_date(end, "end")
    if last <= first:
        raise HTTPException(400, f"end ({end}) must be after start ({start}); end is exclusive")
    if (last - first).days > settings.max_range_days:
        raise HTTPException(400, f"period longer than max_range_days ({settings.max_range_days} days)")
    chosen = _chosen(hubs, hub)
    buckets = date_buckets(first, last, bucket)
    if len(buckets) * len(chosen) > MAX_ROWS:
        raise HTTPException(400, f"{len(buckets)} {bucket} buckets x {len(chosen)} hubs > {MAX_ROWS} rows; use a "
                                 "larger bucket, a shorter period or fewer hubs (?hub=)")
    summaries: NetworkSummaries = request.app.state.summaries
    now = datetime.now(UTC)
    series = []
    for h in chosen.values():
        days = summaries.days(h.id, first, last - timedelta(days=1), now)
        rows = [{"start": a.isoformat(), "end": b.isoformat(),
                 **total(days[(a - first).days:(b - first).days]).as_dict()} for a, b in buckets]
        series.append({"hub": h.id, "name": h.name, "city": h.city, "region": h.region, "buckets": rows})
    if format == "csv":
        flat = [{"hub": s["hub"], "name": s["name"], "city": s["city"], "region": s["region"], **r}
                for s in series for r in s["buckets"]]
        columns = ["hub", "name", "city", "region", "start", "end", "utilisation", "data_quality", "open_s",
                   "known_s", "occupied_s"]
        return csv_response(flat, columns, "network-utilisation", dialect)
    return JSONBytes(dumps({"start": first.isoformat(), "end": last.isoformat(), "bucket": bucket,
                            "generated_at": now, "hubs": series}))
