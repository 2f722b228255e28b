"""``tryon host --whip URL``: the try-on published to a WHIP endpoint (RFC 9725), e.g. a ``tryon
serve``'s ``/whip`` with a show's key, from an aiortc peer on its own event loop thread.

The video track sends the newest try-on frame (a frame replaced before it was sent is counted as
dropped), the audio track the source's sound. Closing sends the ``DELETE`` that ends the session.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import fractions
import ipaddress
import logging
import threading
import urllib.parse
from typing import Any

import aiohttp
import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.audio.frame import AudioFrame
from av.video.frame import VideoFrame
from numpy.typing import NDArray

from tryon.errors import InputError, MediaError
from tryon.host.outputs import AUDIO_RATE, Output, Sound

logger = logging.getLogger(__name__)

VIDEO_CLOCK = 90_000


def whip_name(url: str) -> str:
    """``whip scheme://host[:port]/path``: the URL without its query (safe to log)."""
    parts = urllib.parse.urlsplit(url)
    return f"whip {parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


def is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class FeedTrack(MediaStreamTrack):
    """Video: the newest frame put, stamped with its time on the 90 kHz clock."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self._frame: tuple[NDArray[np.uint8], float] | None = None
        self._ready = asyncio.Event()
        self._last_pts = -1
        self.sent = 0
        self.dropped = 0

    def put(self, rgb: NDArray[np.uint8], t: float) -> None:
        if self._frame is not None:
            self.dropped += 1
        self._frame = (rgb, t)
        self._ready.set()

    async def recv(self) -> VideoFrame:
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            await self._ready.wait()
            self._ready.clear()
            if self._frame is None:
                continue
            rgb, t = self._frame
            self._frame = None
            pts = max(round(t * VIDEO_CLOCK), self._last_pts + 1)
            self._last_pts = pts
            frame = VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame.pts, frame.time_base = pts, fractions.Fraction(1, VIDEO_CLOCK)
            self.sent += 1
            return frame


class SoundTrack(MediaStreamTrack):
    """Audio: the source's sound in order (at most ``max_chunks`` waiting; the oldest dropped)."""

    kind = "audio"

    def __init__(self, max_chunks: int = 50) -> None:
        super().__init__()
        self._chunks: collections.deque[Sound] = collections.deque(maxlen=max_chunks)
        self._ready = asyncio.Event()
        self._pos = 0

    def put(self, samples: Sound) -> None:
        self._chunks.append(samples)
        self._ready.set()

    async def recv(self) -> AudioFrame:
        while not self._chunks:
            if self.readyState != "live":
                raise MediaStreamError
            self._ready.clear()
            await self._ready.wait()
        samples = self._chunks.popleft()  # aiortc's Opus encoder takes packed s16 stereo
        packed = (np.clip(samples, -1, 1) * 32767).astype(np.int16).T.reshape(1, -1)
        frame = AudioFrame.from_ndarray(packed, format="s16", layout="stereo")
        frame.sample_rate = AUDIO_RATE
        frame.pts, frame.time_base = self._pos, fractions.Fraction(1, AUDIO_RATE)
        self._pos += frame.samples
        return frame


class WhipOutput(Output):
    """Publish to ``url`` with ``token`` (Bearer); ``audio``: send the source's sound too."""

    def __init__(self, url: str, token: str | None, audio: bool, timeout: float = 20.0) -> None:
        super().__init__()
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(f"--whip: expected an http(s):// URL, got {parts.scheme or 'no scheme'}://")
        self.url, self.token, self.audio, self.timeout = url, token, audio, timeout
        self.name = whip_name(url)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=self.name, daemon=True)
        self.state = "new"
        self.deleted: int | None = None
        self.video: FeedTrack | None = None
        self.sound: SoundTrack | None = None
        self.pc: RTCPeerConnection | None = None
        self.http: aiohttp.ClientSession | None = None
        self.resource: Any = None

    def start(self) -> None:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._connect(), self.loop)
        try:
            future.result(self.timeout + 5)
        except Exception as exc:
            self.close()
            raise MediaError(f"{self.name}: {exc}") from None
        logger.info("%s: published (%s)", self.name, self.resource.url if self.resource else "?")

    async def _connect(self) -> None:
        from webrtc.ice import IcePolicy
        from webrtc.whip_client import negotiate

        self.http = aiohttp.ClientSession()
        self.pc = pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.video = FeedTrack()
        pc.addTransceiver(self.video, direction="sendonly")
        if self.audio:
            self.sound = SoundTrack()
            pc.addTransceiver(self.sound, direction="sendonly")

        @pc.on("connectionstatechange")
        def _changed() -> None:
            self.state = pc.connectionState
            if pc.connectionState == "failed":
                self.fail("the WebRTC connection failed")

        # A server on this machine (tryon serve on loopback) takes loopback candidates only.
        policy = IcePolicy("loopback") if is_loopback(self.url) else None
        self.resource = await negotiate(
            self.http, self.url, pc, self.token, policy=policy, timeout=self.timeout
        )
        self.state = pc.connectionState

    def push_video(self, rgb: NDArray[np.uint8], t: float) -> None:
        if self.video is not None and not self.failed:
            self.loop.call_soon_threadsafe(self.video.put, rgb, t)

    def push_audio(self, samples: Sound, t: float) -> None:
        if self.sound is not None and not self.failed:
            self.loop.call_soon_threadsafe(self.sound.put, samples)

    def close(self) -> None:
        if self._thread.is_alive():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._close(), self.loop).result(10)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(5)
        if not self.loop.is_running():
            self.loop.close()

    async def _close(self) -> None:
        if self.resource is not None and self.http is not None:
            try:
                self.deleted = await self.resource.delete(self.http)
            except (aiohttp.ClientError, TimeoutError) as exc:
                logger.warning("%s: DELETE failed: %s", self.name, exc)
        if self.pc is not None:
            await self.pc.close()
            self.state = "closed"
        if self.http is not None:
            await self.http.close()

    def stats(self) -> dict[str, Any]:
        v = self.video
        return {
            "state": self.state,
            "frames": v.sent if v else 0,
            "dropped": v.dropped if v else 0,
            "deleted": self.deleted,
            "error": self.failed,
        }
