"""The event store: one interface over SQLite (embedded, the default) and PostgreSQL (many servers).

SQLAlchemy 2 Core on its async drivers (aiosqlite, whose own thread does SQLite's work; asyncpg),
the schema created and upgraded by the Alembic migrations shipped in
:mod:`tryon.analytics.migrations` (``upgrade head`` at :meth:`EventStore.open`).

Durability: :meth:`EventStore.add` returns once its transaction is committed, and a committed
transaction survives the process being killed (``SIGKILL``) and, where the disk honours ``fsync``,
the machine losing power:

- SQLite runs in WAL mode with ``synchronous=FULL``: each commit appends to the WAL and fsyncs it
  before returning. ``NORMAL`` would already survive ``SIGKILL`` (the WAL is written before the
  commit returns and the kernel keeps it), but a power cut could take the last commits back; FULL
  costs one fsync per transaction, which the batching of :class:`tryon.analytics.store.EventSink`
  (hundreds of events a transaction) makes cheap. ``?synchronous=normal`` in the URL trades it away.
- PostgreSQL keeps its default ``synchronous_commit=on``: COMMIT returns once the WAL is flushed.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from tryon.analytics.events import Event
from tryon.analytics.migrations import MIGRATIONS
from tryon.analytics.store.schema import events as events_table
from tryon.analytics.store.schema import shows as shows_table
from tryon.errors import InputError

DEFAULT_URL = "sqlite:///events.db"
SYNCHRONOUS = ("full", "normal")
MIGRATION_LOCK = 0x7472796F6E  # "tryon": PostgreSQL advisory lock held while migrating
FIELDS = ("show", "session", "type", "at", "product", "shade", "dwell_s", "language", "text")
_COLUMNS = [events_table.c[name] for name in FIELDS]


def engine_url(url: str) -> tuple[URL, dict[str, str]]:
    """``url`` with its async driver (``sqlite`` → ``sqlite+aiosqlite``, ``postgresql`` →
    ``postgresql+asyncpg``) and the store's own options taken out of its query. Raises
    :class:`InputError` for another database or an unknown option."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as e:
        raise InputError(f"event store URL: expected sqlite:///PATH or postgresql://..., got {url!r}") from e
    backend = parsed.get_backend_name()
    options: dict[str, str] = {}
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise InputError(f"event store URL: expected sqlite:///PATH to a file, got {url!r}")
        synchronous = str(parsed.query.get("synchronous", "full")).lower()
        if synchronous not in SYNCHRONOUS or set(parsed.query) - {"synchronous"}:
            raise InputError(f"event store URL: the only option is synchronous=full|normal, got {url!r}")
        options["synchronous"] = synchronous
        return parsed.set(drivername="sqlite+aiosqlite", query={}), options
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg"), options
    raise InputError(f"event store URL: expected sqlite:///PATH or postgresql://..., got {url!r}")


def _row(event: Event) -> dict[str, Any]:
    return {name: getattr(event, name) for name in FIELDS}


