"""Alembic migrations of the event store (``env.py`` and ``versions/``), run programmatically at
:meth:`tryon.analytics.store.EventStore.open` (``upgrade head``), the same on SQLite and PostgreSQL.
A new migration is a new file in ``versions/`` whose ``down_revision`` is the newest one's
``revision``; :data:`tryon.analytics.store.schema.metadata` follows it (a test compares the two)."""

from pathlib import Path

MIGRATIONS = Path(__file__).parent
