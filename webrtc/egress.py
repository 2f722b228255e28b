"""aiortc tracks into an :class:`~tryon.media.uplink.Uplink`: the show's processed video (and the
host's audio) out to RTMP(S) or SRT.

``TrackUplink(uplink, video, audio).start()`` reads the tracks on the event loop and hands each
frame to the uplink, whose pushes never block; the conversions (to RGB at the uplink's size, to
its audio rate in stereo) run in a worker thread, one frame at a time per track: when conversion
falls behind, the newest frame waits and the one before it is dropped (counted in
:attr:`TrackUplink.skipped`), so the track is always read at its own pace. Timestamps come from
the frames' ``pts`` (the first frame of the video is 0 on the uplink's clock).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, AudioResampler, VideoFrame
from numpy.typing import NDArray

from tryon.media.uplink import Uplink

logger = logging.getLogger(__name__)


class TrackUplink:
    """Feeds ``uplink`` from a video track and, optionally, an audio track. ``stop()`` ends it; it
    also ends by itself when the tracks end (the uplink is left to its owner to close)."""

    def __init__(
        self, uplink: Uplink, video: MediaStreamTrack, audio: MediaStreamTrack | None = None
    ) -> None:
        self.uplink = uplink
        self.video = video
        self.audio = audio
        self.skipped = 0
        """Frames not converted because the conversion was behind."""
        self._tasks: list[asyncio.Task[None]] = []
        self._origin: float | None = None
        self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="uplink-convert")
        settings = uplink.settings
        self._size = settings.size
        self._resampler = (
            AudioResampler(format="fltp", layout="stereo", rate=settings.audio_rate)
            if settings.audio
            else None
        )

    @property
    def running(self) -> bool:
        return any(not t.done() for t in self._tasks)

    def start(self) -> TrackUplink:
        """Start reading the tracks (on the running event loop); returns ``self``."""
        if not self._tasks:
            self._tasks.append(asyncio.ensure_future(self._pump(self.video, self._push_video)))
            if self.audio is not None and self._resampler is not None:
                self._tasks.append(asyncio.ensure_future(self._pump(self.audio, self._push_audio)))
        return self

    async def stop(self) -> None:
        """Stop reading (the tracks are not stopped: they may have other readers)."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def wait(self) -> None:
        """Until the tracks have ended (or :meth:`stop`)."""
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _pump(self, track: MediaStreamTrack, push: Callable[[Any, float], None]) -> None:
        loop = asyncio.get_running_loop()
        clock = _TrackClock(self, loop)
        slot: list[Any] = [None, None]  # the conversion in flight, the frame waiting for it

        def submit(item: tuple[Any, float]) -> None:
            future = loop.run_in_executor(self._executor, push, *item)
            slot[0] = future
            future.add_done_callback(done)

        def done(future: asyncio.Future[None]) -> None:
            if not future.cancelled() and future.exception() is not None:
                logger.warning(
                    "uplink %s: %s frame not sent: %s", self.uplink.where, track.kind, future.exception()
                )
            waiting, slot[1] = slot[1], None
            if waiting is not None:
                submit(waiting)

        try:
            while True:
                try:
                    frame = await track.recv()
                except MediaStreamError:
                    break
                item = (frame, clock.seconds(frame))
                if slot[0] is not None and not slot[0].done():
                    if slot[1] is not None:
                        self.skipped += 1
                    slot[1] = item
                else:
                    submit(item)
            while slot[0] is not None and not slot[0].done():
                await asyncio.wait([slot[0]])
        finally:
            slot[1] = None
        logger.debug("uplink %s: %s track ended", self.uplink.where, track.kind)

    def _push_video(self, frame: VideoFrame, t: float) -> None:
        width, height = self._size
        rgb: NDArray[np.uint8] = np.asarray(
            frame.to_ndarray(format="rgb24", width=width, height=height), np.uint8
        )
        self.uplink.push_video(rgb, t)

    def _push_audio(self, frame: AudioFrame, t: float) -> None:
        assert self._resampler is not None
        for out in self._resampler.resample(frame):
            self.uplink.push_audio(out, t)
            t += out.samples / out.sample_rate


class _TrackClock:
    """A track's frame times on the uplink's clock: the first frame of the first track is 0;
    each track starts where the wall clock is at its first frame and then follows its ``pts``
    (tracks have their own pts origins)."""

    def __init__(self, owner: TrackUplink, loop: asyncio.AbstractEventLoop) -> None:
        self.owner, self.loop = owner, loop
        self.first: tuple[float, float] | None = None  # (the frame's pts time, its uplink time)

    def seconds(self, frame: Any) -> float:
        now = self.loop.time()
        if self.owner._origin is None:
            self.owner._origin = now
        pts = float(frame.pts * frame.time_base) if frame.pts is not None and frame.time_base else None
        if pts is None or self.first is None:
            at = now - self.owner._origin
            if pts is not None:
                self.first = (pts, at)
            return at
        return self.first[1] + pts - self.first[0]
