"""Response formats: JSON bytes (orjson, numpy-aware) and CSV exports, and the small
conversions from numpy columns to JSON values that the statistics rows need."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import numpy as np
import orjson
from fastapi import Response

from collector.stats.localtime import from_epoch


class JSONBytes(Response):
    """A body already serialised to JSON (the hot live routes build it with :func:`dumps`)."""

    media_type = "application/json"


def dumps(payload: object) -> bytes:
    return orjson.dumps(payload, option=orjson.OPT_UTC_Z)


def json_response(body: dict) -> Response:
    return Response(orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY), media_type="application/json")


def csv_response(rows: list[dict], columns: list[str], name: str) -> Response:
    """A CSV download ``{name}.csv``: a header row, then ``columns`` of each row (ISO 8601 times, None empty)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row[c] is None else _cell(row[c]) for c in columns])
    headers = {"Content-Disposition": f'attachment; filename="{name}.csv"'}
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


def _cell(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def nullable(values: np.ndarray) -> list:
    """Floats with NaN as None (JSON null)."""
    values = np.asarray(values, dtype=np.float64)
    if not np.isnan(values).any():
        return values.tolist()
    return np.where(np.isnan(values), None, values.astype(object)).tolist()


def null(value: float) -> float | None:
    """One float with NaN as None."""
    return None if np.isnan(value) else float(value)


def iso(t: np.ndarray) -> list[str]:
    """Epoch seconds as ISO 8601 UTC strings."""
    return [from_epoch(x).isoformat() for x in t.tolist()]
