"""The Janus SFU back end: Janus's VideoRoom plugin over its HTTP API.

A room is a VideoRoom room with one publisher: the tryon server's own peer connection, which sends
the show's track once. Each viewer gets a subscriber handle of its own; Janus makes the offer, the
viewer answers, and the media between viewers and Janus costs the tryon server nothing. The HTTP
exchange (one Janus session per :class:`JanusSfu`, kept alive by a long poll that also brings the
answers to asynchronous requests) is :class:`~webrtc.sfu.janus_api.JanusSession`'s.

Every failure is an :class:`SfuError` with a message, after at most ``request_timeout`` seconds.
When the long poll fails (Janus died or forgot the session) every room's :attr:`JanusRoom.failed`
event is set, the failure is logged once, and later calls raise :class:`SfuError` at once.
"""

from __future__ import annotations

import asyncio
import logging
import secrets

from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from webrtc.ice import IcePolicy, use_policy
from webrtc.sfu.base import RoomFullError, SfuError, Subscription
from webrtc.sfu.janus_api import JanusSession, Json, plugin_data

logger = logging.getLogger(__name__)

VIDEOROOM = "janus.plugin.videoroom"
CODECS = frozenset({"vp8", "vp9", "h264", "av1", "h265"})
ROOM_EXISTS = 427


class JanusSfu:
    """:class:`~webrtc.sfu.base.Sfu` on a Janus server's HTTP API at ``url`` (``http://host:8088/janus``).

    ``policy``: the ICE policy the publisher's peer connection gathers under (loopback: 127.0.0.1
    only). ``codec``: the rooms' video codec. ``max_viewers``: subscriptions per room.
    ``request_timeout``: the longest any one request to Janus may take, in seconds.
    """

    name = "janus"

    def __init__(
        self,
        url: str,
        *,
        policy: IcePolicy | None = None,
        codec: str = "vp8",
        max_viewers: int = 500,
        request_timeout: float = 10.0,
    ) -> None:
        if codec not in CODECS:
            raise SfuError(f"janus: codec: expected one of {sorted(CODECS)}, got {codec!r}")
        if max_viewers < 1:
            raise SfuError(f"janus: max_viewers: expected at least 1, got {max_viewers}")
        if not request_timeout > 0:
            raise SfuError(f"janus: request_timeout: expected seconds > 0, got {request_timeout}")
        self.url = url.rstrip("/")
        self.policy = policy
        self.codec = codec
        self.max_viewers = max_viewers
        self.request_timeout = request_timeout
        self.api = JanusSession(self.url, request_timeout, self._on_event, self._on_failure)
        self._control: int | None = None  # the handle for the VideoRoom's create/destroy/exists
        self._rooms: set[JanusRoom] = set()
        self._lock = asyncio.Lock()
        self._closing = False

    @property
    def failed(self) -> str | None:
        """Why the Janus session failed (its long poll broke), or None."""
        return self.api.failure

    async def open_room(self, show_id: str) -> JanusRoom:
        """A new VideoRoom room (random numeric id, one publisher, no recording) for ``show_id``."""
        control = await self._start()
        for _ in range(5):
            room_id = secrets.randbelow(2**52 - 1) + 1  # an integer JavaScript reads exactly
            body = {
                "request": "create",
                "room": room_id,
                "description": f"tryon show {show_id}"[:120],
                "publishers": 1,
                "videocodec": self.codec,
                "audiocodec": "opus",
                "record": False,
                "is_private": True,
                "permanent": False,
            }
            try:
                await self.api.message(control, body)
            except SfuError as exc:
                if f"(code {ROOM_EXISTS})" in str(exc):  # drawn before: draw again
                    continue
                raise
            room = JanusRoom(self, room_id, show_id)
            self._rooms.add(room)
            logger.info("janus: room %d opened for show %s", room_id, show_id)
            return room
        raise SfuError(f"janus at {self.url}: no free room id in 5 draws")

    async def check(self) -> str:
        """``"janus 1.1.2 at <url>, videoroom plugin present"``, or :class:`SfuError`."""
        info = await self.api.info()
        if info.get("janus") != "server_info":
            raise SfuError(f"janus at {self.url}: /info did not answer server_info: {str(info)[:200]}")
        plugins = info.get("plugins")
        if not isinstance(plugins, dict) or VIDEOROOM not in plugins:
            raise SfuError(f"janus at {self.url}: the videoroom plugin ({VIDEOROOM}) is not loaded")
        if self.api.failure is not None:
            raise SfuError(
                f"janus at {self.url} answers, but this server's session failed: {self.api.failure}"
            )
        return f"janus {info.get('version_string', '?')} at {self.url}, videoroom plugin present"

    async def exists(self, room_id: int) -> bool:
        """Whether Janus has the room ``room_id`` (the VideoRoom's ``exists`` request)."""
        control = await self._start()
        reply = await self.api.message(control, {"request": "exists", "room": room_id})
        return bool(plugin_data(reply).get("exists"))

    async def close(self) -> None:
        """Close every room, stop the long poll, destroy the Janus session (idempotent)."""
        if self._closing:
            return
        self._closing = True
        for room in list(self._rooms):
            await room.close()
        await self.api.close()
        logger.info("janus: closed (%s)", self.url)

    async def _start(self) -> int:
        """The session (created on first use) and its control handle."""
        async with self._lock:
            self.api.alive()
            if self._closing:
                raise SfuError(f"janus at {self.url}: closed")
            await self.api.start()
            if self._control is None:
                self._control = await self.api.attach(VIDEOROOM)
            return self._control

    async def destroy_room(self, room: JanusRoom) -> None:
        self._rooms.discard(room)
        if self._control is not None and self.api.usable:
            try:
                await self.api.message(self._control, {"request": "destroy", "room": room.room_id})
            except SfuError as exc:
                logger.warning("janus room %d: destroying it: %s", room.room_id, exc)

    def _on_event(self, event: Json) -> None:
        for room in self._rooms:
            room.on_event(event)

    def _on_failure(self, reason: str) -> None:
        logger.error("janus at %s failed: %s; %d rooms lost their media", self.url, reason, len(self._rooms))
        for room in self._rooms:
            room.failed.set()


