"""Where ``tryon host`` sends the try-on: a file, an RTMP/SRT uplink, a preview window, a virtual
camera (and WHIP, in :mod:`tryon.host.whip`).

Every output takes frames and sound without blocking the caller (the try-on thread for video, the
capture thread for sound): each has its own worker and a bounded queue; when an output falls
behind, its oldest frames are dropped and counted, and the others do not notice. A failing output
logs why, stops taking media and says so in its stats; the others carry on.

Sound comes as ``(samples, t)``: float32 ``(2, n)`` planar stereo at :data:`AUDIO_RATE` Hz.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler
from av.video.frame import VideoFrame
from numpy.typing import NDArray

from tryon.errors import InputError, MediaError
from tryon.media.uplink import Uplink, redact

logger = logging.getLogger(__name__)

AUDIO_RATE = 48000
_MS = Fraction(1, 1000)
_AAC_FRAME = 1024
AUDIO_SLACK_S = 0.1
"""A gap in the sound larger than this is filled with silence in a recording."""
RECORD_SUFFIXES = {".mp4": "mp4", ".m4v": "ipod", ".mov": "mov", ".mkv": "matroska"}

Sound = NDArray[np.float32]


class Output:
    """One destination (see the module's doc). ``name`` is safe to log (no stream key or token)."""

    name = "output"

    def __init__(self) -> None:
        self.failed: str | None = None

    def start(self) -> None:
        """Open the destination; raise a :class:`~tryon.errors.TryOnError` if it cannot be."""

    def push_video(self, rgb: NDArray[np.uint8], t: float) -> None:
        raise NotImplementedError

    def push_audio(self, samples: Sound, t: float) -> None:
        """Sound starting at ``t``; ignored by outputs without sound."""

    def close(self) -> None:
        """Send what is queued and end (bounded in time)."""

    def stats(self) -> dict[str, Any]:
        raise NotImplementedError

    def fail(self, reason: str) -> None:
        if self.failed is None:
            self.failed = reason
            logger.error("%s: %s; this output stops, the others go on", self.name, reason)


class QueuedOutput(Output):
    """An output written by its own worker thread from bounded queues (newest frames win)."""

    def __init__(self, max_video: int = 8, max_audio_s: float = 2.0) -> None:
        super().__init__()
        self._video: collections.deque[tuple[NDArray[np.uint8], float]] = collections.deque()
        self._audio: collections.deque[tuple[Sound, float]] = collections.deque()
        self._max_video = max_video
        self._max_audio = max(1, round(max_audio_s * AUDIO_RATE / 960))
        self._cond = threading.Condition()
        self._closing = False
        self._thread: threading.Thread | None = None
        self.frames = 0
        self.dropped = 0
        self.audio_dropped = 0

    def start(self) -> None:
        self._open()
        self._thread = threading.Thread(target=self._main, name=self.name, daemon=True)
        self._thread.start()

    def push_video(self, rgb: NDArray[np.uint8], t: float) -> None:
        with self._cond:
            if self.failed or self._closing:
                self.dropped += 1
                return
            self._video.append((rgb, t))
            if len(self._video) > self._max_video:
                self._video.popleft()
                self.dropped += 1
            self._cond.notify()

    def push_audio(self, samples: Sound, t: float) -> None:
        with self._cond:
            if self.failed or self._closing:
                return
            self._audio.append((samples, t))
            if len(self._audio) > self._max_audio:
                self._audio.popleft()
                self.audio_dropped += 1
            self._cond.notify()

    def close(self, timeout: float = 10.0) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                logger.warning("%s: did not finish within %.0f s", self.name, timeout)

    def _main(self) -> None:
        try:
            while True:
                with self._cond:
                    if not self._video and not self._audio:
                        if self._closing:
                            break
                        self._cond.wait(0.05)
                    audio = self._audio.popleft() if self._audio else None
                    video = self._video.popleft() if self._video else None
                if audio is not None:
                    self._write_audio(*audio)
                if video is not None:
                    self._write_video(*video)
                    self.frames += 1
                if audio is None and video is None:
                    self._idle()
        except Exception as exc:
            self.fail(f"{type(exc).__name__}: {exc}")
        finally:
            try:
                self._finish()
            except Exception as exc:
                self.fail(f"cannot finish: {type(exc).__name__}: {exc}")

    def _open(self) -> None: ...

    def _write_video(self, rgb: NDArray[np.uint8], t: float) -> None: ...

    def _write_audio(self, samples: Sound, t: float) -> None: ...

    def _idle(self) -> None: ...

    def _finish(self) -> None: ...

    def stats(self) -> dict[str, Any]:
        return {"frames": self.frames, "dropped": self.dropped, "error": self.failed}


def stereo_frame(samples: Sound, fmt: str = "fltp") -> AudioFrame:
    """A PyAV frame of ``(2, n)`` float32 planar stereo at :data:`AUDIO_RATE`."""
    frame = AudioFrame.from_ndarray(np.ascontiguousarray(samples, np.float32), format=fmt, layout="stereo")
    frame.sample_rate = AUDIO_RATE
    return frame


# -- a file ------------------------------------------------------------------------------------


class RecordOutput(QueuedOutput):
    """A file: H.264 (libx264) and, when the source has sound, AAC; ``.mp4``, ``.mov``, ``.m4v`` or
    ``.mkv``. Written in place; closing finalizes it (the MP4 index is written then)."""

    def __init__(
        self, path: str | Path, size: tuple[int, int], fps: float, audio: bool, crf: int = 20
    ) -> None:
        super().__init__(max_video=max(8, round(fps)), max_audio_s=2.0)
        self.path = Path(path)
        self.name = f"record {self.path.name}"
        self.muxer = RECORD_SUFFIXES.get(self.path.suffix.lower())
        if self.muxer is None:
            raise InputError(
                f"--record {self.path}: expected {', '.join(RECORD_SUFFIXES)} (H.264 + AAC), "
                f"got {self.path.suffix or 'no suffix'!r}"
            )
        if not self.path.parent.is_dir():
            raise MediaError(f"--record {self.path}: no such directory {str(self.path.parent)!r}")
        self.size, self.fps, self.audio, self.crf = size, fps, audio, crf
        self._t0: float | None = None
        self._last_ms = -1
        self._audio_pos = 0
        self.container: Any = None
        self.aac: Any = None
        """The AAC stream once the file is open (its worker opens it; stats may be asked before)."""

    def _open(self) -> None:
        try:
            self.container = av.open(str(self.path), "w", format=self.muxer)
        except (av.FFmpegError, OSError) as exc:
            raise MediaError(
                f"--record {self.path}: cannot write: {getattr(exc, 'strerror', None) or exc}"
            ) from None
        rate = Fraction(self.fps).limit_denominator(1001)
        video = self.container.add_stream(
            "libx264", rate=rate, options={"crf": str(self.crf), "preset": "veryfast"}
        )
        video.width, video.height = self.size
        video.pix_fmt = "yuv420p"
        video.codec_context.time_base = _MS
        self.video = video
        if self.audio:
            self.aac = self.container.add_stream("aac", rate=AUDIO_RATE, layout="stereo")
            self.aac.bit_rate = 128_000
            self.resampler = AudioResampler(
                format="fltp", layout="stereo", rate=AUDIO_RATE, frame_size=_AAC_FRAME
            )

    def _since_start(self, t: float) -> float:
        if self._t0 is None:
            self._t0 = t
        return t - self._t0

    def _write_video(self, rgb: NDArray[np.uint8], t: float) -> None:
        ms = round(self._since_start(t) * 1000)
        if ms <= self._last_ms:
            return
        self._last_ms = ms
        frame = VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        frame = frame.reformat(width=self.size[0], height=self.size[1], format="yuv420p")
        frame.pts, frame.time_base = ms, _MS
        self.container.mux(self.video.encode(frame))

    def _write_audio(self, samples: Sound, t: float) -> None:
        if self.aac is None:
            return
        start = round(self._since_start(t) * AUDIO_RATE)
        if start < 0:
            return
        while self._audio_pos + _AAC_FRAME <= start - AUDIO_SLACK_S * AUDIO_RATE:  # a gap: silence
            self._encode_audio(stereo_frame(np.zeros((2, _AAC_FRAME), np.float32)))
        for out in self.resampler.resample(stereo_frame(samples)):
            self._encode_audio(out)

    def _encode_audio(self, frame: AudioFrame) -> None:
        frame.pts, frame.time_base = self._audio_pos, Fraction(1, AUDIO_RATE)
        self._audio_pos += frame.samples
        self.container.mux(self.aac.encode(frame))

    def _finish(self) -> None:
        if self.container is None:
            return
        try:
            self.container.mux(self.video.encode(None))
            if self.aac is not None:
                self.container.mux(self.aac.encode(None))
        finally:
            self.container.close()
        logger.info("%s: %d frames written", self.path, self.frames)

    def stats(self) -> dict[str, Any]:
        return {
            **super().stats(),
            "seconds": round(max(self._last_ms, 0) / 1000, 2),
            "audio": self.aac is not None,
        }


# -- RTMP / SRT ----------------------------------------------------------------------------------


class UplinkOutput(Output):
    """A live platform through :class:`~tryon.media.uplink.Uplink` (already non-blocking, with its
    own reconnects); the URL's stream key is never logged."""

    def __init__(self, url: str, size: tuple[int, int], fps: float, bitrate: int, keyframe_s: float) -> None:
        super().__init__()
        self.uplink = Uplink(url, size=size, fps=fps, video_bitrate=bitrate, keyframe_interval_s=keyframe_s)
        self.name = redact(url)

    def start(self) -> None:
        self.uplink.start()

    def push_video(self, rgb: NDArray[np.uint8], t: float) -> None:
        self.uplink.push_video(rgb, t)

    def push_audio(self, samples: Sound, t: float) -> None:
        self.uplink.push_audio(samples, t, AUDIO_RATE)

    def close(self) -> None:
        self.uplink.close()

    def stats(self) -> dict[str, Any]:
        s = self.uplink.stats
        return {
            "state": s.state,
            "frames": s.frames_sent,
            "dropped": s.frames_dropped,
            "dropped_s": round(s.dropped_seconds, 2),
            "reconnects": s.reconnects,
            "error": s.last_error,
        }


# -- a window ----------------------------------------------------------------------------------


def check_display() -> None:
    """A :class:`MediaError` when there is no display for a window (Linux without X11/Wayland)."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        raise MediaError(
            "--preview: no display here (DISPLAY and WAYLAND_DISPLAY are not set); "
            "run it in a desktop session, or leave --preview out and use --record, --virtual-camera, "
            "--whip or --rtmp"
        )


class PreviewOutput(QueuedOutput):
    """An OpenCV window showing the try-on; its keys go to ``on_key`` (see
    :meth:`tryon.host.control.LookControl.key`)."""

    def __init__(self, on_key: Callable[[int], None], title: str = "tryon host") -> None:
        check_display()
        super().__init__(max_video=1, max_audio_s=0.1)
        self.name = "preview"
        self.on_key, self.title = on_key, title

    def _open(self) -> None:
        import cv2

        try:
            cv2.namedWindow(self.title, cv2.WINDOW_NORMAL)
        except cv2.error as exc:
            raise MediaError(f"--preview: OpenCV cannot open a window here: {exc}") from None

    def push_audio(self, samples: Sound, t: float) -> None:
        return

    def _write_video(self, rgb: NDArray[np.uint8], t: float) -> None:
        import cv2

        cv2.imshow(self.title, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        self._idle()

    def _idle(self) -> None:
        import cv2

        key = cv2.waitKey(1)
        if key != -1:
            self.on_key(key & 0xFF)

    def _finish(self) -> None:
        import cv2

        with contextlib.suppress(cv2.error):
            cv2.destroyWindow(self.title)


# -- a virtual camera --------------------------------------------------------------------------

VIRTUAL_CAMERA_HELP = (
    "install pyvirtualcam (pip install pyvirtualcam, or pip install 'tryon[host]') and load "
    "v4l2loopback (sudo modprobe v4l2loopback devices=1 exclusive_caps=1 card_label=tryon)"
)


def loopback_devices() -> list[str]:
    """``/dev/videoN`` devices that v4l2loopback made (Linux)."""
    found = []
    for name in sorted(Path("/sys/devices/virtual/video4linux").glob("video*/name")):
        with contextlib.suppress(OSError):
            found.append(f"/dev/{name.parent.name}")
    return found


class VirtualCameraOutput(QueuedOutput):
    """A virtual webcam through pyvirtualcam (v4l2loopback on Linux, OBS's virtual camera elsewhere)
    that OBS, a browser or a platform's studio app can pick as its camera."""

    def __init__(self, size: tuple[int, int], fps: float, device: str | None = None) -> None:
        missing = []
        try:
            import pyvirtualcam  # type: ignore[import-not-found, unused-ignore]
        except ImportError:
            pyvirtualcam = None
            missing.append("pyvirtualcam is not installed")
        if sys.platform.startswith("linux") and not (device or loopback_devices()):
            missing.append("no v4l2loopback device")
        if missing:
            raise MediaError(
                f"--virtual-camera: no virtual camera here ({'; '.join(missing)}): {VIRTUAL_CAMERA_HELP}"
            )
        super().__init__(max_video=2, max_audio_s=0.1)
        self.name = "virtual camera"
        self.module: Any = pyvirtualcam
        self.size, self.fps, self.device = size, fps, device
        self.camera: Any = None

    def _open(self) -> None:
        try:
            self.camera = self.module.Camera(
                width=self.size[0],
                height=self.size[1],
                fps=self.fps,
                fmt=self.module.PixelFormat.RGB,
                device=self.device,
            )
        except Exception as exc:  # pyvirtualcam raises RuntimeError/ValueError with its reason
            raise MediaError(f"--virtual-camera: {exc}; {VIRTUAL_CAMERA_HELP}") from None
        self.name = f"virtual camera {self.camera.device}"
        logger.info("%s: %dx%d at %g fps", self.name, *self.size, self.fps)

    def push_audio(self, samples: Sound, t: float) -> None:
        return

    def _write_video(self, rgb: NDArray[np.uint8], t: float) -> None:
        self.camera.send(np.ascontiguousarray(rgb))

    def _finish(self) -> None:
        if self.camera is not None:
            self.camera.close()
