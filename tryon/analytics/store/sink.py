"""The writer in front of the event store: batched, never blocking, bounded when the database is down.

:meth:`EventSink.submit` queues events and returns a future at once; a writer task gathers what
arrives (up to ``batch`` events, waiting at most ``interval_s`` after the first) into one
transaction and resolves each submit's future with True once all its events are committed (the
server acknowledges a page's events only then).

When a write fails (PostgreSQL stopped, a disk error) the events stay in a bounded in-memory
buffer and the writer retries with exponential backoff; every waiting future resolves False
("buffered, not yet stored"), as does each submit until the store is back. Past ``max_buffer``
events waiting the oldest are dropped and counted (memory holds at most ``max_buffer`` events
waiting and one batch being written, which goes back to the head of the queue if it fails).
One warning is logged when the outage starts and one line when it ends; the caller's event loop
keeps running throughout (the writes are the async driver's: asyncpg's sockets, aiosqlite's thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import exc as sa_exc

from tryon.analytics.events import Event
from tryon.analytics.store.store import EventStore

logger = logging.getLogger("tryon.analytics.store")


@dataclass(frozen=True)
class SinkStats:
    written: int
    """Events committed."""
    batches: int
    """Transactions committed."""
    buffered: int
    """Events waiting in memory (queued or being written)."""
    dropped: int
    """Events lost: the oldest past ``max_buffer`` during an outage, or a batch the database refused."""
    failures: int
    """Failed write attempts."""
    last_error: str | None
    down_since: float | None
    """Wall-clock time the current outage began; None while the store answers."""


class _Submit:
    __slots__ = ("future", "left")

    def __init__(self, future: asyncio.Future[bool], left: int) -> None:
        self.future = future
        self.left = left

    def resolve(self, stored: bool) -> None:
        if not self.future.done():
            self.future.set_result(stored)


class EventSink:
    """Batches events into ``store`` (an opened :class:`EventStore`) from a task on the running
    loop; ``close()`` it to flush. ``retry_s``: the first and the longest wait between attempts
    while the store is down (doubling)."""

    def __init__(
        self,
        store: EventStore,
        *,
        batch: int = 500,
        interval_s: float = 0.1,
        max_buffer: int = 100_000,
        retry_s: tuple[float, float] = (0.1, 5.0),
    ) -> None:
        if batch < 1 or max_buffer < batch or interval_s < 0:
            raise ValueError(
                "EventSink: expected batch >= 1, max_buffer >= batch and interval_s >= 0, "
                f"got {batch}, {max_buffer} and {interval_s}"
            )
        self.store = store
        self.batch = batch
        self.interval_s = interval_s
        self.max_buffer = max_buffer
        self.retry_s = retry_s
        self._buffer: deque[tuple[Event, _Submit]] = deque()
        self._taken: list[tuple[Event, _Submit]] = []
        self._refusals = 0
        self._written = self._batches = self._dropped = self._failures = 0
        self._last_error: str | None = None
        self._down_since: float | None = None
        self._down_dropped = 0
        self._wake = asyncio.Event()
        self._closing = False
        self._overloaded = False
        self._task: asyncio.Task[None] | None = None

    @property
    def stats(self) -> SinkStats:
        return SinkStats(
            self._written,
            self._batches,
            len(self._buffer) + len(self._taken),
            self._dropped,
            self._failures,
            self._last_error,
            self._down_since,
        )

    @property
    def down(self) -> bool:
        """Whether the last write failed (events are kept in memory until one succeeds)."""
        return self._down_since is not None

    def submit(self, events: Sequence[Event]) -> asyncio.Future[bool]:
        """Queue ``events``; the future resolves True once they are all committed, False if they
        are only buffered (the store is down: they are written later unless dropped, see
        :attr:`stats`). Never blocks; call it on the sink's event loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        if self._closing:
            future.set_result(False)
            return future
        if not events:
            future.set_result(True)
            return future
        submit = _Submit(future, len(events))
        self._buffer.extend((e, submit) for e in events)
        self._bound()
        if self.down:
            submit.resolve(False)
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run(), name="event-sink")
            self._task.add_done_callback(self._writer_ended)
        # Wake the writer for a full batch, or for the first events (their interval starts).
        if len(self._buffer) >= self.batch or len(self._buffer) == len(events) or not self.interval_s:
            self._wake.set()
        return future

    def _bound(self) -> None:
        if len(self._buffer) <= self.max_buffer:
            return
        if not self.down and not self._overloaded:  # the store answers but slower than events come
            self._overloaded = True
            logger.warning(
                "event sink: %d events waiting, more than the store takes: dropping the oldest",
                len(self._buffer),
            )
        while len(self._buffer) > self.max_buffer:
            _, submit = self._buffer.popleft()
            submit.resolve(False)
            self._dropped += 1
            self._down_dropped += 1

    def _writer_ended(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        logger.error("event sink: the writer failed; events waiting are dropped", exc_info=task.exception())
        for _, submit in (*self._taken, *self._buffer):
            submit.resolve(False)
        self._dropped += len(self._buffer) + len(self._taken)
        self._buffer.clear()
        self._taken = []

    async def _run(self) -> None:
        backoff = self.retry_s[0]
        while True:
            if not self._buffer:
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            if len(self._buffer) < self.batch and not self._closing and not self.down:
                self._wake.clear()  # linger: let a batch gather, at most interval_s
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.interval_s):
                        while len(self._buffer) < self.batch and not self._closing:
                            await self._wake.wait()
                            self._wake.clear()
            taken = self._taken = [self._buffer.popleft() for _ in range(min(self.batch, len(self._buffer)))]
            try:
                await self.store.add([event for event, _ in taken])
            except (sa_exc.IntegrityError, sa_exc.DataError) as e:
                # Refused, not unreachable (a constraint, a value the database rejects): once more,
                # then the batch is dropped rather than retried forever.
                self._taken = []
                self._refusals += 1
                if self._refusals == 1:
                    self._buffer.extendleft(reversed(taken))
                else:
                    self._refused(taken, e)
                continue
            except Exception as e:  # the database is unreachable or failing: keep, retry
                self._taken = []
                self._buffer.extendleft(reversed(taken))
                self._bound()
                self._failed(e)
                if self._closing:
                    return
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(backoff):
                        await self._wake_on_close()
                backoff = min(backoff * 2, self.retry_s[1])
                continue
            self._taken = []
            self._refusals = 0
            backoff = self.retry_s[0]
            if self._overloaded and len(self._buffer) < self.max_buffer // 2:
                self._overloaded = False
            self._written += len(taken)
            self._batches += 1
            for _, submit in taken:
                submit.left -= 1
                if submit.left == 0:
                    submit.resolve(True)
            if self._down_since is not None:
                logger.warning(
                    "event store %s is back after %.1f s: writing the %d buffered events (%d dropped)",
                    self.store.url,
                    time.time() - self._down_since,
                    len(self._buffer) + len(taken),
                    self._down_dropped,
                )
                self._down_since = None

    async def _wake_on_close(self) -> None:
        while not self._closing:
            await self._wake.wait()
            self._wake.clear()

    def _failed(self, error: Exception) -> None:
        self._failures += 1
        self._last_error = f"{type(error).__name__}: {str(error).splitlines()[0][:300] if str(error) else ''}"
        for _, submit in self._buffer:
            submit.resolve(False)
        if self._down_since is None:
            self._down_since = time.time()
            self._down_dropped = 0
            logger.warning(
                "event store %s is unavailable (%s): keeping up to %d events in memory and retrying; "
                "pages are told their events are buffered, not yet stored",
                self.store.url,
                self._last_error,
                self.max_buffer,
            )

    def _refused(self, taken: list[tuple[Event, _Submit]], error: Exception) -> None:
        self._refusals = 0
        self._failures += 1
        self._dropped += len(taken)
        self._last_error = f"{type(error).__name__}: {str(error).splitlines()[0][:300]}"
        logger.error("event store refused a batch of %d events, dropped: %s", len(taken), self._last_error)
        for _, submit in taken:
            submit.resolve(False)

    async def close(self, timeout_s: float = 5.0) -> int:
        """Write what is queued (for at most ``timeout_s`` seconds), then stop; the number of events
        left unwritten (their futures resolve False). The store stays open: it is the caller's."""
        self._closing = True
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            try:
                async with asyncio.timeout(timeout_s):
                    await asyncio.shield(task)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        left = len(self._buffer) + len(self._taken)
        for _, submit in (*self._taken, *self._buffer):
            submit.resolve(False)
        self._buffer.clear()
        self._taken = []
        if left:
            logger.warning("event sink closed with %d events unwritten", left)
        return left
