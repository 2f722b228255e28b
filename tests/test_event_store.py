"""The event store: the same tests on SQLite (a file in tmp_path) and on PostgreSQL (Debian's server
on a private unix socket, tests/services.py), the writer in front of it (batching, acknowledgement
only once committed), nothing acknowledged lost when the writing process is SIGKILLed, and a
database outage degrading to a bounded in-memory buffer."""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from services import postgres

from tryon.analytics.events import Event
from tryon.analytics.store import EventSink, EventStore
from tryon.analytics.store.local_pg import LocalPostgres
from tryon.analytics.store.schema import VERSION_TABLE, metadata
from tryon.errors import InputError

pytestmark = pytest.mark.asyncio
BACKENDS = ["sqlite", "postgresql"]
T0 = 1_790_000_000.123456
LOGGER = "tryon.analytics.store"


@pytest.fixture(scope="module")
def pg_server() -> Iterator[LocalPostgres]:
    with postgres() as server:
        yield server


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/db/events.db"
    server: LocalPostgres = request.getfixturevalue("pg_server")
    return server.create_database(f"t_{secrets.token_hex(6)}")


@pytest_asyncio.fixture
async def store(url: str) -> AsyncIterator[EventStore]:
    async with EventStore(url) as opened:
        yield opened


def sample(show: str = "show1", at: float = T0) -> list[Event]:
    """Every field used: product events, a dwell, languages, comments in three scripts."""
    return [
        Event(show, "sessA", "impression", at, "lip-1", "ruby", language="en"),
        Event(show, "sessA", "try_start", at + 1.5, "lip-1", "ruby", language="en"),
        Event(show, "sessA", "try_stop", at + 22.25, "lip-1", "ruby", dwell_s=20.75, language="en"),
        Event(show, "sessB", "comment", at + 3, language="fr", text="c'est dispo en 38 ?"),
        Event(show, "sessC", "comment", at + 4, language="zh", text="有大码吗？🙂 '; DROP TABLE events; --"),
        Event(show, "sessB", "like", at + 5),
        Event(show, "host", "showing", at + 0.5, "lip-1"),
        Event(show, "sessC", "buy_click", at + 30, "lip-1", "coral"),
    ]


async def test_round_trip_every_field(store: EventStore) -> None:
    events = sample()
    await store.add(events)
    await store.add([Event(None, "sessZ", "watch", T0)])  # outside a show: stored, listed nowhere
    got = await store.events("show1")
    assert got == sorted(events, key=lambda e: e.at)
    by_type = {e.type: e for e in got}
    assert by_type["try_stop"].dwell_s == 20.75  # floats exact (double precision)
    assert by_type["try_stop"].at == T0 + 22.25
    assert await store.count("show1") == len(events)
    assert await store.shows() == ["show1"]
    assert await store.events("nope") == []
    assert await store.count("nope") == 0
    await store.add([])


async def test_filters(store: EventStore) -> None:
    await store.add(sample("a"))
    await store.add(sample("b", T0 + 1000))
    assert [e.at for e in await store.events("a", since=T0 + 4)] == [T0 + 4, T0 + 5, T0 + 22.25, T0 + 30]
    assert {e.type for e in await store.events("a", types={"comment", "like"})} == {"comment", "like"}
    assert len(await store.events("a", types=["comment"])) == 2
    assert [e.text for e in await store.events("b", since=T0 + 1003.5, types=("comment",))] == [
        "有大码吗？🙂 '; DROP TABLE events; --"
    ]
    assert await store.events("a", types=[]) == []
    assert await store.shows() == ["a", "b"]


async def test_delete_show(store: EventStore) -> None:
    await store.add(sample("keep"))
    await store.add(sample("gone", T0 + 1))
    assert await store.delete_show("gone") == len(sample())
    assert await store.events("gone") == []
    assert await store.count("gone") == 0
    assert await store.shows() == ["keep"]
    assert await store.count("keep") == len(sample())
    assert await store.delete_show("gone") == 0
    await store.add(sample("gone", T0 + 2))  # a deleted show's id can come back
    assert await store.shows() == ["keep", "gone"]


