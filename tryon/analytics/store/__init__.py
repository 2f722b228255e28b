"""The event store (:class:`EventStore`: SQLite or PostgreSQL behind one interface, the schema by
Alembic migrations) and the writer in front of it (:class:`EventSink`: batched, never blocking,
bounded in memory while the database is down)."""

from tryon.analytics.store.sink import EventSink, SinkStats
from tryon.analytics.store.store import DEFAULT_URL, EventStore, open_store

__all__ = ["DEFAULT_URL", "EventSink", "EventStore", "SinkStats", "open_store"]
