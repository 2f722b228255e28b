"""The event store's tables as SQLAlchemy Core metadata: what the queries are written against.

The database itself is created and upgraded by the Alembic migrations in
:mod:`tryon.analytics.migrations` (a test checks that the migrated schema and this metadata agree).
"""

from __future__ import annotations

import sqlalchemy as sa

VERSION_TABLE = "analytics_alembic_version"
"""Alembic's version table, named for this package so a shared PostgreSQL database keeps others'."""

ID_LEN = 64
metadata = sa.MetaData()

shows = sa.Table(
    "shows",
    metadata,
    sa.Column("id", sa.String(ID_LEN), primary_key=True),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("ended_at", sa.Double, nullable=True),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    # No foreign key to shows: its check costs about a third of PostgreSQL's insert rate, and
    # EventStore.delete_show deletes a show's events and its row in one transaction.
    sa.Column("show", sa.String(ID_LEN), nullable=True),
    sa.Column("session", sa.String(ID_LEN), nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("at", sa.Double, nullable=False),
    sa.Column("product", sa.String(ID_LEN), nullable=True),
    sa.Column("shade", sa.String(ID_LEN), nullable=True),
    sa.Column("dwell_s", sa.Double, nullable=True),
    sa.Column("language", sa.String(8), nullable=True),
    sa.Column("text", sa.Text, nullable=True),
    sa.Index("ix_events_show_at", "show", "at"),
    sa.Index("ix_events_show_product", "show", "product"),
    sa.Index("ix_events_at", "at"),
)
