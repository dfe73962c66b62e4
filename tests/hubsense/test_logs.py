from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from hubsense.logs import JsonFormatter, setup_logging


@pytest.fixture
def root_restored() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_ts_level_logger_message_and_extras(root_restored: None) -> None:
    out = io.StringIO()
    setup_logging("debug", json=True, stream=out, force=True)
    before = datetime.now(UTC)
    logging.getLogger("hubsense.test").info("stored %d events", 3, extra={"hub": "stockholm", "batch": 3})
    logging.getLogger("other").debug("multi\nline å")
    [first, second] = _lines(out)
    assert first["level"] == "INFO" and first["logger"] == "hubsense.test"
    assert first["message"] == "stored 3 events"
    assert first["hub"] == "stockholm" and first["batch"] == 3
    ts = datetime.fromisoformat(first["ts"])
    assert ts.utcoffset() == timedelta(0)
    assert abs(ts - before) < timedelta(seconds=5)
    assert second["message"] == "multi\nline å" and second["level"] == "DEBUG"
    assert "args" not in first and "msg" not in first  # no LogRecord internals leak out


def test_level_filters_and_exceptions_are_one_line(root_restored: None) -> None:
    out = io.StringIO()
    setup_logging("WARNING", json=True, stream=out, force=True)
    log = logging.getLogger("x")
    log.info("dropped")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("failed")
    assert len(out.getvalue().splitlines()) == 1
    [rec] = _lines(out)
    assert rec["level"] == "ERROR" and "RuntimeError: boom" in rec["exc"]


def test_text_format_and_handler_replacement(root_restored: None) -> None:
    first, second = io.StringIO(), io.StringIO()
    setup_logging("info", json=True, stream=first, force=True)
    setup_logging("info", json=False, stream=second)  # replaces its own earlier handler without force
    logging.getLogger("y").info("hello")
    assert first.getvalue() == ""
    assert second.getvalue().rstrip().endswith("INFO y: hello")
    with pytest.raises(ValueError):
        setup_logging("loud")


def test_foreign_handlers_are_left_alone_unless_forced(root_restored: None) -> None:
    root = logging.getLogger()
    foreign = logging.StreamHandler(io.StringIO())
    root.addHandler(foreign)
    assert setup_logging("info", json=True, stream=io.StringIO()) is None
    assert foreign in root.handlers
    assert setup_logging("info", json=True, stream=io.StringIO(), force=True) is not None
    assert root.handlers and foreign not in root.handlers


def test_unserialisable_extra_is_stringified() -> None:
    record = logging.LogRecord("z", logging.INFO, __file__, 1, "m", None, None)
    record.when = datetime(2026, 1, 1, tzinfo=UTC)
    assert json.loads(JsonFormatter().format(record))["when"].startswith("2026-01-01")
