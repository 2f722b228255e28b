"""Test and benchmark material for the live path: a frame counter drawn as large blocks that
survive video compression, and a synthetic camera track made from a still portrait in motion.

The counter sits in the top-left corner, where no renderer draws (faces are tracked away from it
in the sequences made here): 16 bits of the frame number and a 4-bit check, one 16-pixel block
each, black or white, in a 5×4 grid.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, VideoFrame
from numpy.typing import NDArray

from tryon.pipeline import LookItem, PipelineStats
from webrtc.ice import IcePolicy, use_policy

BLOCK = 16
COLS, ROWS = 5, 4
BITS = 16
CHECK_BITS = COLS * ROWS - BITS
MARGIN = 8
LOW, HIGH = 16, 235
VIDEO_CLOCK = 90_000


def counter_box() -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)`` of the counter's area, margin included."""
    return 0, 0, 2 * MARGIN + COLS * BLOCK, 2 * MARGIN + ROWS * BLOCK


def _bits(value: int) -> list[int]:
    value %= 1 << BITS
    check = bin(value).count("1") % (1 << CHECK_BITS)
    return [(value >> i) & 1 for i in range(BITS)] + [(check >> i) & 1 for i in range(CHECK_BITS)]


def draw_counter(frame: NDArray[np.uint8], value: int) -> None:
    """Draw ``value`` (mod 2**16) into the top-left corner of ``frame``, in place."""
    x1, y1 = counter_box()[2:]
    frame[:y1, :x1] = 128
    for i, bit in enumerate(_bits(value)):
        r, c = divmod(i, COLS)
        y, x = MARGIN + r * BLOCK, MARGIN + c * BLOCK
        frame[y : y + BLOCK, x : x + BLOCK] = HIGH if bit else LOW


def read_counter(frame: NDArray[np.uint8]) -> int | None:
    """The counter drawn by :func:`draw_counter`, or ``None`` when it does not read back cleanly."""
    bits = []
    q = BLOCK // 4
    for i in range(COLS * ROWS):
        r, c = divmod(i, COLS)
        y, x = MARGIN + r * BLOCK, MARGIN + c * BLOCK
        level = float(frame[y + q : y + BLOCK - q, x + q : x + BLOCK - q].mean())
        if abs(level - (LOW + HIGH) / 2) < (HIGH - LOW) / 4:
            return None
        bits.append(int(level > (LOW + HIGH) / 2))
    value = sum(b << i for i, b in enumerate(bits[:BITS]))
    return value if _bits(value) == bits else None


def write_y4m(path: str | Path, frames: Sequence[NDArray[np.uint8]], fps: int = 30) -> None:
    """RGB frames as 8-bit 4:2:0 YUV4MPEG2 with plain ``FRAME`` headers: a clip Chromium plays as
    its camera (``--use-file-for-fake-video-capture``)."""
    h, w = frames[0].shape[:2]
    with Path(path).open("wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for rgb in frames:
            f.write(b"FRAME\n")
            f.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420).tobytes())


class PassThroughPipeline:
    """A :class:`~webrtc.track.FramePipeline` that returns frames untouched and keeps the look it
    is given: the baseline for added latency, and a cheap stand-in where negotiation or the
    control channel is under test."""

    def __init__(self, items: Sequence[LookItem] = ()) -> None:
        self.stats = PipelineStats()
        self._look: tuple[LookItem, ...] = tuple(items)

    @property
    def look(self) -> tuple[LookItem, ...]:
        return self._look

    def set_look(self, products: Sequence[str | LookItem], intensity: float = 1.0) -> None:
        self._look = tuple(p for p in products if isinstance(p, LookItem))

    def process(self, frame: object, timestamp: float | None = None) -> NDArray[np.uint8]:
        assert isinstance(frame, np.ndarray)
        self.stats.frames += 1
        return frame


class SyntheticCamera(MediaStreamTrack):
    """A live video track at ``fps`` from ``make_frame(i) -> RGB``, each frame stamped with its number.

    ``sent[i]`` is the monotonic time at which frame ``i`` left :meth:`recv` (the encoder's side).
    """

    kind = "video"

    def __init__(self, make_frame: Callable[[int], NDArray[np.uint8]], fps: float = 30.0) -> None:
        super().__init__()
        self._make = make_frame
        self._period = 1.0 / fps
        self._start: float | None = None
        self._index = 0
        self.sent: dict[int, float] = {}

    async def recv(self) -> VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        if self._start is None:
            self._start = now
        due = self._start + self._index * self._period
        if due > now:
            await asyncio.sleep(due - now)
        else:  # late (a slow machine): keep the schedule, do not burst
            self._start += now - due
        i = self._index
        self._index += 1
        rgb = self._make(i).copy()
        draw_counter(rgb, i)
        frame = VideoFrame.from_ndarray(rgb, format="rgb24")
        frame.pts = round(i * self._period * VIDEO_CLOCK)
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        self.sent[i] = time.monotonic()
        return frame


