"""``tryon serve --workers N``: a front process that answers HTTP, and N worker processes.

Each worker is a whole ``tryon serve`` (its own event loop, codecs, pipelines and models) on an
internal port of the same address. The front runs the same request checks as a single server
(the :class:`~webrtc.guard.Guard`), then forwards each request:

- an offer (``POST /offer``) to the least-loaded worker: fewest sessions (live ones, from its
  ``/healthz`` polled every second, plus the offers on their way to it), then the shortest mean
  frame time (from its ``/metrics``). The worker's answer carries its own ICE candidates, so the
  media goes straight between the page and that worker; the front only sees the HTTP;
- a request about one session (``/api/sessions/<sid>/...``) to the worker that runs it;
- everything else (the page, the catalog, photos, shows) to worker 0.

A worker that dies is started again (after 1 s, doubling while it keeps dying, up to 30 s). Its
sessions end with it: their pages see the connection drop and show their connection-lost
message, and the front answers later requests about those sessions with 410 and the reason. The
other workers' sessions go on.

The front forwards the client's address (``X-Forwarded-For``) with a secret only the front and
its workers know (``TRYON_FRONT_SECRET`` in the workers' environment), so a worker applies the
offer-token rule to the client, not to the front (:func:`webrtc.guard.peer_address`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import secrets
import socket
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from tryon.runtime.providers import cuda_device_count
from webrtc.config import ServerConfig
from webrtc.guard import FRONT_HEADER, FRONT_SECRET_ENV, Guard, peer_address, security_headers
from webrtc.responses import json_error

logger = logging.getLogger(__name__)

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "content-encoding",
    }
)
SESSION_PATH = re.compile(r"^/api/sessions/([^/]+)/")
POLL_S = 1.0
RESTART_DELAYS = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)
READY_TIMEOUT_S = 180.0
"""A worker loads the models before it answers: this long at most."""

WorkerCommand = Callable[[int, int], Sequence[str]]
"""``(index, port) -> argv`` of worker ``index`` listening on ``port``."""


@dataclass
class Worker:
    index: int
    port: int = 0
    process: asyncio.subprocess.Process | None = None
    ready: bool = False
    sessions: int = 0
    """Live sessions, as the worker's last ``/healthz`` said (plus answers given since)."""
    pending: int = 0
    """Offers forwarded to it and not answered yet."""
    frame_ms: float = 0.0
    """Mean frame time since the previous poll (``tryon_frame_seconds``)."""
    started: int = 0
    session_ids: set[str] = field(default_factory=set)
    _frames: tuple[float, float] = (0.0, 0.0)

    def load(self) -> tuple[int, float]:
        return (self.sessions + self.pending, self.frame_ms)


def free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def worker_argv(argv: Sequence[str]) -> WorkerCommand:
    """A worker's command line from the front's ``tryon serve`` arguments (``argv`` from
    ``serve`` on): ``--workers`` and ``--port`` replaced by the worker's port and ``--workers 1``."""
    kept: list[str] = []
    skip = False
    for a in argv:
        if skip:
            skip = False
            continue
        if a in ("--workers", "--port"):
            skip = True
            continue
        if a.startswith(("--workers=", "--port=")):
            continue
        kept.append(a)

    def command(index: int, port: int) -> list[str]:
        return [sys.executable, "-m", "tryon", *kept, "--port", str(port), "--workers", "1"]

    return command