class EventStore:
    """Events by show, in SQLite (``sqlite:///path/events.db``) or PostgreSQL
    (``postgresql://user@/db?host=/socket/dir``, or with a host and password).

    ``await open()`` (or ``async with``) before use, ``await close()`` after. Every method is a
    coroutine run on the caller's event loop; the database work is the async driver's."""

    def __init__(self, url: str = DEFAULT_URL, *, connect_timeout_s: float = 5.0) -> None:
        self._url, self._options = engine_url(url)
        self._connect_timeout_s = connect_timeout_s
        self._engine: AsyncEngine | None = None

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._url.get_backend_name()

    @property
    def url(self) -> str:
        """The engine's URL, password hidden."""
        return self._url.render_as_string(hide_password=True)

    async def open(self) -> None:
        """Connect, and create or upgrade the schema to the newest migration (idempotent)."""
        if self._engine is not None:
            return
        if self.backend == "sqlite":
            assert self._url.database is not None
            Path(self._url.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_async_engine(self._url, connect_args={"timeout": self._connect_timeout_s})
            sa_event.listen(engine.sync_engine, "connect", self._sqlite_pragmas)
        else:
            engine = create_async_engine(
                self._url,
                pool_pre_ping=True,  # a restarted server's dead connections are replaced, not used
                pool_size=4,
                connect_args={"timeout": self._connect_timeout_s, "command_timeout": 60},
            )
        try:
            async with engine.begin() as conn:
                if self.backend == "postgresql":  # servers starting together migrate one at a time
                    await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(MIGRATION_LOCK)))
                await conn.run_sync(self._upgrade)
        except BaseException:
            await engine.dispose()
            raise
        self._engine = engine

    def _sqlite_pragmas(self, dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            f"PRAGMA synchronous={self._options['synchronous'].upper()}",
            f"PRAGMA busy_timeout={int(self._connect_timeout_s * 1000)}",
        ):
            cursor.execute(pragma)
        cursor.close()

    @staticmethod
    def _upgrade(connection: sa.Connection) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async def close(self) -> None:
        if self._engine is not None:
            engine, self._engine = self._engine, None
            await engine.dispose()

    async def __aenter__(self) -> EventStore:
        await self.open()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def _begin(self) -> AbstractAsyncContextManager[AsyncConnection]:
        return self.engine.begin()

    def _connect(self) -> AsyncConnection:
        return self.engine.connect()

    def _insert(self) -> Any:
        return sqlite.insert if self.backend == "sqlite" else postgresql.insert

    async def add(self, events: Sequence[Event]) -> None:
        """Store ``events`` in one transaction (their shows too, the first time one is seen);
        committed, hence durable, when it returns. Raises SQLAlchemy's errors (``OperationalError``
        when the database is unreachable); then nothing was stored."""
        if not events:
            return
        first: dict[str, float] = {}
        for e in events:
            if e.show is not None and (e.show not in first or e.at < first[e.show]):
                first[e.show] = e.at
        async with self._begin() as conn:
            if first:
                rows = [{"id": show, "created_at": at} for show, at in sorted(first.items())]
                insert = (
                    self._insert()(shows_table).values(rows).on_conflict_do_nothing(index_elements=["id"])
                )
                await conn.execute(insert)
            await conn.execute(sa.insert(events_table), [_row(e) for e in events])

    async def events(
        self, show: str, since: float | None = None, types: Collection[str] | None = None
    ) -> list[Event]:
        """``show``'s events in time order (then in the order stored): those at or after ``since``
        (server clock, Unix seconds) and of ``types`` when given."""
        query = sa.select(*_COLUMNS).where(events_table.c.show == show)
        if since is not None:
            query = query.where(events_table.c.at >= since)
        if types is not None:
            query = query.where(events_table.c.type.in_(sorted(types)))
        query = query.order_by(events_table.c.at, events_table.c.id)
        async with self._connect() as conn:
            result = await conn.execute(query)
            return [Event(*row) for row in result]

    async def count(self, show: str) -> int:
        query = sa.select(sa.func.count()).select_from(events_table).where(events_table.c.show == show)
        async with self._connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def shows(self) -> list[str]:
        """Every show with events stored (or stored once and not deleted), oldest first."""
        query = sa.select(shows_table.c.id).order_by(shows_table.c.created_at, shows_table.c.id)
        async with self._connect() as conn:
            return list((await conn.execute(query)).scalars())

    async def end_show(self, show: str, at: float | None = None) -> bool:
        """Record when ``show`` ended (now by default); False when no event of it was stored."""
        ended = time.time() if at is None else at
        update = sa.update(shows_table).where(shows_table.c.id == show).values(ended_at=ended)
        async with self._begin() as conn:
            return bool((await conn.execute(update)).rowcount)

    async def delete_show(self, show: str) -> int:
        """Delete ``show`` and all its events, in one transaction; the number of events deleted."""
        async with self._begin() as conn:
            deleted = await conn.execute(sa.delete(events_table).where(events_table.c.show == show))
            await conn.execute(sa.delete(shows_table).where(shows_table.c.id == show))
            return int(deleted.rowcount)

    async def purge(self, older_than_s: float, *, now: float | None = None) -> int:
        """Retention: delete the events older than ``older_than_s`` seconds (server clock), and the
        shows that began before then and have no event left; the number of events deleted."""
        if not older_than_s >= 0:
            raise InputError(f"purge: expected a retention >= 0 s, got {older_than_s}")
        cutoff = (time.time() if now is None else now) - older_than_s
        left = sa.select(events_table.c.id).where(events_table.c.show == shows_table.c.id).exists()
        async with self._begin() as conn:
            deleted = await conn.execute(sa.delete(events_table).where(events_table.c.at < cutoff))
            await conn.execute(sa.delete(shows_table).where(shows_table.c.created_at < cutoff, ~left))
            return int(deleted.rowcount)

    @property
    def engine(self) -> AsyncEngine:
        """The SQLAlchemy engine (open): for tools and tests that look at the schema."""
        if self._engine is None:
            raise RuntimeError("EventStore: open() it first")
        return self._engine


async def open_store(url: str = DEFAULT_URL) -> EventStore:
    """An opened :class:`EventStore` for ``url``."""
    store = EventStore(url)
    await store.open()
    return store


__all__ = ["DEFAULT_URL", "EventStore", "engine_url", "open_store"]
