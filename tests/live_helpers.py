"""Shared pieces of the live-server tests: a server on loopback and probe peers (see webrtc.probe)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import aiohttp
import numpy as np
import pytest
from aiohttp.test_utils import TestServer
from conftest import moving_frame
from numpy.typing import NDArray

from tryon.catalog import Catalog
from tryon.perception import Perception, PerceptionConfig
from tryon.render.makeup import region_mask
from webrtc import ServerConfig, create_app
from webrtc.guard import runner_options
from webrtc.probe import ProbeClient

LIPSTICK = "velvet-matte-lipstick:ruby-red"


class Live:
    """A server on loopback plus an HTTP client; ``client()`` makes probe peers."""

    def __init__(self, server: TestServer, http: aiohttp.ClientSession, scene: NDArray[np.uint8]) -> None:
        self.server, self.http, self.scene = server, http, scene
        self.clients: list[ProbeClient] = []

    @property
    def url(self) -> str:
        return str(self.server.make_url("/"))

    def frame(self, i: int) -> NDArray[np.uint8]:
        return moving_frame(self.scene, i)

    async def client(
        self,
        products: Sequence[str] = (),
        keep: Callable[[int], bool] | None = None,
        fps: float = 30.0,
        still: bool = False,
        munge: Callable[[str], str] | None = None,
    ) -> ProbeClient:
        """A connected probe peer playing the moving portrait (``still``: the scene, unmoving)."""
        c = ProbeClient(self.url, (lambda _: self.scene) if still else self.frame, fps=fps, keep=keep)
        self.clients.append(c)
        await c.connect(self.http, products, munge)
        return c

    async def get(self, path: str) -> tuple[int, Any]:
        async with self.http.get(self.server.make_url(path)) as r:
            body = await r.json() if r.content_type == "application/json" else await r.read()
            return r.status, body

    async def post_offer(
        self, body: bytes | dict[str, Any], headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """POST ``body`` to /offer as JSON (bytes are sent as they are, labelled JSON)."""
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        headers = {"Content-Type": "application/json", **(headers or {})}
        async with self.http.post(self.server.make_url("/offer"), data=data, headers=headers) as r:
            return r.status, await r.json()

    async def sessions(self) -> int:
        status, body = await self.get("/healthz")
        assert status == 200
        return int(body["sessions"])

    async def wait_sessions(self, n: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while (got := await self.sessions()) != n:
            assert time.monotonic() < deadline, f"expected {n} live sessions within {timeout} s, got {got}"
            await asyncio.sleep(0.1)

    async def works(self) -> None:
        """A fresh session connects, takes a product and returns frames: the server still serves."""
        c = await self.client([LIPSTICK])
        await c.wait_frames(10)
        assert [r.counter for r in c.received[-5:] if r.counter is not None], "no readable frames"
        await c.close()


@functools.cache
def shared_catalog() -> Catalog:
    return Catalog.load()


@contextlib.asynccontextmanager
async def live_server(
    settings: ServerConfig, scene: NDArray[np.uint8], factory: Any = None
) -> AsyncIterator[Live]:
    """The server with ``settings`` on loopback and an HTTP client; its probe peers closed after."""
    app = create_app(settings, catalog=shared_catalog(), pipeline_factory=factory)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(**runner_options(settings))
    try:
        async with aiohttp.ClientSession() as http:
            live = Live(server, http, scene)
            yield live
            for c in live.clients:
                await c.close()
    finally:
        await server.close()


def live_fixture(**config: Any) -> Callable[..., AsyncIterator[Live]]:
    async def fixture(camera_scene: NDArray[np.uint8], request: pytest.FixtureRequest) -> AsyncIterator[Live]:
        async with live_server(ServerConfig(**config), camera_scene, getattr(request, "param", None)) as live:
            yield live

    return fixture


def lip_mask(frame: NDArray[np.uint8]) -> NDArray[np.bool_]:
    perception = Perception(PerceptionConfig(static_image_mode=True))
    faces = perception.process(frame).faces
    assert len(faces) == 1
    return region_mask(frame.shape, faces[0], "lipstick").full(frame.shape[1], frame.shape[0]) > 0.5
