"""Changing ``tryon host``'s look while it runs: hot keys in the preview window and a small HTTP API
on loopback.

Hot keys (:meth:`LookControl.key`): ``1``-``9`` wear that entry of the look file, ``0`` nothing,
``n`` or space the next entry, ``p`` the previous one, ``q`` or Esc quit.

The control API (:class:`ControlServer`, loopback only): ``GET /look``; ``PUT /look`` with
``{"products": ["ID[:variant]", ...]}`` or ``{"entry": N}`` (1-based, the look file's; 0: nothing);
``GET /stats``; ``POST /stop``. JSON bodies only (a page elsewhere cannot send one without a CORS
preflight, which is never allowed), a ``Host`` header naming loopback only (no DNS rebinding), and a
bearer token when one is configured.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import threading
import urllib.parse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from tryon.errors import InputError, TryOnError

logger = logging.getLogger(__name__)

Look = tuple[str, ...]
MAX_BODY = 64 * 1024
ESC = 27
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def load_looks(path: str | Path) -> list[Look]:
    """A look file: a JSON list whose entries are a product spec (``"ID[:variant]"``) or a list of
    them (a full look), or ``{"products": [...]}`` (other keys, e.g. a name, are ignored)."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"--look {p}: cannot read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"--look {p}: not JSON: {exc}") from None
    if not isinstance(data, list) or not data:
        raise InputError(
            f'--look {p}: expected a non-empty JSON list of looks, e.g. ["ID:variant", ["ID", "ID2"]]'
        )
    return [look_of(entry, f"--look {p}: entry {i + 1}") for i, entry in enumerate(data)]


def look_of(entry: object, where: str) -> Look:
    if isinstance(entry, dict):
        entry = entry.get("products")
    if isinstance(entry, str):
        entry = [entry]
    if not isinstance(entry, list) or not all(isinstance(s, str) for s in entry):
        raise InputError(f'{where}: expected "ID[:variant]", a list of them or {{"products": [...]}}')
    return tuple(entry)


class LookControl:
    """The look worn now, changed from any thread; ``set_look`` validates before it changes anything."""

    def __init__(
        self,
        set_look: Callable[[Sequence[str]], None],
        looks: Sequence[Look] = (),
        quit: Callable[[], None] = lambda: None,
    ) -> None:
        self._set_look = set_look
        self.looks = list(looks)
        self.quit = quit
        self.entry: int | None = None
        self.products: Look = ()
        self.changes = 0
        self._lock = threading.Lock()

    def wear(self, products: Sequence[str], entry: int | None = None) -> Look:
        look = tuple(products)
        with self._lock:
            self._set_look(look)  # raises on an unknown product: nothing changes
            self.products, self.entry = look, entry
            self.changes += 1
        logger.info("look: %s", ", ".join(look) or "nothing")
        return look

    def select(self, n: int) -> Look:
        """Entry ``n`` (1-based) of the look file; 0: nothing."""
        if n == 0:
            return self.wear((), 0)
        if not 1 <= n <= len(self.looks):
            raise InputError(f"look entry: expected 0-{len(self.looks)}, got {n}")
        return self.wear(self.looks[n - 1], n)

    def step(self, delta: int) -> Look | None:
        if not self.looks:
            return None
        current = self.entry or 0
        return self.select(
            (current - 1 + delta) % len(self.looks) + 1 if current else (1 if delta > 0 else len(self.looks))
        )

    def key(self, key: int) -> None:
        """A key pressed in the preview window (see the module's doc); errors are logged."""
        ch = chr(key) if 0 <= key < 128 else ""
        try:
            if ch in ("q", "Q") or key == ESC:
                self.quit()
            elif ch.isdigit():
                self.select(int(ch))
            elif ch in ("n", " "):
                self.step(1)
            elif ch == "p":
                self.step(-1)
        except TryOnError as exc:
            logger.warning("key %r: %s", ch, exc)

    def describe(self) -> dict[str, Any]:
        return {
            "products": list(self.products),
            "entry": self.entry,
            "looks": [list(look) for look in self.looks],
        }


def parse_control(text: str) -> tuple[str, int]:
    """``HOST:PORT`` with a loopback host (127.0.0.1, ::1 in brackets, localhost)."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(f"--control: expected 127.0.0.1:PORT, got {text!r}")
    if host != "localhost":
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise InputError(f"--control: the control API listens on loopback only (127.0.0.1), got {host!r}")
    return host, int(port)


class ControlServer:
    """The control API (see the module's doc) on its own thread and event loop."""

    def __init__(
        self,
        address: tuple[str, int],
        control: LookControl,
        stats: Callable[[], dict[str, Any]],
        stop: Callable[[], None],
        token: str | None = None,
    ) -> None:
        self.host, self.port = address
        self.control, self.stats, self.stop_host, self.token = control, stats, stop, token
        self.loop = asyncio.new_event_loop()
        self.runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, name="control API", daemon=True)

    def start(self) -> None:
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        except OSError as exc:
            self.close()
            raise InputError(
                f"--control {self.host}:{self.port}: cannot listen: {exc.strerror or exc}"
            ) from None
        logger.info("control API on http://%s:%d/look", self.host, self.port)

    async def _start(self) -> None:
        app = web.Application(client_max_size=MAX_BODY, middlewares=[self._guard])
        app.router.add_get("/look", self._get_look)
        app.router.add_put("/look", self._put_look)
        app.router.add_get("/stats", self._get_stats)
        app.router.add_post("/stop", self._post_stop)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, self.host, self.port).start()

    def close(self) -> None:
        if self._thread.is_alive():
            if self.runner is not None:
                asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(5)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(5)
        if not self.loop.is_running():
            self.loop.close()

    @web.middleware
    async def _guard(self, request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
        if urllib.parse.urlsplit("//" + (request.host or "")).hostname not in LOOPBACK_NAMES:
            return _error(403, "the control API answers requests to 127.0.0.1 only")
        if self.token is not None:
            scheme, _, given = request.headers.get("Authorization", "").partition(" ")
            if scheme != "Bearer" or not hmac.compare_digest(given.encode(), self.token.encode()):
                return _error(401, "expected Authorization: Bearer <the control token>")
        if request.method in ("PUT", "POST") and request.content_type != "application/json":
            return _error(415, "expected Content-Type: application/json")
        response: web.StreamResponse = await handler(request)
        return response

    async def _get_look(self, request: web.Request) -> web.Response:
        return web.json_response(self.control.describe())

    async def _put_look(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(400, "expected a JSON body")
        try:
            if isinstance(body, dict) and isinstance(body.get("entry"), int):
                entry = body["entry"]
                await asyncio.to_thread(self.control.select, entry)
            else:
                products = look_of(body, "look") if isinstance(body, dict) and "products" in body else None
                if products is None:
                    return _error(400, 'expected {"products": ["ID[:variant]", ...]} or {"entry": N}')
                await asyncio.to_thread(self.control.wear, products)
        except TryOnError as exc:
            return _error(400, str(exc))
        return web.json_response(self.control.describe())

    async def _get_stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    async def _post_stop(self, request: web.Request) -> web.Response:
        self.stop_host()
        return web.json_response({"stopping": True})


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)