async def test_purge(store: EventStore) -> None:
    now = T0 + 10_000
    await store.add(sample("old", now - 5000))
    await store.add(sample("mixed", now - 1010))  # its first events are older than the cutoff
    await store.add(sample("new", now - 10))
    assert await store.purge(1000, now=now) == len(sample()) + 6
    assert await store.shows() == ["mixed", "new"]  # "old" has nothing left; "mixed" has
    assert [e.at for e in await store.events("mixed")] == [now - 1010 + d for d in (22.25, 30)]
    assert await store.count("new") == len(sample())
    assert await store.purge(1000, now=now) == 0
    with pytest.raises(InputError, match="retention"):
        await store.purge(-1)


async def test_migrations_idempotent_and_match_the_schema(url: str) -> None:
    async with EventStore(url) as first:
        await first.add(sample())
    async with EventStore(url) as second:  # open again: upgrade head is a no-op, data kept
        await second.open()
        assert await second.count("show1") == len(sample())

        def check(connection: object) -> tuple[str | None, list[object]]:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})  # type: ignore[arg-type]
            return context.get_current_revision(), compare_metadata(context, metadata)

        async with second.engine.connect() as conn:
            revision, diff = await conn.run_sync(check)
        assert revision == "0001"
        assert diff == []


async def test_concurrent_submits_batched(store: EventStore) -> None:
    sink = EventSink(store, batch=500, interval_s=0.05)
    producers = 20

    async def producer(k: int) -> list[bool]:
        acks = []
        for i in range(10):
            ack = sink.submit([Event("s", f"p{k}", "like", T0 + i)] * 5)
            acks.append(await ack)
        return acks

    results = await asyncio.gather(*(producer(k) for k in range(producers)))
    assert all(all(r) for r in results)
    stats = sink.stats
    assert stats.written == producers * 10 * 5 == await store.count("s")
    assert stats.batches <= 12 < producers * 10, stats  # 200 submits, about one transaction a round
    assert stats.buffered == stats.dropped == stats.failures == 0
    late = sink.submit([Event("s", "late", "like", T0)] * 1200)  # more than a batch
    assert await sink.close() == 0
    assert await late is True
    assert await store.count("s") == 2200
    assert await sink.submit([Event("s", "after", "like", T0)]) is False  # closed


CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from tryon.analytics.events import Event
    from tryon.analytics.store import EventSink, EventStore

    async def main(url):
        store = EventStore(url)
        await store.open()
        sink = EventSink(store, batch=200, interval_s=0.005)
        n = 0
        while True:
            ids = [[f"e{n + 25 * c + i}" for i in range(25)] for c in range(4)]
            chunks = [[Event("k", i, "watch", 1.0 + n) for i in chunk] for chunk in ids]
            acks = await asyncio.gather(*(sink.submit(chunk) for chunk in chunks))
            assert all(acks)
            n += 100
            print(n, flush=True)

    asyncio.run(main(sys.argv[1]))
    """
)


async def test_nothing_acknowledged_lost_when_killed(url: str, tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(CHILD)
    child = subprocess.Popen(
        [sys.executable, str(script), url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    acked = 0
    try:
        assert child.stdout is not None
        deadline = time.monotonic() + 30
        while acked < 3000 and time.monotonic() < deadline:
            line = await asyncio.to_thread(child.stdout.readline)
            if not line:
                break
            acked = int(line)
        assert child.poll() is None, child.stderr.read() if child.stderr else ""
        child.send_signal(signal.SIGKILL)  # mid-stream: submits are in flight
        rest = child.stdout.read()  # acknowledgements printed before the kill
        acked = max([acked, *(int(n) for n in rest.split())])
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(10)
    assert acked >= 3000
    async with EventStore(url) as reopened:
        stored = [e.session for e in await reopened.events("k")]
    assert {f"e{i}" for i in range(acked)} <= set(stored)
    assert len(stored) == len(set(stored)) <= acked + 400  # no duplicates; at most what was submitted


class FailingStore(EventStore):
    """An SQLite store whose writes fail while ``broken`` (as a full or failing disk does)."""

    broken = False

    async def add(self, events: object) -> None:  # type: ignore[override]
        if self.broken:
            raise OSError(5, "disk I/O error")
        await super().add(events)  # type: ignore[arg-type]


@pytest.fixture(params=["postgresql-stopped", "sqlite-disk-error"])
def outage(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[EventStore, Callable[[], None], Callable[[], None]]]:
    """A store, and how to break and mend its database."""
    if request.param == "sqlite-disk-error":
        failing = FailingStore(f"sqlite:///{tmp_path}/events.db")

        def set_broken(value: bool) -> Callable[[], None]:
            return lambda: setattr(failing, "broken", value)

        yield failing, set_broken(True), set_broken(False)
        return
    with postgres() as server:  # its own server: this test stops it
        yield EventStore(server.url()), server.stop, server.start


async def test_outage_buffers_bounded_and_drains(
    outage: tuple[EventStore, Callable[[], None], Callable[[], None]], caplog: pytest.LogCaptureFixture
) -> None:
    store, break_it, mend_it = outage
    caplog.set_level(logging.INFO, logger=LOGGER)
    ticks: list[float] = []

    async def ticker() -> None:  # the caller's loop keeps running
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    async with store:
        sink = EventSink(store, batch=50, interval_s=0.02, max_buffer=200, retry_s=(0.05, 0.3))
        tick_task = asyncio.create_task(ticker())
        try:
            assert await sink.submit([Event("o", "before", "like", T0)] * 50) is True
            await asyncio.to_thread(break_it)
            peak = 0
            for i in range(10):
                ack = sink.submit([Event("o", f"during{i}", "like", T0 + 1 + i)] * 50)
                assert await asyncio.wait_for(ack, 10) is False  # buffered, not yet stored
                peak = max(peak, sink.stats.buffered)
                await asyncio.sleep(0.05)
            deadline = time.monotonic() + 3
            while sink.stats.buffered > 200 and time.monotonic() < deadline:
                await asyncio.sleep(0.01)  # a retry is taking a batch out: let it fail back
            stats = sink.stats
            assert stats.buffered == 200
            assert peak <= 200 + 50  # max_buffer waiting + the batch being tried
            assert (stats.written, stats.dropped) == (50, 300)
            assert stats.failures >= 1
            assert stats.last_error
            assert sink.down
            assert stats.down_since is not None
            warnings = [r.getMessage() for r in caplog.records if r.name == LOGGER]
            assert len(warnings) == 1, warnings
            assert "unavailable" in warnings[0]
            await asyncio.to_thread(mend_it)
            deadline = time.monotonic() + 15
            while (sink.stats.buffered or sink.down) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert sink.stats.buffered == 0, sink.stats
            assert not sink.down
            assert await sink.submit([Event("o", "after", "like", T0 + 20)] * 50) is True
            await sink.close()
        finally:
            tick_task.cancel()
        sessions = [e.session for e in await store.events("o")]
        # The oldest were dropped: the last 4 submits of the outage are stored, and what followed.
        assert (
            sessions
            == ["before"] * 50 + [f"during{i}" for i in range(6, 10) for _ in range(50)] + ["after"] * 50
        )
    lines = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert len(lines) == 2, lines
    assert "is back" in lines[1]
    assert "300 dropped" in lines[1]
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert max(gaps) < 0.5, max(gaps)


async def test_overloaded_sink_drops_the_oldest(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The store answers but more comes than it takes: the buffer stays bounded, the oldest go."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    async with EventStore(f"sqlite:///{tmp_path}/events.db") as store:
        sink = EventSink(store, batch=50, interval_s=0.01, max_buffer=100)
        acks = [sink.submit([Event("x", f"n{i}", "like", T0 + i)] * 50) for i in range(8)]  # no yield
        assert sink.stats.buffered == 100
        assert sink.stats.dropped == 300
        assert await asyncio.gather(*acks) == [False] * 6 + [True] * 2
        assert [e.session for e in await store.events("x")] == ["n6"] * 50 + ["n7"] * 50
        await sink.close()
    lines = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert len(lines) == 1, lines
    assert "dropping the oldest" in lines[0]
