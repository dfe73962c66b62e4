"""``hubsense webhooks schema``: the JSON Schema of every webhook event (``docs/schema/webhooks/``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from collector.notify.events import json_schemas


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("webhooks", help="outbound webhooks: event schemas")
    actions = p.add_subparsers(dest="webhooks_command", required=True)
    schema = actions.add_parser(
        "schema", help="print (or write) the JSON Schema of every webhook event",
        description="The JSON Schema of each webhook delivery (envelope and data) by event type; with --out, "
        "one file per type, as kept in docs/schema/webhooks/.", formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    schema.add_argument("--out", type=Path, help="write {type}.schema.json files into this directory")
    schema.set_defaults(func=_schema)


def _schema(args: argparse.Namespace) -> int:
    schemas = json_schemas()
    if args.out is None:
        print(json.dumps(schemas, indent=2, ensure_ascii=False))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, schema in schemas.items():
        (args.out / f"{name}.schema.json").write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n",
                                                      encoding="utf-8")
    print(f"wrote {len(schemas)} schemas to {args.out}")
    return 0
