"""The show's one published video track, whoever is hosting at the moment.

The room (Janus's or the embedded relay's) is given a :class:`ShowTrack` once, when the show is
created, and keeps it for the show's life: viewers stay connected while the host connects, drops
out or reconnects. :meth:`ShowTrack.set_source` points it at the host session's processed track;
without a source (or when the source stalls) it sends a dimmed copy of the last frame at a low
rate, so the SFU and the viewers' decoders keep a live stream.

Each frame is copied and stamped on the show's own 90 kHz clock: the host's frames carry the pts
of the host's camera (a new origin after every reconnect), and the frame object is shared with the
host's own sender, so it is never modified here.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import time
from collections import deque

import numpy as np
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, VideoFrame
from av.frame import Frame

logger = logging.getLogger(__name__)

CLOCK = fractions.Fraction(1, 90_000)
HOLD_FPS = 5.0
"""Frames a second while the host is away."""
STALL_S = 0.5
"""A source silent this long counts as away (holding frames are sent meanwhile)."""
DIM = 0.35


class ShowTrack(MediaStreamTrack):
    kind = "video"

    def __init__(self, size: tuple[int, int]) -> None:
        super().__init__()
        self.size = size
        self._source: MediaStreamTrack | None = None
        self._changed = asyncio.Event()
        self._start = time.monotonic()
        self._last_pts = -1
        self._last: np.ndarray | None = None
        self.frames_live = 0
        self.frames_held = 0
        self.last_live_at = 0.0

    @property
    def live(self) -> bool:
        """Whether a host's track is the source now."""
        return self._source is not None

    def set_source(self, track: MediaStreamTrack | None) -> None:
        """Send ``track``'s frames from now on (``None``: the host left; hold the last frame)."""
        self._source = track
        self._changed.set()

    async def recv(self) -> VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        while True:
            source = self._source
            if source is None:
                frame = await self._hold()
                if frame is not None:
                    return frame
                continue
            try:
                got = await asyncio.wait_for(source.recv(), STALL_S)
            except TimeoutError:
                return self._stamp(self._held_frame())
            except MediaStreamError:
                if self._source is source:
                    self._source = None
                continue
            if not isinstance(got, VideoFrame):
                continue
            self.frames_live += 1
            self.last_live_at = time.monotonic()
            return self._stamp(self._copy(got))

    async def _hold(self) -> VideoFrame | None:
        """A holding frame after one holding interval, or ``None`` if a source arrived meanwhile."""
        self._changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), 1.0 / HOLD_FPS)
            return None
        return self._stamp(self._held_frame())

    def _copy(self, frame: VideoFrame) -> VideoFrame:
        data = frame.to_ndarray(format="yuv420p")
        self._last = data
        return VideoFrame.from_ndarray(data, format="yuv420p")

    def _held_frame(self) -> VideoFrame:
        self.frames_held += 1
        w, h = self.size
        if self._last is None or self._last.shape != (h * 3 // 2, w):
            data = np.full((h * 3 // 2, w), 128, np.uint8)
            data[:h] = 16
        else:
            data = self._last.copy()
            # Dim the luma only (chroma stays centred on 128): the viewers see the host is away.
            data[:h] = (16 + (data[:h].astype(np.float32) - 16) * DIM).astype(np.uint8)
        return VideoFrame.from_ndarray(data, format="yuv420p")

    def _stamp(self, frame: VideoFrame) -> VideoFrame:
        pts = int((time.monotonic() - self._start) / CLOCK)
        pts = max(pts, self._last_pts + 1)
        self._last_pts = pts
        frame.pts = pts
        frame.time_base = CLOCK
        return frame

    def stop(self) -> None:
        self._source = None
        self._changed.set()
        super().stop()


AUDIO_RATE = 48_000
AUDIO_CHUNK = 960
"""Samples per silent frame (20 ms at 48 kHz, Opus's usual frame)."""


class ShowAudioTrack(MediaStreamTrack):
    """The show's sound: the host's microphone while there is one, silence otherwise.

    Like :class:`ShowTrack`, it outlives the host's reconnects, so an RTMP uplink keeps one audio
    stream for the whole show (platforms drop a stream whose audio stops). Silence is paced in
    real time; the host's frames pass through as they come.
    """

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._source: MediaStreamTrack | None = None
        self._next = 0.0
        self._samples = 0

    def set_source(self, track: MediaStreamTrack | None) -> None:
        self._source = track

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        source = self._source
        if source is not None:
            try:
                got = await asyncio.wait_for(source.recv(), STALL_S)
            except TimeoutError:
                got = None
            except MediaStreamError:
                if self._source is source:
                    self._source = None
                got = None
            if isinstance(got, AudioFrame):
                self._next = time.monotonic()
                return self._stamp(got)
        now = time.monotonic()
        self._next = max(self._next, now - 0.1) + AUDIO_CHUNK / AUDIO_RATE
        if self._next > now:
            await asyncio.sleep(self._next - now)
        frame = AudioFrame.from_ndarray(
            np.zeros((1, AUDIO_CHUNK * 2), np.int16), format="s16", layout="stereo"
        )
        frame.sample_rate = AUDIO_RATE
        return self._stamp(frame)

    def _stamp(self, frame: AudioFrame) -> AudioFrame:
        # One timeline at the frame's own rate, whoever produced the samples.
        rate = frame.sample_rate or AUDIO_RATE
        frame.pts = int(self._samples * rate / AUDIO_RATE)
        frame.time_base = fractions.Fraction(1, rate)
        self._samples += int(frame.samples * AUDIO_RATE / rate)
        return frame

    def stop(self) -> None:
        self._source = None
        super().stop()


class BoundedTrack(MediaStreamTrack):
    """Every frame of ``source`` in order, but never more than ``keep`` behind: when its reader
    falls back (an encoder on a loaded machine), the oldest frames are dropped and counted, so the
    sound's delay stays bounded (``keep`` 20 ms frames: 200 ms by default)."""

    def __init__(self, source: MediaStreamTrack, keep: int = 10) -> None:
        super().__init__()
        self.kind = source.kind
        self.dropped = 0
        self._source = source
        self._frames: deque[Frame] = deque()
        self._keep = keep
        self._ready = asyncio.Event()
        self._ended = False
        self._task: asyncio.Task[None] | None = None

    async def _pull(self) -> None:
        try:
            while True:
                frame = await self._source.recv()
                if not isinstance(frame, Frame):
                    continue
                self._frames.append(frame)
                if len(self._frames) > self._keep:
                    self._frames.popleft()
                    self.dropped += 1
                self._ready.set()
        except MediaStreamError:
            self._ended = True
            self._ready.set()

    async def recv(self) -> Frame:
        if self._task is None:
            self._task = asyncio.ensure_future(self._pull())
        while not self._frames:
            if self._ended or self.readyState != "live":
                raise MediaStreamError
            self._ready.clear()
            await self._ready.wait()
        return self._frames.popleft()

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._source.stop()
        super().stop()
