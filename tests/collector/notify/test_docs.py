"""docs/integrations.md and docs/schema/webhooks/ must match the code, and the receiver example
in the docs must work: it is run as a process and sent real deliveries."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from collector.notify.events import DATA_MODELS, Envelope, EventType, json_schemas
from collector.notify.http import post
from collector.notify.outbox import DELIVERED, Outbox
from collector.notify.signing import new_secret, signature_header
from collector.notify.targets import TargetPolicy, check
from collector.notify.webhooks import DeliveryPolicy, Webhooks, envelope
from hubsense.services import free_port, tcp_open
from tests.collector.notify.test_webhooks import subscription, zone_events
from tests.conftest import REPO
from tests.support import wait_for

DOCS = REPO / "docs"
TEXT = (DOCS / "integrations.md").read_text(encoding="utf-8")


def block(marker: str, lang: str) -> str:
    return re.search(rf"<!-- {marker} -->\n```{lang}\n(.*?)\n```", TEXT, re.S).group(1)


def test_committed_webhook_schemas_match_the_models() -> None:
    folder = DOCS / "schema" / "webhooks"
    schemas = json_schemas()
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{k}.schema.json" for k in schemas)
    for name, schema in schemas.items():
        committed = json.loads((folder / f"{name}.schema.json").read_text(encoding="utf-8"))
        assert committed == schema, "regenerate: hubsense webhooks schema --out docs/schema/webhooks"


def test_every_event_type_is_documented_and_the_example_is_valid() -> None:
    for kind in EventType:
        assert f"`{kind.value}`" in TEXT, kind
    example = json.loads(block("webhook example", "json"))
    env = Envelope.model_validate(example)
    DATA_MODELS[env.type].model_validate(env.data)


def test_the_receiver_example_verifies_and_deduplicates(tmp_path: Path) -> None:
    code = block("receiver example", "python")
    assert len([line for line in code.splitlines() if line.strip()]) <= 15
    (tmp_path / "receiver.py").write_text(code, encoding="utf-8")
    secret, port = new_secret(), free_port()
    env = {**os.environ, "HUBSENSE_WEBHOOK_SECRET": secret, "PORT": str(port), "HOST": "127.0.0.1"}
    proc = subprocess.Popen([sys.executable, str(tmp_path / "receiver.py")], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        wait_for(lambda: tcp_open(port), timeout=10)
        policy = TargetPolicy.from_lists([], ["127.0.0.1/32"])
        hooks = Webhooks(Outbox(tmp_path / "o.sqlite3"), policy,
                         DeliveryPolicy(backoff_s=0.05, backoff_max_s=0.1, idle_poll_s=0.05)).start()
        url = f"http://127.0.0.1:{port}/"
        try:
            hooks.outbox.save_subscription(subscription(url, secret))
            hooks.publish(zone_events(2))
            wait_for(lambda: hooks.outbox.counts("wh_test")[DELIVERED] == 2, timeout=10)
        finally:
            hooks.stop()
            hooks.outbox.close()
        target = check(url, policy)
        body = envelope("dlv_again", EventType.PING.value, None, zone_events(1)[0][2], {"subscription": "x",
                                                                                       "message": "m"})
        for _ in range(2):  # a retry of one delivery: the same id twice
            signed = {"Hubsense-Signature": signature_header([secret], int(time.time()), body)}
            assert post(target, body, signed, 5, policy).status == 204
        forged = {"Hubsense-Signature": signature_header([new_secret()], int(time.time()), body)}
        assert post(target, body, forged, 5, policy).status == 401
        old = {"Hubsense-Signature": signature_header([secret], int(time.time()) - 600, body)}
        assert post(target, body, old, 5, policy).status == 401
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == ["zone.state_changed", "zone.state_changed", "ping"]
    assert json.loads(lines[0].split(" ", 1)[1])["n"] == 0
