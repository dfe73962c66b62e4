"""What an agent needs of the hub config at run time: its hub, its id and its sensors' wiring.

The hub config is validated by the pydantic models of :mod:`hubsense.config` (``hubsense agent``
does that first); the running agent then holds only this, so it never imports pydantic
(docs/raspberry-pi.md, "Memory").  :func:`layout_of` takes any object shaped like a validated
``hubsense.config.Hub`` and is the only way a layout is made from a config.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from hubsense.wire import SensorKind


@dataclass(frozen=True, slots=True)
class SensorPin:
    """One sensor's wiring (the fields the agent and edge/sensors.py read from ``hubsense.config.Sensor``)."""

    id: str
    kind: SensorKind
    pin: int
    effective_pull_up: bool | None  # the config's pull_up, or the kind's default when neither is set
    active_high: bool | None


@dataclass(frozen=True, slots=True)
class AgentLayout:
    hub: str
    id: str
    sensors: tuple[SensorPin, ...]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> AgentLayout:
        sensors = tuple(SensorPin(**{**s, "kind": SensorKind(s["kind"])}) for s in data["sensors"])
        return cls(data["hub"], data["id"], sensors)


def layout_of(hub, agent_id: str) -> AgentLayout:
    """The layout of one agent of a validated hub config (``hubsense.config.Hub``); KeyError if unknown."""
    agent = hub.agent(agent_id)
    sensors = tuple(SensorPin(s.id, SensorKind(s.kind), s.pin, s.effective_pull_up, s.active_high)
                    for s in agent.sensors)
    return AgentLayout(hub.id, agent.id, sensors)
