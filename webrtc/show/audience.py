"""The audience's side of a show: push channels, media subscriptions, likes, comments, the
pages' engagement events and recommendations (``docs/show.md``). Viewers are anonymous: the push
channel hands each page a token (``X-Viewer-Token``) that rate-limits what it sends."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiortc import RTCSessionDescription

from tryon.analytics.events import Event, EventRejectedError
from tryon.errors import TryOnError
from webrtc.ice import filter_offer
from webrtc.sfu.base import RoomFullError, SfuError
from webrtc.show.push import encode
from webrtc.show.service import ShowRefusedError
from webrtc.show.state import RateLimitedError, Show, TokenBucket

if TYPE_CHECKING:
    from webrtc.show.service import ShowService

EVENTS_BODY = 16 * 1024


class AudienceService:
    def __init__(self, core: ShowService) -> None:
        self.core = core
        self.analytics = core.server.analytics

    def routes(self, router: web.UrlDispatcher) -> None:
        g = self.core.guarded
        r = router
        r.add_get("/api/shows/{id}/events", g(self.events))
        r.add_post("/api/shows/{id}/watch", g(self.watch))
        r.add_post("/api/shows/{id}/watch/{wid}", g(self.watch_answer))
        r.add_delete("/api/shows/{id}/watch/{wid}", g(self.watch_end))
        r.add_post("/api/shows/{id}/comments", g(self.comment))
        r.add_post("/api/shows/{id}/likes", g(self.like))
        r.add_post("/api/shows/{id}/questions/{qid}/answered", g(self.answered))
        r.add_post("/api/events", g(self.page_events))
        r.add_get("/api/recommendations", g(self.recommendations))
        r.add_delete("/api/analytics/shows/{id}", g(self.forget_show))

    def viewer_of(self, show: Show, request: web.Request) -> Any:
        token = request.headers.get("X-Viewer-Token")
        if not token:
            raise ShowRefusedError(401, "expected X-Viewer-Token (from the show's event stream)", "no_viewer")
        viewer = show.viewer(token)
        if viewer is None:
            raise ShowRefusedError(
                403, "unknown viewer token; reopen the show's event stream", "wrong_viewer"
            )
        return viewer

    async def events(self, request: web.Request) -> web.StreamResponse:
        show = self.core.show(request)
        host = "Authorization" in request.headers
        if host:
            self.core.require_key(request, show.key, "show key")
        try:
            channel, hello = show.open_channel(host)
        except RateLimitedError as exc:
            raise ShowRefusedError(503, str(exc), "viewers", exc.retry_after) from None
        viewer = show.viewer(channel.viewer)
        if viewer is not None:
            token = viewer.token
            self.analytics.promotions_to(viewer.pseudonym, lambda p: show.push_to(token, "promotion", p))
        elif host:
            board = self.analytics.board(show.id, show.watching, show.peak)
            if board is not None:
                channel.push(encode("board", board))
        self.core.metrics.show_viewers.set(sum(s.watching for s in self.core.shows.values()))
        try:
            return await channel.serve(request, hello)
        finally:
            if channel.overflowed:
                self.core.metrics.show_push_dropped.inc()
            show.drop_channel(channel)
            self.core.metrics.show_viewers.set(sum(s.watching for s in self.core.shows.values()))

    async def watch(self, request: web.Request) -> web.StreamResponse:
        show = self.core.show(request)
        viewer = self.viewer_of(show, request)
        await self.core.json_object(request, "watch")
        try:
            viewer.watches.take("watch requests")
            subscription = await show.room.subscribe()
        except RateLimitedError as exc:
            raise ShowRefusedError(429, str(exc), "rate", exc.retry_after) from None
        except RoomFullError as exc:
            raise ShowRefusedError(503, str(exc), "room_full") from None
        except SfuError as exc:
            raise ShowRefusedError(502, f"the SFU could not add a viewer: {exc}", "sfu") from None
        viewer.subscriptions.add(subscription.id)
        offer = subscription.offer
        return web.json_response({"watch": subscription.id, "type": offer.type, "sdp": offer.sdp}, status=201)

    async def watch_answer(self, request: web.Request) -> web.StreamResponse:
        show = self.core.show(request)
        viewer = self.viewer_of(show, request)
        wid = request.match_info["wid"]
        msg = await self.core.json_object(request, "answer", self.core.config.max_offer_bytes)
        if wid not in viewer.subscriptions:
            raise ShowRefusedError(404, "no pending media subscription with this id", "unknown_watch")
        sdp = msg.get("sdp")
        if msg.get("type") != "answer" or not isinstance(sdp, str) or not sdp.strip():
            raise ShowRefusedError(400, 'expected {"type": "answer", "sdp": the answer\'s SDP}', "malformed")
        # The viewer's candidates go to the SFU, which will send to them: the same policy as offers.
        sdp, report = filter_offer(sdp, self.core.config.ice_policy)
        if report.dropped:
            self.core.metrics.ice_candidates_dropped.inc(report.dropped)
        try:
            await show.room.answer(wid, RTCSessionDescription(sdp=sdp, type="answer"))
        except SfuError as exc:
            viewer.subscriptions.discard(wid)
            raise ShowRefusedError(400, f"could not apply the answer: {exc}", "negotiation") from None
        return web.Response(status=204)

    async def watch_end(self, request: web.Request) -> web.StreamResponse:
        show = self.core.show(request)
        viewer = self.viewer_of(show, request)
        wid = request.match_info["wid"]
        if wid in viewer.subscriptions:
            viewer.subscriptions.discard(wid)
            await show.room.unsubscribe(wid)
        return web.Response(status=204)

    async def comment(self, request: web.Request) -> web.StreamResponse:
        show = self.core.show(request)
        viewer = self.viewer_of(show, request)
        msg = await self.core.json_object(request, "comment")

        await self.analytics.ready()

        def understood(text: str) -> dict[str, Any]:
            return self.analytics.comment(show.id, viewer.pseudonym, text, viewer.author, None)

        try:
            entry = show.comment(viewer, msg.get("text"), self.core.config.max_comment_chars, understood)
        except RateLimitedError as exc:
            raise ShowRefusedError(429, str(exc), "rate", exc.retry_after) from None
        except TryOnError as exc:
            status = 413 if "at most" in str(exc) else 400
            raise ShowRefusedError(status, str(exc), "comment") from None
        return web.json_response(entry, status=202)

    async def like(self, request: web.Request) -> web.StreamResponse:
        show = self.core.show(request)
        viewer = self.viewer_of(show, request)
        await self.core.json_object(request, "like")
        try:
            likes = show.like(viewer)
        except RateLimitedError as exc:
            raise ShowRefusedError(429, str(exc), "rate", exc.retry_after) from None
        self.analytics.record(Event(show.id, viewer.pseudonym, "like", time.time()))
        return web.json_response({"likes": likes}, status=202)

    async def answered(self, request: web.Request) -> web.StreamResponse:
        """The host answered a question: off the board's queue (show key)."""
        show = self.core.host_show(request)
        qid = request.match_info["qid"]
        board = self.analytics.boards.get(show.id)
        if not qid.isdigit() or board is None or not board.answer(int(qid)):
            raise ShowRefusedError(404, "no waiting question with this id", "unknown_question")
        return web.Response(status=204)

    def identity(self, request: web.Request) -> tuple[str | None, str, TokenBucket]:
        """Whose events these are: a show's viewer (``X-Viewer-Token``) or a live shopper
        session (``X-TryOn-Session``): ``(show, pseudonym, rate limit)``."""
        token = request.headers.get("X-Viewer-Token")
        if token:
            found = self.core.find_viewer(token)
            if found is None:
                raise ShowRefusedError(
                    403, "unknown viewer token; reopen the show's event stream", "wrong_viewer"
                )
            show, viewer = found
            return show.id, viewer.pseudonym, viewer.events
        sid = request.headers.get("X-TryOn-Session")
        session = self.core.server.sessions.get(sid) if sid else None
        if sid and session is None:
            raise ShowRefusedError(403, "no live session with this id", "wrong_session")
        if session is None:
            raise ShowRefusedError(401, "expected X-Viewer-Token or X-TryOn-Session", "no_viewer")
        return session.show_id, session.pseudonym, session.event_rate

    async def page_events(self, request: web.Request) -> web.StreamResponse:
        """A page's batch of engagement events (``{"events": [...]}``): 202 once stored."""
        show, pseudonym, rate = self.identity(request)
        msg = await self.core.json_object(request, "events", EVENTS_BODY)
        raw = msg.get("events")
        try:
            for _ in range(len(raw) if isinstance(raw, list) else 1):
                rate.take("events")
        except RateLimitedError as exc:
            raise ShowRefusedError(429, str(exc), "rate", exc.retry_after) from None
        try:
            accepted, rejected, stored = await self.analytics.accept(raw, show, pseudonym)
        except EventRejectedError as exc:
            raise ShowRefusedError(400, str(exc), "events") from None
        body = {"accepted": accepted, "rejected": rejected, "stored": stored}
        return web.json_response(body, status=202 if accepted else 400)

    async def forget_show(self, request: web.Request) -> web.StreamResponse:
        """Delete a show's stored events (the server host key): ``{"deleted": n}``."""
        self.core.require_key(request, self.core.config.host_key, "server host key")
        sid = request.match_info["id"]
        if sid in self.core.shows:
            raise ShowRefusedError(409, "the show is live: end it first", "live")
        sink = self.analytics.sink
        store = getattr(sink, "store", None)
        if store is None:
            raise ShowRefusedError(409, "no event store is configured (tryon serve --db)", "no_store")
        try:
            deleted = await store.delete_show(sid)
        except Exception as exc:
            raise ShowRefusedError(
                503, f"the event store is unavailable: {type(exc).__name__}", "store"
            ) from None
        return web.json_response({"deleted": deleted})

    async def recommendations(self, request: web.Request) -> web.StreamResponse:
        """``?product=ID``: also tried with it, and popular now (public: no one's data)."""
        product = request.query.get("product")
        if product is not None and product not in self.core.server.catalog.products:
            raise ShowRefusedError(404, f"no product {product[:64]!r}", "unknown_product")
        return web.json_response(self.analytics.recommendations(product))
