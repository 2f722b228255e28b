"""The live video path of one session: camera track → newest frame → pipeline (own executor) → out.

``CountingTrack`` wraps the shopper's track and numbers its frames; a ``MediaRelay`` subscription
with ``buffered=False`` between it and :class:`TryOnTrack` keeps only the newest one. The encoder
pulls :meth:`TryOnTrack.recv`, which takes the newest frame, processes it off the event loop and
returns it at the fixed output size with the input's pts and time base. Frames that arrived while
the previous one was processed are skipped (never queued) and counted as dropped, so the delay
stays one frame's processing plus at most one camera interval.

While a :class:`~tryon.trace.Tracer` is set on :attr:`TryOnTrack.tracer` (a session's ``trace``
control message), each frame is traced on two threads: on the session's worker, ``frame`` with
``to_rgb`` (the decoded frame to RGB), ``fit``, the pipeline's stages and ``to_yuv`` (for the
encoder); on the event loop, ``frame`` from the newest camera frame's hand-over to the sender's
next request, with ``await_worker`` and ``sender`` (aiortc's sender between two requests: the
encode in its executor, packetizing and sending). aiortc decodes in a private thread of its
receiver, out of reach without patching it: decoding is not in the trace.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from aiortc import MediaStreamTrack, RTCRtpSender
from av import VideoFrame
from numpy.typing import NDArray

from tryon.errors import InputError
from tryon.pipeline import LookItem, PipelineStats
from tryon.render.compare import side_by_side, split_view
from tryon.timing import Span, span
from tryon.trace import FRAME, Tracer
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


SNAPSHOT_FRAMES = 12
"""Frame pairs kept for snapshots (0.4 s at 30 fps: more than the way to the screen takes)."""
RTP_CLOCK = 90_000
"""Video RTP timestamps tick at 90 kHz; frame pts are kept in that clock here."""


@dataclass(frozen=True)
class Kept:
    pts: int | None
    """The frame's pts at 90 kHz (its RTP timestamp on the wire, less the sender's origin)."""
    before: NDArray[np.uint8]
    after: NDArray[np.uint8]


class LiveProcessor:
    """The thread side of a session: fit, try on (unless paused), compose the before/after view,
    and keep the last few frame pairs for snapshots. Only the session's single worker thread
    calls :meth:`__call__`; the settings are read once per frame."""

    def __init__(self, pipeline: FramePipeline, output_size: tuple[int, int]) -> None:
        self.pipeline = pipeline
        self.output_size = output_size
        self.paused = False
        self.split: tuple[float, str] | None = None
        self._lock = threading.Lock()
        self._kept: deque[Kept] = deque(maxlen=SNAPSHOT_FRAMES)

    def __call__(
        self, image: NDArray[np.uint8], timestamp: float | None, pts: int | None = None
    ) -> NDArray[np.uint8]:
        with span("fit"):
            before = fit_to_size(image, self.output_size)
        after = before if self.paused else self.pipeline.process(before, timestamp)
        with self._lock:
            self._kept.append(Kept(pts, before, after))
        split = self.split
        if split is None:
            return after
        position, side = split
        return split_view(before, after, position) if side == "left" else split_view(after, before, position)

    def snapshot(self, pair: bool = False, pts: int | None = None) -> tuple[NDArray[np.uint8], bool]:
        """The try-on of the frame with this pts (90 kHz) if it is still kept, else of the last
        frame sent; ``pair``: before | after side by side. Also returns whether ``pts`` matched."""
        with self._lock:
            kept = list(self._kept)
        if not kept:
            raise InputError("snapshot: no frame has been processed yet")
        chosen = next((k for k in reversed(kept) if _same_pts(k.pts, pts)), None)
        frame = chosen or kept[-1]
        image = side_by_side(frame.before, frame.after) if pair else frame.after
        return image, chosen is not None


PTS_TOLERANCE = 300
"""Ticks (3.3 ms) within which two 90 kHz timestamps name the same frame: time-base conversions
on the way round the loop can move one by a tick or two; frames are at least 1500 ticks apart."""


def _same_pts(a: int | None, b: int | None) -> bool:
    if a is None or b is None:
        return False
    d = (a - b) % (1 << 32)
    return min(d, (1 << 32) - d) <= PTS_TOLERANCE


def pts90(frame: VideoFrame) -> int | None:
    """The frame's pts in the 90 kHz video RTP clock (as the encoder converts it)."""
    if frame.pts is None or frame.time_base is None:
        return None
    return round(frame.pts * frame.time_base * RTP_CLOCK) % (1 << 32)


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
        self._seen_rejected: Counter[str] = Counter()
        self.sender: RTCRtpSender | None = None
        """Set by the session: the sender that encodes this track (for the RTP timestamp origin)."""
        self.rtp_origin: int | None = None
        self._last_pts: int | None = None
        self.tracer: Tracer | None = None
        """While set, every frame is traced into it (see the module's description)."""
        self._traced: tuple[Tracer, float, float, float, int] | None = None
        """The last frame's hand-over, worker done and return times, for the loop's frame span."""

    def pts_of_rtp(self, rtp_timestamp: int) -> int | None:
        """The pts (90 kHz) of the frame the page received with this RTP timestamp."""
        if self.rtp_origin is None:
            return None
        return (rtp_timestamp - self.rtp_origin) % (1 << 32)

    def _learn_rtp_origin(self) -> None:
        # The sender asks for the next frame only once every packet of the previous one is sent,
        # so its last RTP timestamp is the previous frame's: origin = timestamp - pts. aiortc
        # keeps the origin private; without it, snapshots fall back to the last frame sent.
        rtp = getattr(self.sender, "_RTCRtpSender__rtp_timestamp", None)
        if isinstance(rtp, int) and rtp and self._last_pts is not None:
            self.rtp_origin = (rtp - self._last_pts) % (1 << 32)

    def _end_traced_frame(self) -> None:
        """The sender asks for the next frame: the last one's span on the loop thread ends."""
        traced, self._traced = self._traced, None
        if traced is None:
            return
        tracer, got, ready, returned, seq = traced
        now = time.perf_counter()
        spans = [
            Span("await_worker", FRAME, got, ready),
            Span("sender", FRAME, returned, now),
            Span(FRAME, None, got, now),
        ]
        tracer.add(spans, {"frame": seq})

    async def recv(self) -> VideoFrame:
        self._end_traced_frame()
        self._learn_rtp_origin()
        frame = await self._newest.recv()
        assert isinstance(frame, VideoFrame)
        got = time.perf_counter()
        tracer = self.tracer
        # With buffered=False the relay hands over the newest frame, which is the last one counted.
        seq, arrived = self._counters.frames_in, self._counting.arrived_at
        skipped = max(0, seq - self._last_seq - 1)
        self._last_seq = seq
        if skipped:
            self._counters.dropped += skipped
            self._metrics.frames_dropped.inc(skipped)
        loop = asyncio.get_running_loop()
        out = await loop.run_in_executor(self._executor, self._work, frame, seq, tracer)
        ready = time.perf_counter()
        out.pts, out.time_base = frame.pts, frame.time_base
        self._last_pts = pts90(frame)
        now = time.monotonic()
        self._counters.frames_out += 1
        self._counters.latency_ms = (now - arrived) * 1e3
        self._metrics.frames_out.inc()
        self._metrics.frame_seconds.observe(now - arrived)
        if tracer is not None:
            self._traced = (tracer, got, ready, time.perf_counter(), seq)
        return out

    def _work(self, frame: VideoFrame, seq: int = 0, tracer: Tracer | None = None) -> VideoFrame:
        if tracer is None:
            return self._process(frame)
        with tracer.frame(frame=seq):
            return self._process(frame)

    def _process(self, frame: VideoFrame) -> VideoFrame:
        with span("to_rgb"):
            rgb = np.asarray(frame.to_ndarray(format="rgb24"), np.uint8)
        timestamp = float(frame.time) if frame.time is not None else None
        try:
            shown = self._processor(rgb, timestamp, pts90(frame))
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
            for reason, n in stats.rejected.items():
                if n > self._seen_rejected[reason]:
                    self._metrics.poses_rejected.labels(reason).inc(n - self._seen_rejected[reason])
                    self._seen_rejected[reason] = n
            if not self._processor.paused:
                self._metrics.observe_stages(stats.timings)
        with span("to_yuv"):
            out = VideoFrame.from_ndarray(shown, format="rgb24")
            # The encoder wants I420: convert here, on this session's thread, not on the shared one.
            return out.reformat(format="yuv420p")

    def _count_failure(self, stage: str, n: int = 1) -> None:
        self._counters.failures[stage] += n
        self._metrics.frames_failed.labels(stage).inc(n)

    def stop(self) -> None:
        super().stop()
        self._newest.stop()