@dataclass
class Received:
    counter: int | None
    """The frame number read back from the blocks (``None`` when unreadable)."""
    at: float
    """Monotonic arrival time of the decoded frame."""
    latency: float | None
    """Seconds from the camera frame leaving the synthetic camera to its return, decoded."""
    rtp_timestamp: int | None = None
    """The RTP timestamp the frame came with (what a page reads from requestVideoFrameCallback)."""


class FrameReader:
    """What a peer that reads the try-on video back keeps: every frame's counter and latency,
    the kept images."""

    pc: RTCPeerConnection
    received: list[Received]
    images: dict[int, NDArray[np.uint8]]
    _keep: Callable[[int], bool]

    def _rtp_timestamp(self, frame: VideoFrame) -> int | None:
        # aiortc's receiver rebases timestamps on the first one it saw (kept privately); a page
        # gets the wire's timestamp from requestVideoFrameCallback, so undo the rebase here.
        for receiver in self.pc.getReceivers():
            mapper = getattr(receiver, "_RTCRtpReceiver__timestamp_mapper", None)
            origin = getattr(mapper, "_origin", None)
            if receiver.track.kind == "video" and isinstance(origin, int) and frame.pts is not None:
                return (origin + frame.pts) % (1 << 32)
        return None

    async def wait_frames(self, n: int, timeout: float = 30.0) -> None:
        """Wait until ``n`` more frames have come back."""
        target = len(self.received) + n
        deadline = time.monotonic() + timeout
        while len(self.received) < target:
            if time.monotonic() > deadline:
                raise TimeoutError(f"expected {n} frames back within {timeout} s, got {len(self.received)}")
            await asyncio.sleep(0.02)


async def read_frames(reader: FrameReader, track: MediaStreamTrack, sent: dict[int, float]) -> None:
    """Read ``track`` until it ends into ``reader`` (latency from ``sent``: counter → send time)."""
    with contextlib.suppress(MediaStreamError):
        while True:
            frame = await track.recv()
            now = time.monotonic()
            assert isinstance(frame, VideoFrame)
            rgb = np.asarray(frame.to_ndarray(format="rgb24"), np.uint8)
            n = read_counter(rgb)
            at = sent.get(n) if n is not None else None
            latency = None if at is None else now - at
            reader.received.append(Received(n, now, latency, reader._rtp_timestamp(frame)))
            if n is not None and reader._keep(n):
                reader.images[n] = rgb


