"""Live sources for ``tryon host``: a camera (OpenCV), a microphone (PyAV: ALSA, or any FFmpeg input
format), or a video file standing in for a camera (played in real time, looping if asked, its sound
as the microphone).

A source runs its own thread and hands every frame to callbacks: ``on_video(rgb, t)`` with an RGB
``uint8`` frame at the source's :attr:`Source.size`, ``on_audio(frame, t)`` with a PyAV
``AudioFrame``; ``t`` is seconds on the source's clock (0 at its start, increasing). ``on_end`` is
called once when the source ends (a file without ``loop``, a camera that stopped delivering).
Callbacks must not block: they run on the capture thread.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
import threading
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
from av.audio.frame import AudioFrame
from numpy.typing import NDArray

from tryon.errors import InputError, MediaError
from tryon.media.video import FrameClock, decode, demux, frame_rate, frame_to_rgb, open_input, time_base

logger = logging.getLogger(__name__)

VideoSink = Callable[[NDArray[np.uint8], float], None]
AudioSink = Callable[[AudioFrame, float], None]
EndSink = Callable[[], None]

CAMERA_READ_FAILURES = 30
"""Consecutive failed reads after which a camera counts as gone."""


def parse_size(text: str) -> tuple[int, int]:
    """``"WxH"`` as ``(w, h)``, both even and positive (4:2:0 encoders need even sides)."""
    m = re.fullmatch(r"\s*(\d{1,5})\s*[xX]\s*(\d{1,5})\s*", text)
    if not m:
        raise InputError(f"--size: expected WIDTHxHEIGHT, e.g. 1280x720, got {text!r}")
    w, h = int(m[1]), int(m[2])
    if not (16 <= w <= 7680 and 16 <= h <= 4320) or w % 2 or h % 2:
        raise InputError(f"--size: expected even sides from 16x16 to 7680x4320, got {w}x{h}")
    return w, h


def even_size(width: int, height: int) -> tuple[int, int]:
    return max(2, width - width % 2), max(2, height - height % 2)


def fit(rgb: NDArray[np.uint8], size: tuple[int, int]) -> NDArray[np.uint8]:
    """``rgb`` at ``size`` (w, h): resized if it is not already."""
    if (rgb.shape[1], rgb.shape[0]) == size:
        return np.ascontiguousarray(rgb)
    return np.ascontiguousarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA))


class Source:
    """A thread delivering frames (and maybe sound) to callbacks; see the module's doc."""

    size: tuple[int, int]
    fps: float
    has_audio: bool = False
    label: str = "source"

    def __init__(self) -> None:
        self.frames = 0
        self.audio_frames = 0
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._on_video: VideoSink = lambda _rgb, _t: None
        self._on_audio: AudioSink = lambda _f, _t: None
        self._on_end: EndSink = lambda: None
        self._min_gap = 0.0
        self._last_t: float | None = None

    def start(self, on_video: VideoSink, on_audio: AudioSink, on_end: EndSink) -> None:
        self._on_video, self._on_audio, self._on_end = on_video, on_audio, on_end
        self._thread = threading.Thread(target=self._main, name=self.label, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                logger.warning("%s: the capture thread did not stop within %.0f s", self.label, timeout)
        self.close()

    def close(self) -> None:
        """Release the device or file (after the thread has stopped)."""

    def limit_rate(self, fps: float | None) -> None:
        """Deliver at most ``fps`` frames a second (frames in between are skipped)."""
        self._min_gap = 0.0 if not fps else 0.9 / fps

    def _main(self) -> None:
        try:
            self._run()
        except Exception as exc:  # a device or file failing mid-run ends the source, not the process
            self.error = f"{type(exc).__name__}: {exc}"
            logger.error("%s: %s", self.label, self.error)
        finally:
            if not self._stop.is_set():
                self._on_end()

    def _run(self) -> None:
        raise NotImplementedError

    def _video(self, rgb: NDArray[np.uint8], t: float) -> None:
        if self._last_t is not None and t - self._last_t < self._min_gap:
            return
        self._last_t = t
        self.frames += 1
        self._on_video(fit(rgb, self.size), t)

    def _audio(self, frame: AudioFrame, t: float) -> None:
        self.audio_frames += 1
        self._on_audio(frame, t)


# -- cameras -------------------------------------------------------------------------------------


def video_devices() -> list[int]:
    """The ``N`` of every ``/dev/videoN`` (Linux; empty elsewhere)."""
    found = []
    for p in Path("/dev").glob("video*"):
        with contextlib.suppress(ValueError):
            found.append(int(p.name[len("video") :]))
    return sorted(found)


def check_camera(index: int) -> None:
    """On Linux, a clear :class:`MediaError` when ``/dev/video<index>`` does not exist."""
    if index < 0:
        raise InputError(f"--camera: expected a camera number >= 0, got {index}")
    if sys.platform.startswith("linux") and not Path(f"/dev/video{index}").exists():
        found = ", ".join(map(str, video_devices())) or "none"
        raise MediaError(f"no camera {index} (found: {found})")


class CameraSource(Source):
    """Camera ``index`` through OpenCV, asked for ``size`` and ``fps`` (frames are resized to
    ``size`` if the camera gives another); sound from ``mic`` if given (see :class:`Microphone`)."""

    def __init__(
        self,
        index: int,
        size: tuple[int, int] | None = None,
        fps: float | None = None,
        mic: str | None = None,
    ) -> None:
        super().__init__()
        check_camera(index)
        self.label = f"camera {index}"
        self.cap = cv2.VideoCapture(index)
        if not self.cap.isOpened():
            raise MediaError(
                f"camera {index} could not be opened (in use by another program, or no permission?)"
            )
        if size is not None:
            self.cap.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
            self.cap.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])
        if fps:
            self.cap.set(cv2.CAP_PROP_FPS, fps)
        ok, bgr = self.cap.read()
        if not ok or bgr is None:
            self.cap.release()
            raise MediaError(f"camera {index} opened but gave no frame")
        self.size = size or even_size(bgr.shape[1], bgr.shape[0])
        reported = float(self.cap.get(cv2.CAP_PROP_FPS) or 0)
        self.fps = float(fps or (reported if 1 <= reported <= 240 else 30.0))
        self.mic = Microphone(mic) if mic else None
        self.has_audio = self.mic is not None

    def _run(self) -> None:
        t0 = time.monotonic()
        if self.mic is not None:
            self.mic.start(t0, self._audio, self._stop)
        failures = 0
        while not self._stop.is_set():
            ok, bgr = self.cap.read()
            if not ok or bgr is None:
                failures += 1
                if failures >= CAMERA_READ_FAILURES:
                    raise MediaError(f"{self.label} stopped delivering frames")
                time.sleep(0.01)
                continue
            failures = 0
            rgb: NDArray[np.uint8] = np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), np.uint8)
            self._video(rgb, time.monotonic() - t0)

    def close(self) -> None:
        if self.mic is not None:
            self.mic.stop()
        self.cap.release()


