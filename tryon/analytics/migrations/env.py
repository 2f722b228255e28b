"""Alembic's environment for the event store, for both back ends.

The store runs it with its own connection (``config.attributes["connection"]``, a synchronous
facade of the async one, inside the store's transaction). Run by hand (``alembic`` with a config
whose ``script_location`` is this folder and ``sqlalchemy.url`` a ``sqlite+aiosqlite://`` or
``postgresql+asyncpg://`` URL), it opens an async engine of its own.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection, pool
from sqlalchemy.ext.asyncio import create_async_engine

from tryon.analytics.store.schema import VERSION_TABLE, metadata

config = context.config


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        # SQLite alters a table by copying it: Alembic's batch mode does that for later migrations.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async(url: str) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run_migrations)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
elif (given := config.attributes.get("connection")) is not None:
    run_migrations(given)
else:
    asyncio.run(run_async(config.get_main_option("sqlalchemy.url") or ""))
