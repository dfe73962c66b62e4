"""Zone profiles for facility managers: the parameters the occupancy engine uses for each zone now,
and whether each is learned from the zone's own history, configured (pinned) or the kind's default."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Response

from collector.api.access import MANAGER
from collector.api.formats import csv_response
from collector.api.models import PROFILE_CSV_COLUMNS, ProfilesReport, ZoneProfileOut
from collector.api.params import DIALECT, FORMAT, Dialect, Format, find_zone, get_hub, get_live
from collector.api.security import GuardedRoute
from collector.live import LiveState
from hubsense.config import Hub

router = APIRouter(dependencies=[MANAGER], route_class=GuardedRoute)


@router.get("/api/hubs/{hub}/profiles", response_model=ProfilesReport,
            summary="Every zone's occupancy parameters now: learned, configured or default")
def list_profiles(format: Format = FORMAT, dialect: Dialect = DIALECT, hub: Hub = Depends(get_hub),
                  live: LiveState = Depends(get_live)) -> Response | ProfilesReport:
    zones = [ZoneProfileOut.build(hub, z, live.parameters(hub.id, z.id)) for z in hub.zones]
    if format == "csv":
        return csv_response([z.csv_row() for z in zones], PROFILE_CSV_COLUMNS, f"{hub.id}-profiles", dialect, hub.tz)
    return ProfilesReport(hub=hub.id, generated_at=datetime.now(UTC), zones=zones)


@router.get("/api/hubs/{hub}/zones/{zone}/profile", response_model=ZoneProfileOut,
            summary="One zone's occupancy parameters now: learned, configured or default")
def zone_profile(zone: str, format: Format = FORMAT, dialect: Dialect = DIALECT, hub: Hub = Depends(get_hub),
                 live: LiveState = Depends(get_live)) -> Response | ZoneProfileOut:
    z = find_zone(hub, zone)
    out = ZoneProfileOut.build(hub, z, live.parameters(hub.id, z.id))
    if format == "csv":
        return csv_response([out.csv_row()], PROFILE_CSV_COLUMNS, f"{hub.id}-{z.id}-profile", dialect, hub.tz)
    return out