class Front:
    """Starts, watches and restarts the workers; forwards requests to them."""

    def __init__(self, config: ServerConfig, count: int, command: WorkerCommand) -> None:
        if count < 1:
            raise ValueError(f"workers: expected at least 1, got {count}")
        self.config = config
        self.command = command
        self.workers = [Worker(i) for i in range(count)]
        self.secret = secrets.token_urlsafe(24)
        self.ended: dict[str, str] = {}
        """Sessions whose worker died: id → why (answered with 410)."""
        self.connect_host = "127.0.0.1" if config.host in ("0.0.0.0", "") else config.host
        if config.host == "::":
            self.connect_host = "::1"
        self.scheme = "https" if config.tls_cert else "http"
        self._client: aiohttp.ClientSession | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False

    # -------------------------------------------------------------------------- workers
    async def start(self) -> None:
        self._client = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=5),
            connector=aiohttp.TCPConnector(ssl=False),
            auto_decompress=False,
        )
        for w in self.workers:
            await self._spawn(w)
        await asyncio.gather(*(self._wait_ready(w) for w in self.workers))
        self._tasks = [asyncio.ensure_future(self._supervise(w)) for w in self.workers]
        self._tasks.append(asyncio.ensure_future(self._poll()))

    async def _spawn(self, w: Worker) -> None:
        w.port = free_port(self.connect_host)
        w.ready, w.sessions, w.pending, w.frame_ms, w._frames = False, 0, 0, 0.0, (0.0, 0.0)
        env = {**os.environ, FRONT_SECRET_ENV: self.secret}
        if self.config.host_key:
            env["TRYON_HOST_KEY"] = self.config.host_key
        gpus = cuda_device_count()
        if gpus > 1:  # one GPU per worker, round robin
            env["CUDA_VISIBLE_DEVICES"] = str(w.index % gpus)
        w.process = await asyncio.create_subprocess_exec(
            *self.command(w.index, w.port), env=env, stdout=sys.stderr, stdin=asyncio.subprocess.DEVNULL
        )
        w.started += 1
        logger.info("worker %d: started (pid %d, port %d)", w.index, w.process.pid, w.port)

    def url(self, w: Worker, path: str) -> str:
        host = f"[{self.connect_host}]" if ":" in self.connect_host else self.connect_host
        return f"{self.scheme}://{host}:{w.port}{path}"

    async def _wait_ready(self, w: Worker) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline and not self._closing:
            if w.process is not None and w.process.returncode is not None:
                return  # the supervisor restarts it
            if await self._health(w):
                w.ready = True
                logger.info("worker %d: ready", w.index)
                return
            await asyncio.sleep(0.2)

    async def _health(self, w: Worker) -> bool:
        assert self._client is not None
        try:
            async with self._client.get(
                self.url(w, "/healthz"),
                headers=self._front_headers(None),
                timeout=aiohttp.ClientTimeout(total=2),
            ) as r:
                if r.status != 200:
                    return False
                w.sessions = int((await r.json()).get("sessions", 0))
            async with self._client.get(
                self.url(w, "/metrics"),
                headers=self._front_headers(None),
                timeout=aiohttp.ClientTimeout(total=2),
            ) as r:
                if r.status == 200:
                    self._frame_time(w, await r.text())
            return True
        except (TimeoutError, aiohttp.ClientError, ValueError):
            return False

    @staticmethod
    def _frame_time(w: Worker, text: str) -> None:
        found = dict.fromkeys(("tryon_frame_seconds_sum", "tryon_frame_seconds_count"), 0.0)
        for line in text.splitlines():
            name, _, value = line.partition(" ")
            if name in found:
                with contextlib.suppress(ValueError):
                    found[name] = float(value)
        total, count = found["tryon_frame_seconds_sum"], found["tryon_frame_seconds_count"]
        before_total, before_count = w._frames
        if count > before_count:
            w.frame_ms = (total - before_total) / (count - before_count) * 1e3
        w._frames = (total, count)

    async def _supervise(self, w: Worker) -> None:
        failures = 0
        while not self._closing:
            assert w.process is not None
            code = await w.process.wait()
            if self._closing:
                return
            lived = w.ready
            w.ready = False
            reason = f"the worker running this session stopped (exit {code}); start the try-on again"
            for sid in w.session_ids:
                self.ended[sid] = reason
            logger.warning(
                "worker %d exited with %s: %d sessions ended; restarting", w.index, code, len(w.session_ids)
            )
            w.session_ids.clear()
            failures = 0 if lived else failures + 1
            await asyncio.sleep(RESTART_DELAYS[min(failures, len(RESTART_DELAYS) - 1)])
            if self._closing:
                return
            await self._spawn(w)
            await self._wait_ready(w)

    async def _poll(self) -> None:
        while not self._closing:
            await asyncio.sleep(POLL_S)
            ready = [w for w in self.workers if w.ready]
            await asyncio.gather(*(self._health(w) for w in ready))

    def least_loaded(self) -> Worker | None:
        ready = [w for w in self.workers if w.ready]
        return min(ready, key=lambda w: (*w.load(), w.index)) if ready else None

    async def close(self) -> None:
        self._closing = True
        for t in self._tasks:
            t.cancel()
        for w in self.workers:
            if w.process is not None and w.process.returncode is None:
                w.process.terminate()
        for w in self.workers:
            if w.process is not None:
                try:
                    await asyncio.wait_for(w.process.wait(), 10)
                except TimeoutError:
                    w.process.kill()
        if self._client is not None:
            await self._client.close()

    # -------------------------------------------------------------------------- requests
    def _front_headers(self, request: web.Request | None) -> dict[str, str]:
        """Polls go as the front itself (loopback); forwarded requests as their client."""
        if request is None:
            return {}
        return {FRONT_HEADER: self.secret, "X-Forwarded-For": peer_address(request)}

    async def handle(self, request: web.Request) -> web.StreamResponse:
        match = SESSION_PATH.match(request.path)
        if request.method == "POST" and request.path == "/offer":
            worker = self.least_loaded()
            if worker is None:
                return json_error(503, "no worker is ready; try again shortly")
            worker.pending += 1
            try:
                return await self.forward(request, worker, offer=True)
            finally:
                worker.pending -= 1
        if match is not None:
            sid = match.group(1)
            if sid in self.ended:
                return json_error(410, self.ended[sid])
            owner = next((w for w in self.workers if sid in w.session_ids), None)
            if owner is None:
                return json_error(404, "no such session")
            return await self.forward(request, owner)
        first = self.workers[0]
        if not first.ready:
            return json_error(503, "the server is starting or restarting a worker; try again shortly")
        return await self.forward(request, first)

    async def forward(self, request: web.Request, worker: Worker, offer: bool = False) -> web.StreamResponse:
        assert self._client is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        headers.update(self._front_headers(request))
        body = await request.read() if request.can_read_body else None
        try:
            async with self._client.request(
                request.method,
                self.url(worker, str(request.rel_url)),
                headers=headers,
                data=body,
                allow_redirects=False,
            ) as upstream:
                if offer:
                    data = await upstream.read()
                    if upstream.status == 200:
                        with contextlib.suppress(ValueError, KeyError, TypeError):
                            worker.session_ids.add(str(json.loads(data)["session"]))
                            worker.sessions += 1
                    return web.Response(status=upstream.status, body=data, headers=_copy(upstream))
                response = web.StreamResponse(status=upstream.status, headers=_copy(upstream))
                await response.prepare(request)
                async for chunk in upstream.content.iter_any():
                    await response.write(chunk)
                await response.write_eof()
                return response
        except (TimeoutError, aiohttp.ClientError) as exc:
            logger.warning("worker %d: %s %s failed: %s", worker.index, request.method, request.path, exc)
            return json_error(502, "the worker did not answer; try again")


def _copy(upstream: aiohttp.ClientResponse) -> dict[str, str]:
    return {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}


FRONT_KEY = web.AppKey("front", Front)


def create_front_app(config: ServerConfig, count: int, command: WorkerCommand) -> web.Application:
    """The front as an aiohttp application: every path forwarded after the Guard's checks."""
    front = Front(config, count, command)
    guard = Guard(config)
    app = web.Application(middlewares=[guard.middleware], client_max_size=config.max_photo_bytes + 1024)
    app.on_response_prepare.append(security_headers)
    app[FRONT_KEY] = front
    app.router.add_route("*", "/{tail:.*}", front.handle)

    async def startup(_: web.Application) -> None:
        await front.start()

    async def shutdown(_: web.Application) -> None:
        await front.close()

    app.on_startup.append(startup)
    app.on_cleanup.append(shutdown)
    return app
