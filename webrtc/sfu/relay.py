"""The embedded SFU: the tryon server forwards a show's track to each viewer itself.

It needs nothing installed (``make run`` works as is), but every viewer costs the server an
encode, so a room takes at most a few viewers (``ServerConfig.relay_viewers``); the next one is
refused with a message that says how to configure Janus. The viewer's peer connection is the
server's: the server offers (send-only video), the viewer answers without trickle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable

from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay

from webrtc.ice import IcePolicy, filter_offer, use_policy
from webrtc.sfu.base import RoomFullError, SfuError, Subscription
from webrtc.show.track import BoundedTrack

logger = logging.getLogger(__name__)

JANUS_HINT = "tryon serve --sfu janus:http://127.0.0.1:8088/janus (make janus starts one for development)"


class RelayRoom:
    """One show's viewers on the embedded relay (see the module's doc)."""

    def __init__(
        self,
        label: str,
        max_viewers: int,
        policy: IcePolicy,
        rtc_configuration: Callable[[], RTCConfiguration],
        connect_timeout: float,
    ) -> None:
        self.label = label
        self.max_viewers = max_viewers
        self._policy = policy
        self._rtc_configuration = rtc_configuration
        self._connect_timeout = connect_timeout
        self._relay = MediaRelay()
        self._track: MediaStreamTrack | None = None
        self._audio: MediaStreamTrack | None = None
        self._peers: dict[str, RTCPeerConnection] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._closed = False

    @property
    def viewers(self) -> int:
        return len(self._peers)

    @property
    def closed(self) -> bool:
        return self._closed

    async def publish(self, track: MediaStreamTrack, audio: MediaStreamTrack | None = None) -> None:
        if self._closed:
            raise SfuError(f"room {self.label}: closed")
        self._track = track
        self._audio = audio

    async def subscribe(self) -> Subscription:
        track = self._admit()
        sid = secrets.token_urlsafe(12)
        pc = self._new_peer(sid)
        pc.addTransceiver(self._relay.subscribe(track, buffered=False), direction="sendonly")
        if self._audio is not None:
            pc.addTransceiver(BoundedTrack(self._relay.subscribe(self._audio)), direction="sendonly")
        try:
            with use_policy(self._policy):
                await pc.setLocalDescription(await pc.createOffer())
        except Exception as exc:
            await self.unsubscribe(sid)
            raise SfuError(f"room {self.label}: could not make an offer: {exc}") from None
        self._arm_timer(sid)
        return Subscription(sid, pc.localDescription)

    def has(self, subscription_id: str) -> bool:
        return subscription_id in self._peers

    async def answer_offer(self, offer: RTCSessionDescription) -> tuple[str, RTCSessionDescription]:
        """A viewer that offers (a WHEP player): its id and the answer (candidates gathered)."""
        video = self._admit()
        sid = secrets.token_urlsafe(12)
        pc = self._new_peer(sid)
        try:
            with use_policy(self._policy):
                await pc.setRemoteDescription(offer)
                for transceiver in pc.getTransceivers():
                    source = video if transceiver.kind == "video" else self._audio
                    if source is not None and transceiver.direction in ("recvonly", "sendrecv", "sendonly"):
                        transceiver.sender.replaceTrack(
                            self._relay.subscribe(source, buffered=source is self._audio)
                        )
                        transceiver.direction = "sendonly"
                await pc.setLocalDescription(await pc.createAnswer())
        except Exception as exc:
            await self.unsubscribe(sid)
            raise SfuError(f"{type(exc).__name__}: {exc}"[:300]) from None
        self._arm_timer(sid)
        return sid, pc.localDescription

    async def answer(self, subscription_id: str, answer: RTCSessionDescription) -> None:
        pc = self._peers.get(subscription_id)
        if pc is None:
            raise SfuError(f"room {self.label}: no pending subscription {subscription_id!r}")
        if pc.signalingState != "have-local-offer":
            raise SfuError(f"room {self.label}: subscription {subscription_id!r} is already answered")
        sdp, _ = filter_offer(answer.sdp, self._policy)
        try:
            with use_policy(self._policy):
                await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        except Exception as exc:
            await self.unsubscribe(subscription_id)
            raise SfuError(f"could not apply the answer: {type(exc).__name__}: {exc}"[:300]) from None

    def _admit(self) -> MediaStreamTrack:
        """The published track, if the room can take one more viewer; else raise."""
        if self._closed or self._track is None:
            raise SfuError(f"room {self.label}: nothing is published")
        if len(self._peers) >= self.max_viewers:
            raise RoomFullError(
                f"the show is full: the embedded relay takes {self.max_viewers} viewers; "
                f"for more, configure Janus: {JANUS_HINT}"
            )
        return self._track

    def _new_peer(self, sid: str) -> RTCPeerConnection:
        pc = RTCPeerConnection(self._rtc_configuration())
        self._peers[sid] = pc

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState == "connected":
                timer = self._timers.pop(sid, None)
                if timer is not None:
                    timer.cancel()
            elif pc.connectionState in ("failed", "closed"):
                await self.unsubscribe(sid)

        return pc

    def _arm_timer(self, sid: str) -> None:
        """Drop the viewer if it is not connected within the connect timeout."""
        loop = asyncio.get_running_loop()
        self._timers[sid] = loop.call_later(
            self._connect_timeout, lambda: asyncio.ensure_future(self.unsubscribe(sid))
        )

    async def unsubscribe(self, subscription_id: str) -> None:
        pc = self._peers.pop(subscription_id, None)
        timer = self._timers.pop(subscription_id, None)
        if timer is not None:
            timer.cancel()
        if pc is not None:
            with contextlib.suppress(Exception):
                await pc.close()

    async def close(self) -> None:
        self._closed = True
        await asyncio.gather(*(self.unsubscribe(sid) for sid in list(self._peers)))
        self._track = None


class RelaySfu:
    """The embedded relay as an :class:`~webrtc.sfu.base.Sfu`."""

    name = "relay"

    def __init__(
        self,
        max_viewers: int,
        policy: IcePolicy,
        rtc_configuration: Callable[[], RTCConfiguration],
        connect_timeout: float = 20.0,
    ) -> None:
        self.max_viewers = max_viewers
        self._policy = policy
        self._rtc_configuration = rtc_configuration
        self._connect_timeout = connect_timeout
        self._rooms: list[RelayRoom] = []

    async def open_room(self, show_id: str) -> RelayRoom:
        room = RelayRoom(
            show_id[:8], self.max_viewers, self._policy, self._rtc_configuration, self._connect_timeout
        )
        self._rooms = [r for r in self._rooms if not r.closed] + [room]
        return room

    async def check(self) -> str:
        return f"embedded relay, {self.max_viewers} viewers per show"

    async def close(self) -> None:
        rooms, self._rooms = self._rooms, []
        await asyncio.gather(*(room.close() for room in rooms))