class JanusRoom:
    """:class:`~webrtc.sfu.base.Room` as a VideoRoom room: one publisher, a handle per viewer."""

    def __init__(self, sfu: JanusSfu, room_id: int, show_id: str) -> None:
        self.sfu = sfu
        self.room_id = room_id
        self.show_id = show_id
        self.failed = asyncio.Event()
        """Set when the Janus session failed: the room's media stopped; later calls raise SfuError."""
        self._publisher: RTCPeerConnection | None = None
        self._publisher_handle: int | None = None
        self._feed: int | None = None
        self._subs: dict[str, int | None] = {}  # subscription id -> handle (None while attaching)
        self._closed = False
        self._publish_lock = asyncio.Lock()
        self._publisher_up = asyncio.Event()  # Janus's webrtcup for the publisher's handle

    @property
    def viewers(self) -> int:
        return len(self._subs)

    @property
    def closed(self) -> bool:
        return self._closed

    def _alive(self) -> None:
        self.sfu.api.alive()
        if self._closed:
            raise SfuError(f"janus room {self.room_id} (show {self.show_id}): closed")

    def on_event(self, event: Json) -> None:
        """An event from the long poll not answering a request (hangup, media, slowlink, ...)."""
        kind, sender = event.get("janus"), event.get("sender")
        if sender is None or not (sender == self._publisher_handle or sender in self._subs.values()):
            return
        who = "publisher" if sender == self._publisher_handle else "viewer"
        if kind == "webrtcup" and who == "publisher":
            self._publisher_up.set()
        elif kind == "hangup":
            log = logger.warning if who == "publisher" else logger.info
            log("janus room %d: %s hung up (%s)", self.room_id, who, event.get("reason", "?"))
        else:
            logger.debug("janus room %d: %s event %s", self.room_id, who, kind)

    async def publish(self, track: MediaStreamTrack, audio: MediaStreamTrack | None = None) -> None:
        """Send ``track`` (and ``audio``) into the room from a peer connection of this server's
        (a second call replaces the tracks on the same connection: the viewers keep their
        subscriptions)."""
        async with self._publish_lock:
            self._alive()
            if self._publisher is not None:
                for sender in self._publisher.getSenders():
                    if sender.kind == "video":
                        sender.replaceTrack(track)
                    elif audio is not None:
                        sender.replaceTrack(audio)
                logger.info("janus room %d: the published track replaced", self.room_id)
                return
            sfu = self.sfu
            handle = await sfu.api.attach(VIDEOROOM)
            self._publisher_handle = handle
            pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            self._publisher = pc
            try:
                joined = plugin_data(
                    await sfu.api.message(
                        handle,
                        {"request": "join", "ptype": "publisher", "room": self.room_id, "display": "tryon"},
                    )
                )
                feed = joined.get("id")
                if not isinstance(feed, int):
                    raise SfuError(f"janus room {self.room_id}: the publisher's join brought no id: {joined}")
                pc.addTransceiver(track, direction="sendonly")
                if audio is not None:
                    pc.addTransceiver(audio, direction="sendonly")
                offer = await self._gather(pc)
                configured = await sfu.api.message(
                    handle,
                    {"request": "configure", "audio": audio is not None, "video": True},
                    {"type": offer.type, "sdp": offer.sdp},
                )
                jsep = configured.get("jsep") or {}
                if jsep.get("type") != "answer" or not isinstance(jsep.get("sdp"), str):
                    raise SfuError(f"janus room {self.room_id}: configure brought no answer")
                await asyncio.wait_for(
                    pc.setRemoteDescription(RTCSessionDescription(jsep["sdp"], "answer")), sfu.request_timeout
                )
                # Janus offers a feed to subscribers only once its publisher's media is up (428 before).
                await asyncio.wait_for(self._publisher_up.wait(), sfu.request_timeout)
            except TimeoutError:
                await self._drop_publisher()
                raise SfuError(
                    f"janus room {self.room_id}: publishing took over {sfu.request_timeout:g} s "
                    "(no ICE/DTLS connection to Janus: its media ports unreachable?)"
                ) from None
            except SfuError:
                await self._drop_publisher()
                raise
            except Exception as exc:  # aiortc's own errors (a bad answer): still an SfuError
                await self._drop_publisher()
                raise SfuError(f"janus room {self.room_id}: publishing failed: {exc}") from exc
            self._feed = feed
            logger.info("janus room %d: publishing (feed %d)", self.room_id, self._feed)

    async def _gather(self, pc: RTCPeerConnection) -> RTCSessionDescription:
        """The offer with its candidates, gathered under the server's ICE policy."""
        timeout = self.sfu.request_timeout
        offer = await asyncio.wait_for(pc.createOffer(), timeout)
        if self.sfu.policy is not None:
            with use_policy(self.sfu.policy):
                await asyncio.wait_for(pc.setLocalDescription(offer), timeout)
        else:
            await asyncio.wait_for(pc.setLocalDescription(offer), timeout)
        local: RTCSessionDescription = pc.localDescription
        return local

    async def _drop_publisher(self) -> None:
        pc, handle = self._publisher, self._publisher_handle
        self._publisher = self._publisher_handle = self._feed = None
        self._publisher_up.clear()
        if pc is not None:
            await pc.close()
        if handle is not None and self.sfu.api.usable:
            try:
                await self.sfu.api.detach(handle)
            except SfuError as exc:
                logger.info("janus room %d: detaching the publisher: %s", self.room_id, exc)

    async def subscribe(self) -> Subscription:
        self._alive()
        if self._feed is None:
            raise SfuError(f"janus room {self.room_id} (show {self.show_id}): nothing published yet")
        if len(self._subs) >= self.sfu.max_viewers:
            raise RoomFullError(
                f"janus room {self.room_id} (show {self.show_id}): {self.sfu.max_viewers} viewers already "
                "(JanusSfu max_viewers)"
            )
        sub_id = secrets.token_urlsafe(12)
        self._subs[sub_id] = None  # holds the place while attaching
        handle: int | None = None
        try:
            handle = await self.sfu.api.attach(VIDEOROOM)
            if sub_id not in self._subs:  # unsubscribed (or closed) meanwhile
                raise SfuError(f"janus room {self.room_id}: subscription ended while being made")
            self._subs[sub_id] = handle
            reply = await self.sfu.api.message(
                handle,
                {
                    "request": "join",
                    "ptype": "subscriber",
                    "room": self.room_id,
                    "streams": [{"feed": self._feed}],
                },
            )
            jsep = reply.get("jsep") or {}
            if jsep.get("type") != "offer" or not isinstance(jsep.get("sdp"), str):
                raise SfuError(f"janus room {self.room_id}: the subscriber join brought no offer")
        except BaseException:
            self._subs.pop(sub_id, None)
            if handle is not None:
                await self._detach_quietly(handle)
            raise
        return Subscription(sub_id, RTCSessionDescription(jsep["sdp"], "offer"))

    async def answer(self, subscription_id: str, answer: RTCSessionDescription) -> None:
        self._alive()
        handle = self._subs.get(subscription_id)
        if handle is None:
            raise SfuError(f"janus room {self.room_id}: no pending subscription {subscription_id!r}")
        if answer.type != "answer":
            raise SfuError(f"janus room {self.room_id}: expected an answer, got {answer.type!r}")
        await self.sfu.api.message(handle, {"request": "start"}, {"type": "answer", "sdp": answer.sdp})

    async def unsubscribe(self, subscription_id: str) -> None:
        """End one viewer's media (idempotent; unknown ids are ignored; never raises)."""
        if subscription_id not in self._subs:
            return
        handle = self._subs.pop(subscription_id)
        if handle is not None:
            await self._detach_quietly(handle)

    async def _detach_quietly(self, handle: int) -> None:
        if not self.sfu.api.usable:
            return
        try:
            await self.sfu.api.detach(handle)
        except SfuError as exc:
            logger.info("janus room %d: detaching handle %d: %s", self.room_id, handle, exc)

    async def close(self) -> None:
        """Unsubscribe everyone, close the publisher, destroy the room (idempotent; never raises)."""
        if self._closed:
            return
        self._closed = True
        for sub_id in list(self._subs):
            await self.unsubscribe(sub_id)
        await self._drop_publisher()
        await self.sfu.destroy_room(self)
        logger.info("janus room %d closed (show %s)", self.room_id, self.show_id)
