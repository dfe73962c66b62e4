"""Sensor / agent health for facility managers: online, last heartbeat, stuck sensors."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request, Response

from collector.api.access import MANAGER
from collector.api.formats import csv_response
from collector.api.models import AgentOut, AgentsReport
from collector.api.params import DIALECT, FORMAT, Dialect, Format, get_hub, get_store
from collector.api.security import GuardedRoute
from collector.store.base import Store
from hubsense.config import Hub

router = APIRouter(dependencies=[MANAGER], route_class=GuardedRoute)

@router.get("/api/hubs/{hub}/agents", response_model=AgentsReport,
            summary="Health of every sensor agent of a hub: online, last heartbeat, stuck sensors")
def list_agents(request: Request, format: Format = FORMAT, dialect: Dialect = DIALECT, hub: Hub = Depends(get_hub),
                store: Store = Depends(get_store)) -> Response | AgentsReport:
    now = datetime.now(UTC)
    live = {h["agent"]: h for h in request.app.state.live.health(hub.id, now)}
    stored = {h.agent: h for h in store.latest_health(hub.id)}
    agents = []
    for agent in hub.agents:
        h = live.get(agent.id, {})
        rec = stored.get(agent.id)
        last_seen = h.get("last_seen")
        agents.append(AgentOut(
            agent=agent.id, name=agent.name, status=h.get("state", "no_data"), online=bool(h.get("online")),
            last_seen=last_seen, last_heartbeat=h.get("last_heartbeat"),
            last_seen_age_s=(now - last_seen).total_seconds() if last_seen else None,
            heartbeat_interval_s=h.get("heartbeat_interval_s", 0.0), clock_offset_s=h.get("clock_offset_s"),
            clock_skewed=bool(h.get("clock_skewed")),
            queue_depth=rec.queue_depth if rec else None, dropped=rec.dropped if rec else None,
            zones=h.get("zones", sorted({s.zone for s in agent.sensors})), sensors=h.get("sensors", {}),
            stuck_sensors=h.get("stuck_sensors", []),
        ))
    if format == "csv":
        return csv_response([a.model_dump() for a in agents], list(AgentOut.model_fields), f"{hub.id}-agents",
                            dialect, hub.tz)
    return AgentsReport(hub=hub.id, generated_at=now, agents=agents)
