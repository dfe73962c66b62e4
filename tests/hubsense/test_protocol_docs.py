"""docs/protocol.md and docs/schema/ must match the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

from hubsense import protocol as p

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_committed_json_schemas_match_the_models() -> None:
    for kind, schema in p.json_schemas().items():
        committed = json.loads((DOCS / "schema" / f"{kind}.schema.json").read_text())
        assert committed == schema, f"regenerate docs/schema/{kind}.schema.json"


def test_every_json_example_in_protocol_md_is_valid() -> None:
    text = (DOCS / "protocol.md").read_text()
    blocks = [json.loads(block) for block in re.findall(r"```json\n(.*?)\n```", text, re.S)]
    examples = [b for b in blocks if isinstance(b, dict) and "v" in b]  # wire payloads, not replay lines
    assert len(examples) >= 3
    for example in examples:
        if "stored" in example:  # collector to agent
            p.StorageAck.model_validate_json(json.dumps(example))
            continue
        if "sensor" in example:
            kind = p.MessageKind.EVENT
        elif "interval_s" in example:
            kind = p.MessageKind.HEARTBEAT
        else:
            kind = p.MessageKind.STATUS
        p.parse_message(p.topic(example["hub"], example["agent"], kind), json.dumps(example).encode())