MIC_FORMATS = frozenset({"alsa", "pulse", "oss", "jack", "lavfi", "avfoundation", "dshow"})
"""FFmpeg input formats a ``--mic FORMAT:DEVICE`` may name (without one: ALSA)."""


class Microphone:
    """Sound from an FFmpeg input device: ``DEVICE`` (ALSA, e.g. ``default`` or ``hw:1``) or
    ``FORMAT:DEVICE`` (e.g. ``pulse:default``; ``lavfi:sine=frequency=440`` for a test tone)."""

    def __init__(self, spec: str) -> None:
        fmt, sep, device = spec.partition(":")
        if not sep or fmt not in MIC_FORMATS:
            fmt, device = "alsa", spec
        if fmt == "lavfi" and "sample_rate" not in device:
            device += ":sample_rate=48000"
        self.label = f"microphone {fmt}:{device}"
        try:
            self.container: Any = av.open(device, "r", format=fmt)
        except (av.FFmpegError, OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise MediaError(f"no microphone {spec!r} ({fmt}): {reason}") from None
        if not self.container.streams.audio:
            self.container.close()
            raise MediaError(f"microphone {spec!r}: no sound stream")
        self.generated = fmt == "lavfi"  # a generator is not paced by a sound card: pace it here
        self._thread: threading.Thread | None = None

    def start(self, t0: float, sink: AudioSink, stop: threading.Event) -> None:
        def run() -> None:
            samples = 0
            try:
                for frame in self.container.decode(audio=0):
                    if stop.is_set():
                        return
                    if self.generated:
                        t = samples / frame.sample_rate
                        samples += frame.samples
                        stop.wait(max(0.0, t0 + t - time.monotonic()))
                    else:  # the frame was captured just now: it started its duration ago
                        t = max(0.0, time.monotonic() - t0 - frame.samples / frame.sample_rate)
                    sink(frame, t)
            except (av.FFmpegError, OSError) as exc:
                if not stop.is_set():
                    logger.error("%s: %s", self.label, exc)

        self._thread = threading.Thread(target=run, name=self.label, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.join(2.0)
        with contextlib.suppress(Exception):
            self.container.close()


# -- a file standing in for a camera ---------------------------------------------------------------


class FileSource(Source):
    """A video file played in real time (``loop``: from the start again at its end), its first
    audio stream as the microphone. ``t`` is the file's own timeline (plus the loops before)."""

    def __init__(
        self, path: str | Path, size: tuple[int, int] | None = None, loop: bool = False, realtime: bool = True
    ) -> None:
        super().__init__()
        self.path = Path(path)
        self.label = f"file {self.path.name}"
        self.loop, self.realtime = loop, realtime
        container, stream = open_input(self.path)  # MediaError for a missing or unreadable file
        try:
            self.fps = float(frame_rate(stream))
            self.has_audio = bool(container.streams.audio)
            first = next((f for p in demux(container, self.path, stream) for f in decode(p, self.path)), None)
            if first is None:
                raise MediaError(f"{self.path}: the video stream has no decodable frame")
            rgb = frame_to_rgb(first)
        finally:
            container.close()
        self.size = size or even_size(rgb.shape[1], rgb.shape[0])

    def _run(self) -> None:
        start = time.monotonic()
        offset = 0.0
        while not self._stop.is_set():
            end = self._play_once(start, offset)
            if not self.loop or end <= offset:
                return
            offset = end

    def _play_once(self, start: float, offset: float) -> float:
        """Play the file once on the timeline from ``offset``; returns where its end falls."""
        container, stream = open_input(self.path)
        try:
            clock = FrameClock(stream)
            step = 1.0 / self.fps
            audio = container.streams.audio[0] if container.streams.audio else None
            a_base = time_base(audio) if audio is not None else Fraction(1)
            first: float | None = None
            end = offset
            streams: list[Any] = [stream] if audio is None else [stream, audio]
            for packet in demux(container, self.path, *streams):
                if self._stop.is_set():
                    break
                for frame in decode(packet, self.path):
                    if packet.stream.index == stream.index:
                        s = clock.seconds(clock.pts(frame.pts))
                        first = s if first is None else first
                        t = offset + s - first
                        self._wait(start + t)
                        self._video(frame_to_rgb(frame), t)
                        end = max(end, t + step)
                    elif frame.pts is not None:
                        s = float(frame.pts * a_base)
                        t = offset + s - (first if first is not None else 0.0)
                        if t < offset:
                            continue
                        self._wait(start + t)
                        self._audio(frame, t)
                        end = max(end, t + frame.samples / frame.sample_rate)
            return end
        finally:
            container.close()

    def _wait(self, due: float) -> None:
        if self.realtime:
            self._stop.wait(max(0.0, due - time.monotonic()))
