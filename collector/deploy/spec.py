"""Every variable ``hubsense deploy init`` writes into ``.env``, in file order.

``kind`` says where a value comes from:

* ``setting``: kept once written; the default fills it in.
* ``secret``: generated (256 bits, URL-safe); ``--rotate`` generates a new one.
* ``first-start``: generated, never rotated: InfluxDB and Grafana read it only when their data
  volume is created (change it with their own tools, then here).
* ``derived``: computed on every run (from ``secrets/``, the certificates, the invoking user or
  the command-line options).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["setting", "secret", "first-start", "derived"]


@dataclass(frozen=True)
class Var:
    name: str
    section: str
    help: str
    kind: Kind = "setting"
    default: str = ""

    @property
    def generated(self) -> bool:
        return self.kind in ("secret", "first-start")


NETWORK, USERS, SECRETS, INFLUXDB = "network", "users", "secrets", "InfluxDB"

VARS: tuple[Var, ...] = (
    Var("HUBSENSE_SERVER", NETWORK, "the hub server's name or address as the Raspberry Pis reach it "
        "(written into each agent's file)", "derived"),
    Var("MQTT_BIND", NETWORK, "host address plain MQTT is published on: the server's LAN address while "
        "agents use plain MQTT, 127.0.0.1 once they all use TLS", "derived"),
    Var("MQTT_PORT", NETWORK, "plain MQTT port on MQTT_BIND", default="1883"),
    Var("MQTTS_PORT", NETWORK, "MQTT over TLS; published only when secrets/certs holds ca.crt, server.crt "
        "and server.key (COMPOSE_FILE then adds deploy/compose.tls.yml)", default="8883"),
    Var("HTTP_PORT", NETWORK, "dashboard and API", default="8000"),
    Var("GRAFANA_PORT", NETWORK, "Grafana", default="3000"),
    Var("COMPOSE_FILE", NETWORK, "compose files docker compose reads (deploy init adds the TLS one when "
        "certificates exist)", "derived"),
    Var("HUBSENSE_UID", USERS, "user id the collector runs as (owner of secrets/collector)", "derived"),
    Var("HUBSENSE_GID", USERS, "its group id", "derived"),
    Var("HUBSENSE_MQTT_PASSWORD", SECRETS, "the collector's broker password (user hubsense-collector), "
        "copied from secrets/credentials.json", "derived"),
    Var("HUBSENSE_INFLUX_PASSWORD", SECRETS, "the collector's InfluxDB user hubsense-collector: read and "
        "write on the hubsense buckets only", "secret"),
    Var("GRAFANA_INFLUX_PASSWORD", SECRETS, "Grafana's InfluxDB user hubsense-grafana: read only", "secret"),
    Var("INFLUXDB_ADMIN_PASSWORD", SECRETS, "InfluxDB admin (user admin); used at its first start only",
        "first-start"),
    Var("INFLUXDB_ADMIN_TOKEN", SECRETS, "InfluxDB all-access admin token: never given to the collector "
        "or Grafana; the influxdb-init service uses it to set up their users", "first-start"),
    Var("GRAFANA_ADMIN_PASSWORD", SECRETS, "Grafana admin (user admin); used at its first start only",
        "first-start"),
    Var("INFLUXDB_ORG", INFLUXDB, "organisation created at InfluxDB's first start", default="hubsense"),
    Var("HUBSENSE_RAW_RETENTION", INFLUXDB, "retention of raw events and agent health", default="90d"),
    Var("INFLUXDB_LONG_RETENTION", INFLUXDB, "retention of state changes (0 = forever)", default="0"),
)

BY_NAME = {v.name: v for v in VARS}
SECTIONS = (NETWORK, USERS, SECRETS, INFLUXDB)
# values that must be strong secrets (checked with collector.auth.weak_secret)
SECRET_NAMES = tuple(v.name for v in VARS if v.section == SECRETS)
