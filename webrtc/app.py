"""The live try-on server: an aiohttp app built by :func:`create_app` (no module globals).

Routes: ``GET /`` (the page), ``GET /static/*``, ``GET /api/config``, ``GET /api/catalog``,
``GET /api/products/{id}/assets/{name}``, ``POST /offer`` (SDP offer in, answer out),
``GET /api/sessions/{id}/snapshot.png``, ``POST /api/photo``, ``GET /metrics``, ``GET /healthz``,
and the live show's (``/studio``, ``/show/{id}``, ``/api/shows/...``: :mod:`webrtc.show.service`).
Every refusal is JSON ``{"error": message}`` with a 4xx or 503 status; the server keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from aiohttp import web
from aiortc import RTCSessionDescription

from tryon.analytics.events import Event
from tryon.catalog import Catalog
from tryon.errors import TryOnError
from tryon.pipeline import RENDERED_KINDS, LookItem, PipelineConfig, TryOnPipeline, resolve_item
from tryon.runtime.allocator import trim_free_memory
from webrtc.access_log import server_log
from webrtc.catalog_api import CatalogApi, pick_language
from webrtc.config import ServerConfig
from webrtc.guard import (
    JSON_TYPES,
    REFUSAL_REASONS,
    BodyError,
    Guard,
    client_body,
    errors_as_json,
    security_headers,
)
from webrtc.metrics import CONTENT_TYPE, Metrics
from webrtc.offer import OfferRefusedError, parse_offer
from webrtc.photo import PhotoService
from webrtc.responses import json_error, png_download
from webrtc.session import Session
from webrtc.show.analytics import Analytics, LookTracker, load_promotions, open_sink, spec_parts
from webrtc.show.audience import AudienceService
from webrtc.show.outputs import OutputsService
from webrtc.show.service import ShowService
from webrtc.show.whip import WhipService
from webrtc.track import FramePipeline
from webrtc.turn import new_session_tag

logger = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
PROMOTION_TICK_S = 2.0
TRIM_DELAY = 0.5
"""Seconds after a session ends before the freed heap is handed back."""
PipelineFactory = Callable[[Sequence[LookItem]], FramePipeline]


class Server:
    """The state of one app: its sessions, catalog, pipeline factory and metrics."""

    def __init__(self, config: ServerConfig, catalog: Catalog, factory: PipelineFactory) -> None:
        self.config = config
        self.catalog = catalog
        self.factory = factory
        self.metrics = Metrics()
        self.sessions: dict[str, Session] = {}
        self.pending = 0
        self.started_at = time.time()
        # Building a pipeline opens model sessions: off the event loop, not on the encoders' pool.
        self.setup_executor = ThreadPoolExecutor(2, thread_name_prefix="tryon-setup")
        self.photos = PhotoService(config, catalog, self.metrics)
        self.catalog_api = CatalogApi(catalog, RENDERED_KINDS)
        self.analytics = Analytics(catalog, self.metrics, rules=load_promotions(config, catalog))
        self.shows = ShowService(self)
        self._promoter: asyncio.Task[None] | None = None

    def resolve(self, spec: str) -> LookItem:
        return resolve_item(self.catalog, spec)

    # -- pages and catalog --------------------------------------------------------------------

    async def index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def page_config(self, request: web.Request) -> web.Response:
        # Fresh, short-lived TURN credentials under a random tag: never cached, never shared.
        return web.json_response(
            self.config.page_config(new_session_tag()), headers={"Cache-Control": "no-store"}
        )

    async def catalog_json(self, request: web.Request) -> web.Response:
        lang = pick_language(request.query.get("lang"), request.headers.get("Accept-Language"))
        if self.catalog_api.swatches_pending:
            # The first request reads the images the swatches come from: off the event loop.
            await asyncio.get_running_loop().run_in_executor(self.setup_executor, self.catalog_api.swatches)
        return web.json_response(self.catalog_api.document(lang), headers={"Vary": "Accept-Language"})

    async def product_asset(self, request: web.Request) -> web.StreamResponse:
        pid, name = request.match_info["id"], request.match_info["name"]
        try:
            product = self.catalog.get(pid)
        except TryOnError as exc:
            return json_error(404, str(exc))
        asset = product.assets.get(name)
        if asset is None:
            return json_error(404, f"product {pid!r} has no asset {name!r}")
        return web.FileResponse(asset.path, headers={"Cache-Control": "max-age=3600"})

    # -- live sessions ------------------------------------------------------------------------

    async def offer(self, request: web.Request) -> web.Response:
        # A shopper's session, or a show viewer's "Try it on me" (counted in that show, and
        # needing no offer token from another machine).
        viewer = self.shows.find_viewer(request.headers.get("X-Viewer-Token"))
        try:
            offer, items = await self._read_offer(request, check_token=viewer is None)
        except OfferRefusedError as r:
            self.metrics.offers_rejected.labels(r.reason).inc()
            return json_error(r.status, r.message)
        show = viewer[0].id if viewer else None
        return await self.start_session(offer, items, lambda s: self._shopper(s, show))

    def _shopper(self, session: Session, show: str | None) -> None:
        session.show_id = show
        session.on_look = LookTracker(self.analytics.record, show, session.pseudonym)
        self.analytics.promotions_to(session.pseudonym, session.send_promotion)

    async def start_session(
        self,
        offer: RTCSessionDescription,
        items: Sequence[LookItem],
        prepare: Callable[[Session], None] | None = None,
    ) -> web.Response:
        """Open a live session for a checked offer (a shopper's, or a show's host with ``prepare``
        called on the new session before negotiation) and answer it; refusals are JSON."""
        if len(self.sessions) + self.pending >= self.config.max_sessions:
            self.metrics.offers_rejected.labels("capacity").inc()
            return json_error(
                503,
                f"the try-on is at capacity ({self.config.max_sessions} live sessions); try again shortly",
            )
        self.pending += 1
        session: Session | None = None
        try:
            loop = asyncio.get_running_loop()
            pipeline = await loop.run_in_executor(self.setup_executor, self.factory, items)
            sid = secrets.token_urlsafe(16)
            session = Session(sid, self.config, pipeline, self.resolve, self.metrics, self._closed)
            if prepare is not None:
                prepare(session)
            answer = await session.accept(offer)
        except Exception as exc:
            if session is not None:
                await session.close("negotiation failed")
            if isinstance(exc, TryOnError | ValueError):
                # The peer's SDP or its look could not be negotiated: the client's fault, a 400.
                self.metrics.offers_rejected.labels("negotiation").inc()
                return json_error(400, f"could not negotiate the offer: {exc}"[:400])
            self.metrics.offers_rejected.labels("internal").inc()
            logger.exception("offer failed")
            return json_error(500, f"could not start the session: {type(exc).__name__}")
        finally:
            self.pending -= 1
        self.sessions[session.id] = session
        self.metrics.sessions.inc()
        self.metrics.sessions_total.inc()
        server_log.info("session %s started (%d live)", session.id[:6], len(self.sessions))
        return web.json_response({"sdp": answer.sdp, "type": answer.type, "session": session.id})

    async def _read_offer(
        self, request: web.Request, check_token: bool = True
    ) -> tuple[RTCSessionDescription, list[LookItem]]:
        config = self.config
        try:
            body = await client_body(
                request, config, JSON_TYPES, config.max_offer_bytes, "offer", check_token=check_token
            )
        except BodyError as exc:
            reason = REFUSAL_REASONS.get(exc.status, "malformed")
            raise OfferRefusedError(reason, exc.message, exc.status) from None
        return parse_offer(body, self.resolve, config.max_look)

    def _closed(self, session: Session) -> None:
        self.analytics.promotions_to(session.pseudonym, None)
        if self.sessions.pop(session.id, None) is not None:
            self.metrics.sessions.dec()
        # Once the session's pipeline is gone (its last references drop as close() returns),
        # hand the freed heap back: otherwise RSS stays at the peak of every session so far.
        asyncio.get_running_loop().call_later(TRIM_DELAY, self._trim)

    def _trim(self) -> None:
        with contextlib.suppress(RuntimeError):  # the executor is already shut down
            asyncio.get_running_loop().run_in_executor(self.setup_executor, trim_free_memory)

    async def snapshot(self, request: web.Request) -> web.StreamResponse:
        session = self.sessions.get(request.match_info["sid"])
        if session is None:
            return json_error(404, "no live session with this id")
        pair = request.query.get("pair", "0") in ("1", "true", "yes")
        pts = None
        rtp = request.query.get("rtp")
        if rtp is not None:
            if not rtp.isdigit() or int(rtp) >= 1 << 32:
                return json_error(
                    400, f"rtp: expected the shown frame's RTP timestamp (0..2^32-1), got {rtp!r}"
                )
            if session.track is not None:
                pts = session.track.pts_of_rtp(int(rtp))
        try:
            image, exact = session.processor.snapshot(pair, pts)
            for spec in session.look_specs():
                product, shade = spec_parts(spec)
                self.analytics.record(
                    Event(session.show_id, session.pseudonym, "snapshot", time.time(), product, shade)
                )
        except TryOnError as exc:
            return json_error(409, str(exc))
        response = await png_download(image, self.setup_executor, "tryon-pair" if pair else "tryon")
        # "shown": the frame the page showed (by its RTP timestamp); "latest": the last one sent.
        response.headers["X-TryOn-Frame"] = "shown" if exact else "latest"
        return response

    # -- health -------------------------------------------------------------------------------

    async def metrics_text(self, request: web.Request) -> web.Response:
        return web.Response(body=self.metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "status": "ok",
                "sessions": len(self.sessions),
                "max_sessions": self.config.max_sessions,
                "uptime_s": round(time.time() - self.started_at, 1),
                "products": len(self.catalog.products),
            }
        )

    async def startup(self, app: web.Application) -> None:
        if self.config.db:
            self.analytics.sink = await open_sink(self.config.db, self.config.retention_days)
        if self.analytics.promotions.rules:
            self._promoter = asyncio.ensure_future(self._promote())

    async def _promote(self) -> None:
        """Send the promotions that fall due, every 2 s, to shoppers and viewers alike."""
        while True:
            await asyncio.sleep(PROMOTION_TICK_S)
            try:
                self.analytics.tick()
            except Exception:
                logger.exception("promotions failed")

    async def shutdown(self, app: web.Application) -> None:
        if self._promoter is not None:
            self._promoter.cancel()
        await self.shows.shutdown()
        await self.analytics.close()
        await asyncio.gather(*(s.close("server shutting down") for s in list(self.sessions.values())))
        self.setup_executor.shutdown(wait=False, cancel_futures=True)
        self.photos.shutdown()


SERVER_KEY = web.AppKey("server", Server)


def default_factory(catalog: Catalog, config: ServerConfig) -> PipelineFactory:
    def make(items: Sequence[LookItem]) -> FramePipeline:
        return TryOnPipeline(items, catalog=catalog, config=PipelineConfig(runtime=config.runtime))

    return make


def create_app(
    config: ServerConfig | None = None,
    *,
    catalog: Catalog | None = None,
    pipeline_factory: PipelineFactory | None = None,
) -> web.Application:
    """The server as an aiohttp application; run it with ``web.run_app`` or ``tryon serve``."""
    config = config or ServerConfig()
    catalog = catalog if catalog is not None else Catalog.load()
    server = Server(config, catalog, pipeline_factory or default_factory(catalog, config))
    guard = Guard(config, lambda reason: server.metrics.offers_rejected.labels(reason).inc())
    app = web.Application(
        middlewares=[errors_as_json, guard.middleware], client_max_size=config.max_photo_bytes + 1024
    )
    app.on_response_prepare.append(security_headers)
    app[SERVER_KEY] = server
    r = app.router
    r.add_get("/", server.index)
    r.add_static("/static/", STATIC, show_index=False)
    r.add_get("/api/config", server.page_config)
    r.add_get("/api/catalog", server.catalog_json)
    r.add_get("/api/products/{id}/assets/{name}", server.product_asset)
    r.add_post("/offer", server.offer)
    r.add_get("/api/sessions/{sid}/snapshot.png", server.snapshot)
    r.add_post("/api/photo", server.photos.handle)
    r.add_get("/metrics", server.metrics_text)
    r.add_get("/healthz", server.healthz)
    server.shows.routes(r)
    WhipService(server.shows).routes(r)
    AudienceService(server.shows).routes(r)
    OutputsService(server.shows).routes(r)
    app.on_startup.append(server.startup)
    app.on_shutdown.append(server.shutdown)
    return app