class ProbeClient(FrameReader):
    """An aiortc peer that plays a synthetic camera to a tryon server and reads the video back.

    ``keep(counter)`` says which returned frames to keep as RGB arrays in ``images``.
    """

    def __init__(
        self,
        base_url: str,
        make_frame: Callable[[int], NDArray[np.uint8]],
        fps: float = 30.0,
        keep: Callable[[int], bool] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.camera = SyntheticCamera(make_frame, fps)
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.channel = self.pc.createDataChannel("control")
        self.received: list[Received] = []
        self.images: dict[int, NDArray[np.uint8]] = {}
        self.stats: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        self.session: str | None = None
        self._keep = keep or (lambda _: False)
        self._replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._next_id = 0
        self._reader: asyncio.Task[None] | None = None
        self._opened = asyncio.Event()
        self.channel.on("open", self._opened.set)
        self.channel.on("message", self._on_message)
        self.pc.on("track", self._on_track)

    async def connect(
        self,
        http: Any,
        products: Sequence[str] = (),
        munge: Callable[[str], str] | None = None,
        path: str = "/offer",
        headers: dict[str, str] | None = None,
    ) -> None:
        """Offer (no trickle ICE), post it with ``products``, apply the answer; raises on a refusal.
        ``munge`` rewrites the offer's SDP before it is posted (to play a peer that advertises
        something else than aiortc does). ``path`` and ``headers``: a show's host publishes to
        ``/api/shows/<id>/publish`` with its key."""
        self.pc.addTransceiver(self.camera, direction="sendrecv")
        # On this machine, as a loopback-mode server expects: gather 127.0.0.1 only.
        with use_policy(IcePolicy("loopback")):
            await self.pc.setLocalDescription(await self.pc.createOffer())
        sdp = self.pc.localDescription.sdp
        body = {"sdp": munge(sdp) if munge else sdp, "type": "offer", "products": list(products)}
        async with http.post(f"{self.base_url}{path}", json=body, headers=headers) as resp:
            answer = await resp.json()
            if resp.status != 200:
                raise RuntimeError(f"offer refused ({resp.status}): {answer.get('error')}")
        self.session = answer["session"]
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
        await asyncio.wait_for(self._opened.wait(), 20)

    async def request(self, message: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        """Send a control message and wait for the reply (``ack``, ``pong`` or ``error``) to it."""
        self._next_id += 1
        mid = self._next_id
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._replies[mid] = future
        self.channel.send(json.dumps({**message, "id": mid}))
        return await asyncio.wait_for(future, timeout)

    def _on_message(self, raw: str | bytes) -> None:
        msg = json.loads(raw)
        if msg.get("type") == "stats":
            self.stats.append(msg)
            return
        self.messages.append(msg)
        future = self._replies.pop(msg.get("id"), None) if isinstance(msg.get("id"), int) else None
        if future is not None and not future.done():
            future.set_result(msg)

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "video":
            self._reader = asyncio.ensure_future(read_frames(self, track, self.camera.sent))

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        await self.pc.close()


class ProbeViewer(FrameReader):
    """A show's viewer: receives the show's video from its room (the embedded relay or Janus).

    ``sent`` maps the host camera's counters to their send times (the host's ``camera.sent``):
    the latency measured is then host camera → viewer decode.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        sent: dict[int, float] | None = None,
        keep: Callable[[int], bool] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.sent = sent if sent is not None else {}
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.received = []
        self.images = {}
        self.watch: str | None = None
        self.audio_frames = 0
        """Sound frames received (the show's sound: the host's microphone, or silence)."""
        self.audio_peak = 0
        self._keep = keep or (lambda _: False)
        self._reader: asyncio.Task[None] | None = None
        self._audio: asyncio.Task[None] | None = None
        self.pc.on("track", self._on_track)

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "video" and self._reader is None:
            self._reader = asyncio.ensure_future(read_frames(self, track, self.sent))
        elif track.kind == "audio" and self._audio is None:
            self._audio = asyncio.ensure_future(self._read_audio(track))

    async def _read_audio(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                self.audio_frames += 1
                if isinstance(frame, AudioFrame):
                    self.audio_peak = max(self.audio_peak, int(np.abs(frame.to_ndarray()).max()))

    async def watch_show(self, http: Any, show: str) -> None:
        """Ask the room for an offer, answer it (no trickle); raises on a refusal."""
        headers = {"X-Viewer-Token": self.token}
        url = f"{self.base_url}/api/shows/{show}/watch"
        async with http.post(url, json={}, headers=headers) as resp:
            offer = await resp.json()
            if resp.status != 201:
                raise RuntimeError(f"watch refused ({resp.status}): {offer.get('error')}")
        self.watch = offer["watch"]
        with use_policy(IcePolicy("loopback")):
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type="offer"))
            await self.pc.setLocalDescription(await self.pc.createAnswer())
        body = {"type": "answer", "sdp": self.pc.localDescription.sdp}
        async with http.post(f"{url}/{self.watch}", json=body, headers=headers) as resp:
            if resp.status != 204:
                raise RuntimeError(f"answer refused ({resp.status}): {(await resp.json()).get('error')}")

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self._audio is not None:
            self._audio.cancel()
        await self.pc.close()


class ToneTrack(MediaStreamTrack):
    """A microphone playing a sine tone (48 kHz stereo, 20 ms frames, paced in real time)."""

    kind = "audio"

    def __init__(self, hz: float = 440.0, level: int = 8000) -> None:
        super().__init__()
        self.hz, self.level = hz, level
        self._samples = 0
        self._start: float | None = None

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        rate, n = 48_000, 960
        if self._start is None:
            self._start = time.monotonic()
        wait = self._start + self._samples / rate - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        t = (self._samples + np.arange(n)) / rate
        wave = (np.sin(2 * np.pi * self.hz * t) * self.level).astype(np.int16)
        frame = AudioFrame.from_ndarray(np.repeat(wave, 2)[None, :], format="s16", layout="stereo")
        frame.sample_rate = rate
        frame.pts = self._samples
        frame.time_base = fractions.Fraction(1, rate)
        self._samples += n
        return frame
