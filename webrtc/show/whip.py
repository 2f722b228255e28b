"""WHIP ingest and WHEP egress (RFC 9725 and the WHEP draft): OBS and any standard player.

- ``POST /whip`` (``application/sdp``, ``Authorization: Bearer <key>``) → ``201`` with the answer,
  ``Location: /whip/<session>`` and ``Link`` headers for the configured ICE servers. A show's key
  feeds that show; the server host key feeds the newest live show, or a new one (its id comes back
  in ``X-TryOn-Show``, a new one's key in ``X-TryOn-Show-Key``). The session is the shoppers' and
  hosts' session code, ingest-only (nothing is sent back). ``?products=ID[:variant],...`` sets
  the first look; the studio or ``PUT /api/shows/<id>/look`` changes it. ``DELETE
  /whip/<session>`` (same key) ends it.
- ``POST /whep/<show>`` (``application/sdp``, no account) → ``201`` with the answer and
  ``Location: /whep/<show>/<id>``; ``DELETE`` ends it. WHEP players send the offer; Janus 1.1's
  VideoRoom only makes offers to subscribers, so WHEP players are served by the embedded relay
  (and its viewer cap) whatever the show's SFU; the show's own viewer pages go through the SFU.

Trickle ICE and ICE restarts are not supported: ``PATCH`` gets 405 (as the RFC allows).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiohttp import web
from aiortc import RTCSessionDescription

from tryon.errors import TryOnError
from webrtc.guard import BodyError, bearer_token, check_content_type, read_body, token_matches
from webrtc.ice import filter_offer
from webrtc.offer import OfferRefusedError, check_offer_sdp
from webrtc.sfu.base import RoomFullError, SfuError
from webrtc.sfu.relay import RelayRoom
from webrtc.show.service import ShowRefusedError
from webrtc.turn import new_session_tag

if TYPE_CHECKING:
    from webrtc.session import Session
    from webrtc.show.service import ShowService
    from webrtc.show.state import Show

logger = logging.getLogger(__name__)

SDP_TYPES = ("application/sdp",)
INGEST_DIRECTIONS = ("sendonly", "sendrecv")


class WhipService:
    def __init__(self, shows: ShowService) -> None:
        self.shows = shows
        self.server = shows.server
        self.config = shows.config
        self.publishers: dict[str, tuple[str, str]] = {}
        """WHIP session id → (show id, the key that opened it)."""

    def routes(self, router: web.UrlDispatcher) -> None:
        g = self.shows.guarded
        router.add_post("/whip", g(self.whip))
        router.add_delete("/whip/{sid}", g(self.whip_end))
        router.add_patch("/whip/{sid}", g(self.no_trickle))
        router.add_post("/whep/{id}", g(self.whep))
        router.add_delete("/whep/{id}/{wid}", g(self.whep_end))
        router.add_patch("/whep/{id}/{wid}", g(self.no_trickle))

    async def no_trickle(self, request: web.Request) -> web.StreamResponse:
        raise ShowRefusedError(
            405, "trickle ICE and ICE restarts are not supported: send a new offer", "trickle"
        )

    async def sdp_body(self, request: web.Request, what: str) -> str:
        check_content_type(request, SDP_TYPES, what)
        c = self.config
        body = await read_body(request, c.max_offer_bytes, c.body_timeout, c.body_deadline, what)
        try:
            return body.decode()
        except UnicodeDecodeError:
            raise BodyError(400, f"{what}: expected SDP text, got bytes that are not UTF-8") from None

    def ice_links(self) -> list[str]:
        """``Link`` headers for the ICE servers (RFC 9725 §4.6), TURN credentials fresh per call."""
        links = []
        for server in self.config.page_config(new_session_tag())["ice_servers"]:
            for url in server["urls"]:
                link = f'<{url}>; rel="ice-server"'
                if "username" in server:
                    link += f'; username="{server["username"]}"; credential="{server["credential"]}"'
                    link += '; credential-type="password"'
                links.append(link)
        return links

    # -- WHIP ----------------------------------------------------------------------------------

    def show_for_key(self, key: str | None) -> tuple[Show | None, bool]:
        """The show a WHIP key feeds: ``(show, False)`` for a show's key, ``(newest or None, True)``
        for the server host key. 401 otherwise (RFC 9725: no valid token is 401)."""
        if key is None:
            raise ShowRefusedError(
                401, "expected Authorization: Bearer <show key or server host key>", "no_key"
            )
        for show in self.shows.shows.values():
            if token_matches(key, show.key):
                return show, False
        host_key = self.config.host_key
        if host_key is not None and token_matches(key, host_key):
            live = sorted(self.shows.shows.values(), key=lambda s: s.created_at)
            return (live[-1] if live else None), True
        raise ShowRefusedError(
            401, "the key is neither a live show's key nor the server host key", "wrong_key"
        )

    async def whip(self, request: web.Request) -> web.StreamResponse:
        key = bearer_token(request)
        show, server_key = self.show_for_key(key)
        sdp = await self.sdp_body(request, "WHIP offer")
        try:
            check_offer_sdp(sdp, INGEST_DIRECTIONS)
            items = [self.server.resolve(p) for p in _products(request.query.get("products", ""))]
        except OfferRefusedError as r:
            raise ShowRefusedError(r.status, r.message, r.reason) from None
        except TryOnError as exc:
            raise ShowRefusedError(400, f"products: {exc}", "product") from None
        if len(items) > self.config.max_look:
            raise ShowRefusedError(400, f"products: expected at most {self.config.max_look}", "malformed")
        created = show is None
        if show is None:
            show = await self.shows.new_show("WHIP")
        attached: list[Session] = []

        def prepare(session: Session) -> None:
            session.ingest = True
            self.shows.attach_host(show, session)
            attached.append(session)

        offer = RTCSessionDescription(sdp=sdp, type="offer")
        response = await self.server.start_session(offer, items, prepare)
        if response.status != 200 or not attached:
            return response
        session = attached[0]
        assert session.pc.localDescription is not None
        self.publishers[session.id] = (show.id, key or "")
        self.shows.spawn(self._forget(session))
        headers = {
            "Location": f"/whip/{session.id}",
            "Content-Type": "application/sdp",
            "ETag": f'"{session.id}"',
        }
        if server_key:
            headers["X-TryOn-Show"] = show.id
        if created:
            # Made for this publisher (who holds the server key): its own key, to run the show
            # (now showing, outputs, the end) from a tool or the studio ("resume").
            headers["X-TryOn-Show-Key"] = show.key
        answer = web.Response(status=201, text=session.pc.localDescription.sdp, headers=headers)
        answer.content_type = "application/sdp"
        for link in self.ice_links():
            answer.headers.add("Link", link)
        logger.info("WHIP session %s feeds show %s", session.id[:6], show.id)
        return answer

    async def _forget(self, session: Session) -> None:
        await session.closed.wait()
        self.publishers.pop(session.id, None)

    async def whip_end(self, request: web.Request) -> web.StreamResponse:
        sid = request.match_info["sid"]
        entry = self.publishers.get(sid)
        key = bearer_token(request)
        if key is None:
            raise ShowRefusedError(401, "expected Authorization: Bearer <the key that opened it>", "no_key")
        if entry is None:
            raise ShowRefusedError(404, "no WHIP session with this id", "unknown_session")
        if not token_matches(key, entry[1]):
            raise ShowRefusedError(401, "not the key that opened this WHIP session", "wrong_key")
        session = self.server.sessions.get(sid)
        if session is not None:
            await session.close("ended by the WHIP client")
        self.publishers.pop(sid, None)
        return web.Response(status=200)

    # -- WHEP ----------------------------------------------------------------------------------

    async def relay_room(self, show: Show) -> RelayRoom:
        """The show's room if it is the embedded relay; else a relay room of its own for WHEP."""
        if isinstance(show.room, RelayRoom):
            return show.room
        if show.whep_room is None:
            c = self.config
            room = RelayRoom(
                show.id[:8] + "-whep",
                c.relay_viewers,
                c.ice_policy,
                lambda: c.rtc_configuration(),
                c.connect_timeout,
            )
            await room.publish(show.output(), show.audio_output())
            show.whep_room = room
        return show.whep_room

    async def whep(self, request: web.Request) -> web.StreamResponse:
        show = self.shows.show(request)
        sdp = await self.sdp_body(request, "WHEP offer")
        sdp, report = filter_offer(sdp, self.config.ice_policy)
        if report.dropped:
            self.shows.metrics.ice_candidates_dropped.inc(report.dropped)
        room = await self.relay_room(show)
        try:
            wid, answer = await room.answer_offer(RTCSessionDescription(sdp=sdp, type="offer"))
        except RoomFullError as exc:
            raise ShowRefusedError(503, str(exc), "room_full") from None
        except SfuError as exc:
            raise ShowRefusedError(400, f"could not answer the offer: {exc}", "negotiation") from None
        headers = {"Location": f"/whep/{show.id}/{wid}", "ETag": f'"{wid}"'}
        response = web.Response(status=201, text=answer.sdp, headers=headers)
        response.content_type = "application/sdp"
        for link in self.ice_links():
            response.headers.add("Link", link)
        return response

    async def whep_end(self, request: web.Request) -> web.StreamResponse:
        show = self.shows.show(request)
        wid = request.match_info["wid"]
        room = show.room if isinstance(show.room, RelayRoom) else show.whep_room
        if room is None or not room.has(wid):
            raise ShowRefusedError(404, "no WHEP session with this id", "unknown_watch")
        await room.unsubscribe(wid)
        return web.Response(status=200)


def _products(text: str) -> list[str]:
    return [p for p in (part.strip() for part in text.split(",")) if p]
