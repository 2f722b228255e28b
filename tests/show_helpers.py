"""Shared pieces of the live-show tests: a push-channel reader and the show's HTTP calls."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp

HOST_KEY = "test-server-host-key-0123456789"


class PushReader:
    """Reads a show's server-sent events in the background into ``events`` (name, data)."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.events: list[tuple[str, Any]] = []
        self.ended = asyncio.Event()
        self._task = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        name, data = "", ""
        try:
            async for raw in self.response.content:
                line = raw.decode().rstrip("\n")
                if not line:
                    if name:
                        self.events.append((name, json.loads(data)))
                    name, data = "", ""
                elif line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data = line[6:]
        except (aiohttp.ClientError, asyncio.CancelledError):
            pass
        finally:
            self.ended.set()

    @property
    def hello(self) -> dict[str, Any]:
        assert self.events, "no event yet"
        assert self.events[0][0] == "hello", self.events[:1]
        data: dict[str, Any] = self.events[0][1]
        return data

    async def wait(
        self, name: str, test: Callable[[Any], bool] = lambda _: True, timeout: float = 5.0
    ) -> Any:
        """The first event called ``name`` whose data passes ``test`` (waits for it)."""
        deadline = time.monotonic() + timeout
        while True:
            for event, data in self.events:
                if event == name and test(data):
                    return data
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"no {name!r} event passing the test within {timeout} s: {self.events[-5:]}"
                )
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self.response.close()


class ShowClient:
    """The show's HTTP calls against one server (``base`` like ``http://127.0.0.1:port``)."""

    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http = http
        self.base = base.rstrip("/")

    async def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any, Any]:
        """``(status, JSON body or text, headers)``."""
        kwargs: dict[str, Any] = {"headers": headers or {}}
        if body is not None:
            kwargs["json"] = body
        async with self.http.request(method, f"{self.base}{path}", **kwargs) as r:
            text = await r.text()
            try:
                parsed = json.loads(text) if text else None
            except ValueError:
                parsed = text
            return r.status, parsed, r.headers

    async def create(self, title: str = "Spring looks") -> dict[str, Any]:
        status, body, _ = await self.call("POST", "/api/shows", {"title": title}, bearer(HOST_KEY))
        assert status == 201, body
        return dict(body)

    async def push(self, show: str, key: str | None = None) -> PushReader:
        headers = bearer(key) if key else {}
        response = await self.http.get(f"{self.base}/api/shows/{show}/events", headers=headers)
        assert response.status == 200, await response.text()
        reader = PushReader(response)
        await reader.wait("hello")
        return reader


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def viewer_headers(token: str) -> dict[str, str]:
    return {"X-Viewer-Token": token}
