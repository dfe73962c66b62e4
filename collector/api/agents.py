"""Sensor / agent health for facility managers: online, last heartbeat, stuck sensors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from collector.api.deps import get_hub, get_store
from collector.store.base import Store
from hubsense.config import Hub

router = APIRouter()

AgentState = Literal["online", "offline", "stale", "no_data"]


class AgentOut(BaseModel):
    agent: str = Field(description="Agent id (one Raspberry Pi).")
    name: str = Field(description="Where the Pi is mounted (from the hub config).")
    status: AgentState = Field(
        description="'online'; 'offline' (clean exit or Last Will); 'stale' (heartbeats overdue); "
        "'no_data' (never heard from since the collector started)."
    )
    online: bool = Field(description="Whether the agent is alive (status 'online').")
    last_seen: datetime | None = Field(description="Newest message of any kind from the agent (UTC, collector clock).")
    last_heartbeat: datetime | None = Field(description="Newest heartbeat (UTC, collector clock).")
    last_seen_age_s: float | None = Field(description="Seconds since last_seen, at response time.")
    heartbeat_interval_s: float = Field(description="Heartbeat interval the agent announced.")
    clock_offset_s: float | None = Field(description="Agent clock minus collector clock, seconds.")
    clock_skewed: bool = Field(False, description="The agent's clock is off by more than the bound "
                               "(docs/reliability.md): its events are placed by receive time.")
    queue_depth: int | None = Field(description="Events waiting in the agent's store-and-forward queue "
                                    "(newest stored health record).")
    dropped: int | None = Field(description="Events the agent dropped because its queue was full.")
    zones: list[str] = Field(description="Zones this agent's sensors watch.")
    sensors: dict[str, str | None] = Field(description="Last known state of each sensor, by sensor id.")
    stuck_sensors: list[str] = Field(description="Sensors flagged as stuck (no change for too long while open, "
                                     "or motion for longer than believable).")


class AgentsReport(BaseModel):
    hub: str = Field(description="Hub id.")
    generated_at: datetime = Field(description="Response time (UTC).")
    agents: list[AgentOut] = Field(description="One entry per agent in the hub config.")


@router.get("/api/hubs/{hub}/agents", response_model=AgentsReport,
            summary="Health of every sensor agent of a hub: online, last heartbeat, stuck sensors")
def list_agents(request: Request, hub: Hub = Depends(get_hub), store: Store = Depends(get_store)) -> AgentsReport:
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
    return AgentsReport(hub=hub.id, generated_at=now, agents=agents)
