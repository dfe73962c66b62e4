"""A real influxd 1.x with authentication on, set up with the statements docs/storage.md gives for the
collector's and Grafana's least-privilege users (used by the privilege and the image tests)."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import httpx

from hubsense.services import Influxd

REPO = Path(__file__).resolve().parents[2]
ADMIN = ("admin", secrets.token_urlsafe(24))


def documented_statements(collector_password: str, grafana_password: str) -> list[str]:
    """The ```sql block of docs/storage.md's least-privilege section, with these passwords."""
    text = (REPO / "docs" / "storage.md").read_text()
    [block] = re.findall(r"### Least privilege.*?```sql\n(.*?)\n```", text, re.S)
    block = block.replace("COLLECTOR-PASSWORD", collector_password).replace("GRAFANA-PASSWORD", grafana_password)
    return [line for line in block.splitlines() if line.strip()]


def influxql(server: Influxd, q: str, auth: tuple[str, str] | None, db: str | None = None) -> httpx.Response:
    data = {"q": q, **({"db": db} if db else {})}
    return httpx.post(f"{server.url}/query", data=data, auth=auth, timeout=10)


def start_secured(workdir: Path, collector_password: str, grafana_password: str) -> Influxd:
    """influxd with auth on: an admin, then the documented database, retention policy and users."""
    server = Influxd(workdir, auth=True).start()
    try:
        resp = influxql(server, f"CREATE USER {ADMIN[0]} WITH PASSWORD '{ADMIN[1]}' WITH ALL PRIVILEGES", None)
        assert resp.status_code == 200 and "error" not in resp.text, resp.text
        for statement in documented_statements(collector_password, grafana_password):
            resp = influxql(server, statement, ADMIN)
            assert resp.status_code == 200 and '"error"' not in resp.text, (statement, resp.text)
    except BaseException:
        server.stop()
        raise
    return server
