"""The live show's HTTP API (``docs/show.md``): keys, the host's actions, the viewers' push
channels, likes, comments and media subscriptions.

Threat model in brief: creating a show needs the server host key; every host action needs the
show's own key (``Authorization: Bearer``; missing → 401, wrong → 403, compared in constant time,
never logged). Viewers are anonymous: their push channel hands them a random token that
rate-limits what they send. Every body is read whole within a small limit; comments are plain
text, length-limited; every queue is bounded. A refusal is a 4xx (or 503) with a message, counted
by reason in ``tryon_show_refusals``, and the show goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tryon.analytics.events import Event
from tryon.errors import TryOnError
from webrtc.control import LookRequest
from webrtc.guard import JSON_TYPES, BodyError, bearer_token, check_content_type, read_body, token_matches
from webrtc.offer import OfferRefusedError, parse_offer
from webrtc.responses import json_error
from webrtc.sfu.base import Sfu, SfuError
from webrtc.sfu.relay import RelaySfu
from webrtc.show.state import Show, Showing, Viewer
from webrtc.show.track import ShowTrack

if TYPE_CHECKING:
    from webrtc.app import Server
    from webrtc.session import Session

logger = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent.parent / "static"
SMALL_BODY = 4096
TICK_S = 0.5
HOST_STATS_S = 2.0
ENDED_KEPT_S = 600.0
"""An ended show answers (``ended: true``) this long before its id is forgotten (404)."""
MAX_TITLE = 80
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ShowRefusedError(Exception):
    def __init__(self, status: int, message: str, reason: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.reason, self.retry_after = status, message, reason, retry_after


def make_sfu(server: Server) -> Sfu:
    config = server.config
    if config.sfu:
        from webrtc.sfu.janus import JanusSfu

        return JanusSfu(config.sfu.removeprefix("janus:"), policy=config.ice_policy)
    return RelaySfu(
        config.relay_viewers, config.ice_policy, lambda: config.rtc_configuration(), config.connect_timeout
    )


class ShowService:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.config = server.config
        self.metrics = server.metrics
        self.shows: dict[str, Show] = {}
        self.ended: dict[str, tuple[float, dict[str, Any]]] = {}
        self._sfu: Sfu | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._last_out: dict[str, tuple[float, int]] = {}
        self._tasks: set[asyncio.Future[Any]] = set()
        self.on_finish: list[Callable[[Show], Awaitable[None]]] = []
        """Called when a show ends (its outputs stop)."""
        self.host_extras: list[Callable[[Show], dict[str, Any]]] = []
        """More numbers for the host's stats (its outputs')."""

    def spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("show task failed", exc_info=task.exception())

    @property
    def sfu(self) -> Sfu:
        if self._sfu is None:
            self._sfu = make_sfu(self.server)
        return self._sfu

    def find_viewer(self, token: str | None) -> tuple[Show, Viewer] | None:
        """The live show whose viewer token ``token`` is, and that viewer; else ``None``."""
        if token:
            for show in self.shows.values():
                viewer = show.viewer(token)
                if viewer is not None:
                    return show, viewer
        return None

    def routes(self, router: web.UrlDispatcher) -> None:
        r = router
        r.add_get("/studio", self.studio_page)
        r.add_get("/show/{id}", self.viewer_page)
        r.add_post("/api/shows", self.guarded(self.create))
        r.add_get("/api/shows/{id}", self.guarded(self.state))
        r.add_delete("/api/shows/{id}", self.guarded(self.end))
        r.add_post("/api/shows/{id}/publish", self.guarded(self.publish))
        r.add_put("/api/shows/{id}/look", self.guarded(self.look))
        r.add_put("/api/shows/{id}/showing", self.guarded(self.set_showing))

    def guarded(self, handler: Handler) -> Handler:
        async def run(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except ShowRefusedError as r:
                self.metrics.show_refusals.labels(r.reason).inc()
                response = json_error(r.status, r.message)
                if r.retry_after is not None:
                    response.headers["Retry-After"] = str(max(1, round(r.retry_after + 0.5)))
                return response
            except BodyError as exc:
                self.metrics.show_refusals.labels("body").inc()
                return json_error(exc.status, exc.message)

        return run

    # -- keys and bodies -----------------------------------------------------------------------

    @staticmethod
    def require_key(request: web.Request, expected: str | None, what: str) -> None:
        given = bearer_token(request)
        if given is None:
            raise ShowRefusedError(401, f"expected Authorization: Bearer <{what}>", "no_key")
        if expected is None or not token_matches(given, expected):
            raise ShowRefusedError(403, f"the {what} is not valid", "wrong_key")

    def show(self, request: web.Request) -> Show:
        show = self.shows.get(request.match_info["id"])
        if show is None:
            raise ShowRefusedError(404, "no live show with this id", "unknown_show")
        return show

    def host_show(self, request: web.Request) -> Show:
        show = self.show(request)
        self.require_key(request, show.key, "show key")
        return show

    async def json_object(self, request: web.Request, what: str, limit: int = SMALL_BODY) -> dict[str, Any]:
        check_content_type(request, JSON_TYPES, what)
        c = self.config
        body = await read_body(request, limit, c.body_timeout, c.body_deadline, what)
        if not body.strip():
            return {}
        try:
            msg = json.loads(body)
        except (ValueError, RecursionError):
            raise ShowRefusedError(
                400, f"{what}: expected a JSON object, got invalid JSON", "malformed"
            ) from None
        if not isinstance(msg, dict):
            raise ShowRefusedError(
                400, f"{what}: expected a JSON object, got {type(msg).__name__}", "malformed"
            )
        return msg

    # -- pages ---------------------------------------------------------------------------------

    async def studio_page(self, request: web.Request) -> web.StreamResponse:
        return _page("studio.html")

    async def viewer_page(self, request: web.Request) -> web.StreamResponse:
        sid = request.match_info["id"]
        if sid not in self.shows and sid not in self.ended:
            return web.Response(
                status=404,
                text="<!doctype html><title>No such show</title><p>No live show with this id.</p>",
                content_type="text/html",
            )
        return _page("show.html")

    # -- the host ------------------------------------------------------------------------------

    async def create(self, request: web.Request) -> web.StreamResponse:
        self.require_key(request, self.config.host_key, "server host key")
        msg = await self.json_object(request, "show")
        title = msg.get("title", "")
        if not isinstance(title, str) or len(title) > MAX_TITLE:
            raise ShowRefusedError(
                400, f"title: expected a string of at most {MAX_TITLE} characters", "malformed"
            )
        show = await self.new_show(title)
        body = {"id": show.id, "key": show.key, "title": show.title, "viewer_url": f"/show/{show.id}"}
        body["sfu"] = self.sfu.name
        return web.json_response(body, status=201, headers={"Cache-Control": "no-store"})

    async def new_show(self, title: str) -> Show:
        """Open a room and start a show in it (503 past ``max_shows``, 502 if the SFU refuses)."""
        if len(self.shows) >= self.config.max_shows:
            raise ShowRefusedError(503, f"{self.config.max_shows} shows are live; end one first", "capacity")
        sid = secrets.token_urlsafe(9)
        track = ShowTrack(self.config.output_size)
        try:
            room = await self.sfu.open_room(sid)
        except SfuError as exc:
            track.stop()
            logger.warning("show not created: %s", exc)
            raise ShowRefusedError(502, f"the SFU refused the show's room: {exc}", "sfu") from None
        key = secrets.token_urlsafe(32)
        show = Show(sid, key, " ".join(title.split()), room, track, self.config.max_show_viewers)
        try:
            await room.publish(show.output(), show.audio_output())
        except SfuError as exc:
            track.stop()
            show.audio.stop()
            with contextlib.suppress(Exception):
                await room.close()
            logger.warning("show not created: %s", exc)
            raise ShowRefusedError(502, f"the SFU refused the show's stream: {exc}", "sfu") from None
        self.spawn(show.drain_audio())
        self.server.analytics.open_board(sid)
        self.spawn(self.server.analytics.ready())  # comments come with shows: load the analyzer now
        self.shows[sid] = show
        self.metrics.shows.set(len(self.shows))
        self._start_ticker()
        logger.info("show %s created (%s)", sid, self.sfu.name)
        return show

    async def state(self, request: web.Request) -> web.StreamResponse:
        sid = request.match_info["id"]
        if sid in self.ended:
            return web.json_response(self.ended[sid][1])
        return web.json_response(self.show(request).public_state())

    async def end(self, request: web.Request) -> web.StreamResponse:
        show = self.host_show(request)
        await self.finish(show, "ended by the host")
        return web.Response(status=204)

    async def finish(self, show: Show, reason: str) -> None:
        """End ``show``: tell every page, close the viewers' media and the host's session, free the room."""
        if self.shows.pop(show.id, None) is None:
            return
        show.end()
        self.server.analytics.close_board(show.id)
        for viewer in show.viewers.values():
            self.server.analytics.promotions_to(viewer.pseudonym, None)
        self.ended[show.id] = (time.monotonic(), show.public_state())
        self.metrics.shows.set(len(self.shows))
        for stop in self.on_finish:
            try:
                await stop(show)
            except Exception:
                logger.exception("show %s: stopping failed", show.id)
        host, show.host = show.host, None
        show.track.stop()
        show.audio.stop()
        if host is not None:
            await host.close(f"show {reason}")
        with contextlib.suppress(Exception):
            await show.room.close()
        if show.whep_room is not None:
            await show.whep_room.close()
        logger.info("show %s %s: peak %d viewers, %d likes", show.id, reason, show.peak, show.likes)

    async def publish(self, request: web.Request) -> web.StreamResponse:
        show = self.host_show(request)
        c = self.config
        check_content_type(request, JSON_TYPES, "offer")
        body = await read_body(request, c.max_offer_bytes, c.body_timeout, c.body_deadline, "offer")
        try:
            offer, items = parse_offer(body, self.server.resolve, c.max_look)
        except OfferRefusedError as r:
            raise ShowRefusedError(r.status, r.message, r.reason) from None
        return await self.server.start_session(offer, items, lambda s: self.attach_host(show, s))

    def attach_host(self, show: Show, session: Session) -> None:
        previous, show.host = show.host, session

        def on_output(track: Any) -> None:
            if show.host is session and not show.ended:
                show.track.set_source(track)
                show.broadcast("state", show.public_state())

        session.on_output = on_output
        session.on_audio = show.audio.set_source
        if previous is not None:
            self.spawn(previous.close("replaced by a new publish"))
        self.spawn(self._host_left(show, session))

    async def _host_left(self, show: Show, session: Session) -> None:
        await session.closed.wait()
        if show.host is session:
            show.host = None
            show.track.set_source(None)
            if not show.ended:
                show.broadcast("state", show.public_state())

    async def look(self, request: web.Request) -> web.StreamResponse:
        show = self.host_show(request)
        msg = await self.json_object(request, "look")
        products = msg.get("products")
        if not isinstance(products, list) or len(products) > self.config.max_look:
            expected = f"products: expected a list of at most {self.config.max_look} specs"
            raise ShowRefusedError(400, expected, "malformed")
        if show.host is None:
            raise ShowRefusedError(
                409, "the host is not publishing: nothing to apply the look to", "not_live"
            )
        request_ = LookRequest(None, tuple((p, 1.0) for p in products if isinstance(p, str)), None)
        if len(request_.products) != len(products):
            raise ShowRefusedError(400, 'products: expected "ID[:variant]" strings', "malformed")
        try:
            ack = json.loads(await show.host.apply(request_))
        except TryOnError as exc:
            raise ShowRefusedError(400, str(exc), "product") from None
        return web.json_response({"look": show.host.look_specs(), "replaced": ack.get("replaced", [])})

    async def set_showing(self, request: web.Request) -> web.StreamResponse:
        show = self.host_show(request)
        msg = await self.json_object(request, "showing")
        product, shade = msg.get("product"), msg.get("shade")
        if product is None:
            show.set_showing(None)
            self._record_showing(show)
            return web.json_response(show.public_state())
        if not isinstance(product, str) or not (shade is None or isinstance(shade, str)):
            raise ShowRefusedError(400, "expected {product: id or null, shade?: variant id}", "malformed")
        spec = f"{product}:{shade}" if shade else product
        try:
            found, variant = self.server.catalog.resolve(spec)
        except TryOnError as exc:
            raise ShowRefusedError(400, str(exc), "product") from None
        show.set_showing(Showing(found, variant.id if variant else None))
        self._record_showing(show)
        return web.json_response(show.public_state())

    def _record_showing(self, show: Show) -> None:
        s = show.showing
        event = Event(
            show.id, "host", "showing", time.time(), s.product.id if s else None, s.shade if s else None
        )
        self.server.analytics.record(event)

    # -- timers and shutdown -------------------------------------------------------------------

    def _start_ticker(self) -> None:
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.ensure_future(self._tick())

    async def _tick(self) -> None:
        last_host = 0.0
        while self.shows or self.ended:
            await asyncio.sleep(TICK_S)
            now = time.monotonic()
            for sid, (at, _) in list(self.ended.items()):
                if now - at > ENDED_KEPT_S:
                    del self.ended[sid]
            host_due = now - last_host >= HOST_STATS_S
            if host_due:
                last_host = now
            for show in list(self.shows.values()):
                try:
                    self._tick_show(show, now, host_due)
                except Exception:
                    logger.exception("show %s: tick failed", show.id)

    def _tick_show(self, show: Show, now: float, host_due: bool) -> None:
        show.push_counts()
        forgotten, show.forgotten = show.forgotten + show.forget_viewers(), []
        for pseudonym, wid in forgotten:
            if wid is not None:
                self.spawn(show.room.unsubscribe(wid))
            else:
                self.server.analytics.promotions_to(pseudonym, None)
        if host_due and show.host_channels:
            show.broadcast("host", self.host_stats(show, now), viewers=False)
            board = self.server.analytics.board(show.id, show.watching, show.peak)
            if board is not None:
                show.broadcast("board", board, viewers=False)

    def host_stats(self, show: Show, now: float) -> dict[str, Any]:
        host = show.host
        stats: dict[str, Any] = {"live": show.live, "viewers_media": show.room.viewers, "fps": 0.0}
        if host is not None:
            out = host.counters.frames_out
            t0, n0 = self._last_out.get(show.id, (now, out))
            stats["fps"] = round((out - n0) / (now - t0), 1) if now > t0 else 0.0
            self._last_out[show.id] = (now, out)
            stats.update(latency_ms=round(host.counters.latency_ms, 1), frames_out=out)
            stats["look"] = host.look_specs()
        stats["dropped_channels"] = show.dropped_channels
        for extra in self.host_extras:
            stats.update(extra(show))
        failed = getattr(show.room, "failed", None)  # Janus's rooms: set when Janus went away
        stats["sfu"] = "failed" if isinstance(failed, asyncio.Event) and failed.is_set() else "ok"
        return stats

    async def shutdown(self) -> None:
        await asyncio.gather(*(self.finish(s, "stopped with the server") for s in list(self.shows.values())))
        if self._ticker is not None:
            self._ticker.cancel()
        if self._sfu is not None:
            with contextlib.suppress(Exception):
                await self._sfu.close()


def _page(name: str) -> web.StreamResponse:
    path = STATIC / name
    if not path.is_file():
        return json_error(404, f"{name} is not installed")
    return web.FileResponse(path, headers={"Cache-Control": "no-cache"})
