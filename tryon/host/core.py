"""The host's loop: a source's frames through the try-on, out to every output.

Three kinds of threads, none waiting on another: the source's capture thread puts each frame into a
one-frame slot (a frame still there unprocessed is replaced, and counted as dropped: the try-on
always works on the newest one, never on a queue behind it) and hands the sound straight to the
outputs; the try-on thread takes the newest frame, processes it and pushes the result to every
output; each output writes from its own queue (see :mod:`tryon.host.outputs`).

:meth:`Host.run` returns when the source ends, a limit is reached or :meth:`Host.stop` is called
(a signal handler, the ``q`` key, the control API), after closing everything in order: the source,
the try-on thread (its frame in hand finished), then every output (files finalized, WHIP
``DELETE`` sent, the uplink closed).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler
from numpy.typing import NDArray

from tryon.host.outputs import AUDIO_RATE, Output
from tryon.media.capture import Source

logger = logging.getLogger(__name__)


class Pipeline(Protocol):
    def process(self, frame: object, timestamp: float | None = None) -> NDArray[np.uint8]: ...


class LatestFrame:
    """A one-frame slot: ``put`` replaces (counting the replaced frame as dropped), ``take`` waits."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: tuple[NDArray[np.uint8], float] | None = None
        self._closed = False
        self.dropped = 0

    def put(self, rgb: NDArray[np.uint8], t: float) -> None:
        with self._cond:
            if self._item is not None:
                self.dropped += 1
            self._item = (rgb, t)
            self._cond.notify()

    def take(self) -> tuple[NDArray[np.uint8], float] | None:
        """The newest frame (waiting for one); ``None`` once closed and empty."""
        with self._cond:
            while self._item is None and not self._closed:
                self._cond.wait()
            item, self._item = self._item, None
            return item

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


@dataclass
class HostReport:
    frames_in: int = 0
    frames_out: int = 0
    dropped: int = 0
    """Frames replaced in the slot before the try-on took them (it was busy)."""
    audio_chunks: int = 0
    seconds: float = 0.0
    stopped_by: str = ""
    source_error: str | None = None
    process_ms: float = 0.0
    """Mean try-on time per frame."""
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)


class Host:
    """``source`` → ``pipeline`` → ``outputs``; ``duration`` (source seconds) and ``max_frames``
    (source frames) end the run when given."""

    def __init__(
        self,
        source: Source,
        pipeline: Pipeline,
        outputs: Sequence[Output],
        *,
        duration: float | None = None,
        max_frames: int | None = None,
    ) -> None:
        self.source, self.pipeline, self.outputs = source, pipeline, list(outputs)
        self.duration, self.max_frames = duration, max_frames
        self.slot = LatestFrame()
        self.report = HostReport()
        self._stopping = threading.Event()
        self._resampler = AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)
        self._audio_next: float | None = None
        self._process_s = 0.0
        self._started = 0.0
        self._signalled = ""
        self._tryon = threading.Thread(target=self._tryon_main, name="try-on", daemon=True)

    # -- control ---------------------------------------------------------------------------------

    def stop(self, reason: str = "stopped") -> None:
        """End the run (from any thread, a signal handler included)."""
        if not self._stopping.is_set():
            self.report.stopped_by = reason
            self._stopping.set()

    def stop_from_signal(self, name: str) -> None:
        """End the run from a signal handler: only a flag is set there (no lock is taken); the
        run's loop sees it within 0.2 s."""
        self._signalled = name

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def stats(self) -> dict[str, Any]:
        r = self.report
        return {
            "frames_in": r.frames_in,
            "frames_out": r.frames_out,
            "dropped": self.slot.dropped,
            "seconds": round(time.monotonic() - self._started, 2) if self._started else 0.0,
            "outputs": {o.name: o.stats() for o in self.outputs},
        }

    # -- the run ---------------------------------------------------------------------------------

    def open_outputs(self) -> None:
        """Start every output, in order; if one cannot start, close those started and re-raise."""
        started: list[Output] = []
        try:
            for output in self.outputs:
                output.start()
                started.append(output)
        except BaseException:
            for output in reversed(started):
                _close(output)
            raise

    def run(self, opened: bool = False) -> HostReport:
        """Run until the end (see the module's doc); ``opened``: :meth:`open_outputs` was called."""
        if not opened:
            self.open_outputs()
        self._started = time.monotonic()
        try:
            self._tryon.start()
            self.source.start(self._on_video, self._on_audio, lambda: self.stop("end of input"))
            while not self._stopping.wait(0.2):
                if self._signalled:
                    self.stop(self._signalled)
                if self.outputs and all(o.failed for o in self.outputs):
                    self.stop("every output failed")
        finally:
            self.stop("interrupted")
            self.source.stop()
            self.slot.close()
            if self._tryon.is_alive():
                self._tryon.join(10)
            for output in self.outputs:
                _close(output)
        r = self.report
        r.seconds = time.monotonic() - self._started
        r.dropped = self.slot.dropped
        r.source_error = self.source.error
        r.process_ms = 1000 * self._process_s / r.frames_out if r.frames_out else 0.0
        r.outputs = {o.name: o.stats() for o in self.outputs}
        logger.info(
            "host: %d frames in, %d out, %d dropped (%s)", r.frames_in, r.frames_out, r.dropped, r.stopped_by
        )
        return r

    def _on_video(self, rgb: NDArray[np.uint8], t: float) -> None:
        if self._stopping.is_set():
            return
        if self.duration is not None and t >= self.duration:
            self.stop("duration")
            return
        self.report.frames_in += 1
        self.slot.put(rgb, t)
        if self.max_frames is not None and self.report.frames_in >= self.max_frames:
            self.stop("frames")

    def _on_audio(self, frame: AudioFrame, t: float) -> None:
        if self._stopping.is_set() or (self.duration is not None and t >= self.duration):
            return
        self.report.audio_chunks += 1
        if self._audio_next is None or abs(t - self._audio_next) > 0.2:
            self._audio_next = t  # the start, or a jump (a loop, a gap): follow the source's clock
        frame.pts = None
        for out in self._resampler.resample(frame):
            samples = np.asarray(out.to_ndarray(), np.float32)
            for output in self.outputs:
                output.push_audio(samples, self._audio_next)
            self._audio_next += out.samples / AUDIO_RATE

    def _tryon_main(self) -> None:
        while (item := self.slot.take()) is not None:
            rgb, t = item
            started = time.perf_counter()
            try:
                out = self.pipeline.process(rgb, t)
            except Exception:
                logger.exception("the try-on failed; stopping")
                self.stop("try-on failed")
                return
            self._process_s += time.perf_counter() - started
            self.report.frames_out += 1
            for output in self.outputs:
                try:
                    output.push_video(out, t)
                except Exception as exc:  # an output's bug must not stop the others
                    output.fail(f"{type(exc).__name__}: {exc}")


def _close(output: Output) -> None:
    try:
        output.close()
    except Exception as exc:
        output.fail(f"closing: {type(exc).__name__}: {exc}")
