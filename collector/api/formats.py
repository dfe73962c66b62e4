"""Response formats: JSON bytes (orjson, numpy-aware) and CSV exports (two dialects), the small
conversions from numpy columns to JSON values that the statistics rows need, and error bodies
(one line saying what is wrong with which parameter).

CSV dialects (``?format=csv&dialect=``):

* ``standard``: comma-separated, ``.`` decimals, ISO 8601 UTC times, ``\n`` line ends.
* ``excel-sv``: what Swedish Excel opens as columns: semicolon-separated, a UTF-8 byte-order mark,
  ``\r\n``, decimal comma, figures rounded to 3 decimals, times in the hub's local time
  (``2026-11-30 07:00:00``), weekdays named (``mån`` … ``sön``) and the whole-hub row named
  (``Hela hubben``) instead of left empty; amounts of money (``Decimal``) keep their two decimals
  (``350,00``).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, tzinfo
from decimal import Decimal

import numpy as np
import orjson
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from collector.stats.localtime import from_epoch

WEEKDAYS_SV = ("mån", "tis", "ons", "tor", "fre", "lör", "sön")
WHOLE_HUB_SV = "Hela hubben"
_ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")


class JSONBytes(Response):
    """A body already serialised to JSON (the hot live routes build it with :func:`dumps`)."""

    media_type = "application/json"


def dumps(payload: object) -> bytes:
    return orjson.dumps(payload, option=orjson.OPT_UTC_Z)


def json_response(body: dict) -> Response:
    return Response(orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY), media_type="application/json")


def csv_response(rows: list[dict], columns: list[str], name: str, dialect: str = "standard",
                 tz: tzinfo | None = None) -> Response:
    """A CSV download ``{name}.csv``: a header row, then ``columns`` of each row (None empty; lists and
    dicts flattened to space-separated items).  ``dialect='excel-sv'`` writes Swedish Excel's CSV,
    with times in ``tz`` (the hub's time zone)."""
    excel = dialect == "excel-sv"
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if excel else ",", lineterminator="\r\n" if excel else "\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_excel_cell(c, row[c], tz) if excel else _cell(row[c]) for c in columns])
    headers = {"Content-Disposition": f'attachment; filename="{name}.csv"'}
    body = ("\ufeff" if excel else "") + out.getvalue()
    return Response(body, media_type="text/csv; charset=utf-8", headers=headers)


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return " ".join(f"{k}={'' if v is None else v}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return " ".join(f"{v['id']}={v['state']}" if isinstance(v, dict) else str(_cell(v)) for v in value)
    if hasattr(value, "value"):  # enums
        return value.value
    return value


def _excel_cell(column: str, value: object, tz: tzinfo | None) -> object:
    if column == "zone" and value is None:
        return WHOLE_HUB_SV
    if column == "weekday" and isinstance(value, int):
        return WEEKDAYS_SV[value]
    if isinstance(value, bool) or value is None:
        return _cell(value)
    if isinstance(value, float):
        return _decimal_comma(value)
    if isinstance(value, Decimal):  # money: every decimal kept, never rounded as a float
        return str(value).replace(".", ",")
    if isinstance(value, str) and _ISO_TIME.match(value):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        local = value.astimezone(tz) if tz is not None else value
        return local.strftime("%Y-%m-%d %H:%M:%S")
    return _cell(value)


def _decimal_comma(value: float) -> str:
    rounded = round(value, 3)
    text = str(int(rounded)) if rounded == int(rounded) else f"{rounded:.3f}".rstrip("0")
    return text.replace(".", ",")


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


# --- request checks and error bodies ----------------------------------------------------------

def install_error_bodies(app: FastAPI) -> None:
    """Bad parameters answer one readable line (see :func:`one_line_validation_error`)."""
    app.add_exception_handler(RequestValidationError, one_line_validation_error)


async def one_line_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 with one readable line per bad parameter ('bucket: 'fortnight' is not one of ...')."""
    return JSONResponse({"detail": "; ".join(_describe(err) for err in exc.errors())}, status_code=422)


def _describe(err: dict) -> str:
    loc = [str(p) for p in err.get("loc", ()) if p not in ("query", "path", "body")]
    name = ".".join(loc) or "request"
    got = err.get("input")
    if err.get("type") == "literal_error":
        allowed = err.get("ctx", {}).get("expected", "")
        return f"{name}: {got!r} is not one of {allowed}"
    if err.get("type") == "missing":
        return f"{name}: required"
    msg = err.get("msg", "invalid")
    return f"{name}: {got!r}: {msg}" if got is not None and not isinstance(got, dict) else f"{name}: {msg}"
