"""Server-sent events: one bounded push channel per viewer page (and one for the host's studio).

The show pushes an event into every channel without waiting; a channel whose queue is full (its
page does not read, or reads too slowly) is closed and counted, never buffered without limit.
The page reconnects if it wants to (``EventSource`` does by itself). A write that cannot be
handed to the socket within ``WRITE_TIMEOUT`` closes the channel too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from aiohttp import web

logger = logging.getLogger(__name__)

QUEUE = 64
"""Events waiting for one page, at most."""
PING_S = 15.0
"""A comment line this often keeps proxies from closing an idle stream."""
WRITE_TIMEOUT = 10.0

Event = tuple[str, str]


def encode(event: str, data: Any) -> Event:
    return event, json.dumps(data, separators=(",", ":"), ensure_ascii=False)


class PushChannel:
    """One page's event stream (see the module's doc)."""

    def __init__(self, viewer: str | None, queue: int = QUEUE) -> None:
        self.viewer = viewer
        """The viewer token this channel was opened with (``None``: the host's channel)."""
        self.opened_at = time.monotonic()
        self.overflowed = False
        self._queue: asyncio.Queue[Event] = asyncio.Queue(queue)
        self._done = asyncio.Event()

    @property
    def closed(self) -> bool:
        return self._done.is_set()

    def push(self, event: Event) -> bool:
        """Queue ``event``; ``False`` (and the channel closes) when the page is too far behind."""
        if self._done.is_set():
            return False
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True
            self._done.set()
            return False
        return True

    def close(self) -> None:
        """End the stream once the events already queued are written."""
        self._done.set()

    async def serve(self, request: web.Request, first: Event) -> web.StreamResponse:
        """Stream ``first`` then every pushed event until the channel closes or the page leaves."""
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        try:
            await self._write(response, first)
            while True:
                event = await self._next()
                if event is None:
                    break
                await self._write(response, event)
            # Whatever was queued before the close (an ``ended`` event) still goes out.
            while not self._queue.empty() and not self.overflowed:
                await self._write(response, self._queue.get_nowait())
        except (ConnectionError, TimeoutError, asyncio.CancelledError):
            pass
        finally:
            self._done.set()
        return response

    async def _next(self) -> Event | None:
        """The next event, a ping after ``PING_S`` of quiet, or ``None`` once closed."""
        if self._done.is_set():
            return None
        getter = asyncio.ensure_future(self._queue.get())
        closer = asyncio.ensure_future(self._done.wait())
        try:
            done, _ = await asyncio.wait(
                {getter, closer}, timeout=PING_S, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            closer.cancel()
            if not getter.done():
                getter.cancel()
        if getter in done:
            return getter.result()
        if closer in done:
            return None
        return ("", "")

    async def _write(self, response: web.StreamResponse, event: Event) -> None:
        name, data = event
        text = ": ping\n\n" if not name else f"event: {name}\ndata: {data}\n\n"
        await asyncio.wait_for(response.write(text.encode()), WRITE_TIMEOUT)
