"""The live video path of one session: camera track → newest frame → pipeline (own executor) → out.

``CountingTrack`` wraps the shopper's track and numbers its frames; a ``MediaRelay`` subscription
with ``buffered=False`` between it and :class:`TryOnTrack` keeps only the newest one. The encoder
pulls :meth:`TryOnTrack.recv`, which takes the newest frame, processes it off the event loop and
returns it at the fixed output size with the input's pts and time base. Frames that arrived while
the previous one was processed are skipped (never queued) and counted as dropped, so the delay
stays one frame's processing plus at most one camera interval.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from aiortc import MediaStreamTrack
from av import VideoFrame
from numpy.typing import NDArray

from tryon.errors import InputError
from tryon.pipeline import LookItem, PipelineStats
from tryon.render.compare import side_by_side, split_view
from webrtc.frames import fit_to_size
from webrtc.metrics import Metrics

logger = logging.getLogger(__name__)


class FramePipeline(Protocol):
    """What a session needs of a pipeline (:class:`tryon.TryOnPipeline` is one)."""

    stats: PipelineStats

    @property
    def look(self) -> tuple[LookItem, ...]: ...

    def set_look(self, products: Sequence[str | LookItem], intensity: float = 1.0) -> None: ...

    def process(self, frame: object, timestamp: float | None = None) -> NDArray[np.uint8]: ...


@dataclass
class SessionCounters:
    frames_in: int = 0
    frames_out: int = 0
    dropped: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    latency_ms: float = 0.0
    """Arrival of the last camera frame to its processed frame leaving for the encoder."""
    last_frame_at: float = 0.0
    """Monotonic time of the last camera frame (0 before the first)."""


class LiveProcessor:
    """The thread side of a session: fit, try on (unless paused), compose the before/after view,
    and keep the last frame pair for snapshots. Only the session's single worker thread calls
    :meth:`__call__`; the settings are read once per frame."""

    def __init__(self, pipeline: FramePipeline, output_size: tuple[int, int]) -> None:
        self.pipeline = pipeline
        self.output_size = output_size
        self.paused = False
        self.split: tuple[float, str] | None = None
        self._lock = threading.Lock()
        self._last: tuple[NDArray[np.uint8], NDArray[np.uint8]] | None = None

    def __call__(self, image: NDArray[np.uint8], timestamp: float | None) -> NDArray[np.uint8]:
        before = fit_to_size(image, self.output_size)
        after = before if self.paused else self.pipeline.process(before, timestamp)
        with self._lock:
            self._last = (before, after)
        split = self.split
        if split is None:
            return after
        position, side = split
        return split_view(before, after, position) if side == "left" else split_view(after, before, position)

    def snapshot(self, pair: bool = False) -> NDArray[np.uint8]:
        """The try-on of the last frame sent (``pair``: before | after side by side)."""
        with self._lock:
            last = self._last
        if last is None:
            raise InputError("snapshot: no frame has been processed yet")
        return side_by_side(*last) if pair else last[1]


class CountingTrack(MediaStreamTrack):
    """The shopper's track, each frame numbered and its arrival time kept."""

    kind = "video"

    def __init__(self, source: MediaStreamTrack, counters: SessionCounters, metrics: Metrics) -> None:
        super().__init__()
        self._source = source
        self._counters = counters
        self._metrics = metrics
        self.arrived_at = 0.0

    async def recv(self) -> VideoFrame:
        frame = await self._source.recv()
        assert isinstance(frame, VideoFrame)
        self.arrived_at = time.monotonic()
        self._counters.frames_in += 1
        self._counters.last_frame_at = self.arrived_at
        self._metrics.frames_in.inc()
        return frame

    def stop(self) -> None:
        super().stop()
        self._source.stop()


class TryOnTrack(MediaStreamTrack):
    """The processed track sent back to the shopper (see the module's description)."""

    kind = "video"

    def __init__(
        self,
        newest: MediaStreamTrack,
        counting: CountingTrack,
        processor: LiveProcessor,
        executor: Executor,
        counters: SessionCounters,
        metrics: Metrics,
    ) -> None:
        super().__init__()
        self._newest = newest
        self._counting = counting
        self._processor = processor
        self._executor = executor
        self._counters = counters
        self._metrics = metrics
        self._last_seq = 0
        self._seen_failures: Counter[str] = Counter()

    async def recv(self) -> VideoFrame:
        frame = await self._newest.recv()
        assert isinstance(frame, VideoFrame)
        # With buffered=False the relay hands over the newest frame, which is the last one counted.
        seq, arrived = self._counters.frames_in, self._counting.arrived_at
        skipped = max(0, seq - self._last_seq - 1)
        self._last_seq = seq
        if skipped:
            self._counters.dropped += skipped
            self._metrics.frames_dropped.inc(skipped)
        loop = asyncio.get_running_loop()
        out = await loop.run_in_executor(self._executor, self._work, frame)
        out.pts, out.time_base = frame.pts, frame.time_base
        now = time.monotonic()
        self._counters.frames_out += 1
        self._counters.latency_ms = (now - arrived) * 1e3
        self._metrics.frames_out.inc()
        self._metrics.frame_seconds.observe(now - arrived)
        return out

    def _work(self, frame: VideoFrame) -> VideoFrame:
        rgb = np.asarray(frame.to_ndarray(format="rgb24"), np.uint8)
        timestamp = float(frame.time) if frame.time is not None else None
        try:
            shown = self._processor(rgb, timestamp)
        except Exception:
            # The pipeline passes failing frames through itself; this is the last line of defence.
            self._count_failure("session")
            if self._counters.failures["session"] == 1:
                logger.exception("frame processing failed; frame passed through")
            shown = fit_to_size(rgb, self._processor.output_size)
        else:
            stats = self._processor.pipeline.stats
            for stage, n in stats.failures.items():
                if n > self._seen_failures[stage]:
                    self._count_failure(stage, n - self._seen_failures[stage])
                    self._seen_failures[stage] = n
            if not self._processor.paused:
                self._metrics.observe_stages(stats.timings)
        out = VideoFrame.from_ndarray(shown, format="rgb24")
        # The encoder wants I420: convert here, on this session's thread, not on the shared one.
        return out.reformat(format="yuv420p")

    def _count_failure(self, stage: str, n: int = 1) -> None:
        self._counters.failures[stage] += n
        self._metrics.frames_failed.labels(stage).inc(n)

    def stop(self) -> None:
        super().stop()
        self._newest.stop()
