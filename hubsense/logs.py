"""Logging setup shared by every ``hubsense`` command: plain text for people, or one
JSON object per line (``--log-json``) for journald / Loki / any log shipper.

A JSON line has ``ts`` (UTC, ISO 8601), ``level``, ``logger``, ``message``, plus
every ``extra={...}`` field passed to the logging call, and ``exc`` with the
traceback when one is attached.  Dependency-free: the agent on a Pi uses it too.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in out:
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        elif record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def setup_logging(level: str = "INFO", json: bool = False, stream: IO[str] | None = None,
                  force: bool = False) -> logging.Handler | None:
    """Configure the root logger with one stderr handler; returns it (None if nothing was done).

    Like :func:`logging.basicConfig`, a root logger that already has handlers installed by
    someone else (an embedding application, pytest's log capture) is left alone unless
    ``force``; a handler from an earlier call is always replaced.  ``level`` is a level
    name (case-insensitive), e.g. ``"info"``; an unknown name raises ValueError.
    """
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    root = logging.getLogger()
    foreign = [h for h in root.handlers if not getattr(h, "_hubsense", False)]
    if foreign and not force:
        return None
    for old in list(root.handlers):
        root.removeHandler(old)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if json else logging.Formatter(TEXT_FORMAT))
    handler._hubsense = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(numeric)
    return handler
