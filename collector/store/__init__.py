"""All storage: SQLite (default) and InfluxDB (production) behind one :class:`Store` protocol
(``base.py``, with the optional capabilities), and the on-disk spool in front of InfluxDB (``spool.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from collector.store.base import Store, StoreUnavailable

if TYPE_CHECKING:
    from collector.settings import Settings

__all__ = ["Store", "StoreUnavailable", "open_store"]


def open_store(settings: Settings) -> Store:
    """The backend the settings select.  InfluxDB comes wrapped in an on-disk spool,
    so an unreachable server delays writes instead of losing them."""
    if settings.store == "sqlite":
        from collector.store.sqlite import SqliteStore

        return SqliteStore(
            settings.sqlite_path,
            events_retention_days=settings.events_retention_days or None,
            changes_retention_days=settings.changes_retention_days or None,
            health_retention_days=settings.health_retention_days or None,
        )
    from collector.store.influx import InfluxStore
    from collector.store.spool import SpooledStore

    inner = InfluxStore(
        settings.influx_url,
        settings.influx_database,
        token=settings.influx_token,
        username=settings.influx_username,
        password=settings.influx_password,
        raw_rp=settings.influx_raw_rp or None,
        long_rp=settings.influx_long_rp or None,
        events_retention_days=settings.events_retention_days or None,
        create=settings.influx_create,
        timeout_s=settings.influx_timeout_s,
    )
    return SpooledStore(inner, settings.spool_path, settings.spool_max_events)
