"""Push a processed stream to a live platform: RTMP(S) (FLV) or SRT (MPEG-TS), H.264 + AAC.

``Uplink(url, size=(w, h)).start()``, then :meth:`Uplink.push_video` and :meth:`Uplink.push_audio`
from the try-on path: they never block (a bounded queue of ``queue_s`` seconds; when it is full the
oldest frames are dropped and counted). A worker thread encodes (libx264 ``veryfast`` /
``zerolatency``, a fixed keyframe interval, the given bitrate; AAC) and a relay child process
(:mod:`tryon.media.uplink_relay`) does the network side, so that FFmpeg's blocking network calls
can never stall this process. PyAV's FFmpeg has no SRT: ``srt://`` goes out through Debian's
``/usr/bin/ffmpeg`` as the child instead (:mod:`tryon.media.uplink_ffmpeg`), which keeps the SRT
``passphrase`` and ``streamid`` off its command line. Without audio from the source the audio
track carries silence, as platforms that require one expect.

On a network error (refused, reset, timed out, stalled) the state goes to ``"retrying"``: frames
are dropped and counted while the uplink waits (exponential backoff with jitter), then it
reconnects with fresh encoders, starting with a keyframe. :attr:`Uplink.stats` says how it goes.

The URL's path and query carry the platform's stream key: logs name the scheme and host only.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import math
import random
import threading
import urllib.parse
from dataclasses import dataclass
from typing import Literal

import av
import numpy as np
from av.audio.frame import AudioFrame
from numpy.typing import NDArray

from tryon.errors import InputError, MediaError
from tryon.media.uplink_ffmpeg import ffmpeg_has_srt, split_srt_secrets
from tryon.media.uplink_output import EncoderSettings, OutputFailedError, RelayOutput

logger = logging.getLogger(__name__)

State = Literal["connecting", "live", "retrying", "closed"]
MUXERS = {"rtmp": "flv", "rtmps": "flv", "srt": "mpegts"}
"""URL schemes and the container each carries."""
AAC_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000)


@dataclass(frozen=True)
class Backoff:
    """Delays between reconnection attempts: ``initial_s × factor**attempt`` up to ``max_s``, each
    scaled by a random factor in ``[1 - jitter, 1 + jitter]``."""

    initial_s: float = 0.5
    max_s: float = 10.0
    factor: float = 2.0
    jitter: float = 0.2

    def delay(self, attempt: int) -> float:
        base = min(self.max_s, self.initial_s * self.factor ** min(attempt, 64))
        return base * random.uniform(1 - self.jitter, 1 + self.jitter)


@dataclass
class UplinkStats:
    """What an :class:`Uplink` did so far (a snapshot; :attr:`Uplink.stats` makes a new one)."""

    state: State = "connecting"
    frames_sent: int = 0
    frames_dropped: int = 0
    dropped_seconds: float = 0.0
    """Seconds of video not delivered: dropped while down, or because the uplink was behind."""
    audio_dropped: int = 0
    """Chunks of audio dropped (the video's drops measure the time)."""
    reconnects: int = 0
    """Times the uplink went live again after a failure."""
    last_error: str | None = None


def redact(url: str) -> str:
    """``scheme://host[:port]`` of ``url``: what logs may show (the path and query hold the key)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if _port(parts) else "")


def _port(parts: urllib.parse.SplitResult) -> int | None:
    try:
        return parts.port
    except ValueError:
        return None


def parse_target(url: str) -> tuple[str, str]:
    """``(muxer, redacted url)`` for an uplink URL; :class:`InputError` naming what is expected."""
    expected = "rtmp://host[:port]/app/key, rtmps://host[:port]/app/key or srt://host:port[?options]"
    if not isinstance(url, str):
        raise InputError(f"uplink URL: expected {expected}, got {type(url).__name__}")
    parts = urllib.parse.urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in MUXERS:
        shown = f"{scheme}://" if scheme else "no scheme"
        raise InputError(f"uplink URL: expected {expected}, got {shown}")
    where = redact(url)
    try:
        port = parts.port
    except ValueError:
        got = parts.netloc.rsplit(":", 1)[-1]
        raise InputError(
            f"uplink URL {scheme}://{parts.hostname or '?'}: expected a port 1-65535, got {got!r}"
        ) from None
    if not parts.hostname:
        raise InputError(f"uplink URL: expected {expected}, got {scheme}:// without a host")
    if scheme == "srt":
        if port is None:
            raise InputError(f"uplink URL {where}: expected srt://host:port, got no port")
        split_srt_secrets(url.strip())  # InputError for a secret the child could not be given
        if not pyav_has_srt() and not ffmpeg_has_srt():
            raise MediaError(
                "srt:// needs FFmpeg built with libsrt: PyAV's FFmpeg has no SRT protocol, and "
                "/usr/bin/ffmpeg is missing or has none either (apt-get install ffmpeg)"
            )
    elif len([p for p in parts.path.split("/") if p]) < 2:
        raise InputError(
            f"uplink URL {where}: expected {scheme}://host[:port]/app/stream-key, got no app or key"
        )
    return MUXERS[scheme], where


def pyav_has_srt() -> bool:
    """Whether PyAV's own FFmpeg has the SRT protocol."""
    meta: dict[str, dict[str, object]] = getattr(av, "library_meta", {})
    config = meta.get("libavformat", {}).get("configuration", "")
    return "--enable-libsrt" in str(config)


class Uplink:
    """A live stream to ``url`` (see the module's doc). Thread-safe: push from any thread."""

    def __init__(
        self,
        url: str,
        *,
        size: tuple[int, int],
        fps: float = 30,
        video_bitrate: int = 2_500_000,
        keyframe_interval_s: float = 2.0,
        audio: bool = True,
        audio_rate: int = 48000,
        queue_s: float = 1.0,
        reconnect: Backoff | None = None,
        stall_timeout_s: float = 5.0,
    ) -> None:
        muxer, self.where = parse_target(url)
        width, height = size
        if width <= 0 or height <= 0 or width % 2 or height % 2:
            raise InputError(f"uplink size: expected even positive (width, height), got {size}")
        for name, value in (
            ("fps", fps),
            ("video_bitrate", video_bitrate),
            ("keyframe_interval_s", keyframe_interval_s),
            ("queue_s", queue_s),
            ("stall_timeout_s", stall_timeout_s),
        ):
            if not value > 0 or not math.isfinite(value):
                raise InputError(f"uplink {name}: expected a positive number, got {value}")
        if audio and audio_rate not in AAC_RATES:
            raise InputError(f"uplink audio_rate: expected one of {AAC_RATES}, got {audio_rate}")
        self.settings = EncoderSettings(
            url.strip(), muxer, (width, height), float(fps), int(video_bitrate), keyframe_interval_s,
            audio, audio_rate, stall_timeout_s,
            "ffmpeg" if muxer == "mpegts" and not pyav_has_srt() else "pyav",
        )  # fmt: skip
        self.backoff = reconnect or Backoff()
        self._max_video = max(1, math.ceil(queue_s * fps))
        self._queue_s = queue_s
        self._video: collections.deque[tuple[NDArray[np.uint8], float]] = collections.deque()
        self._audio: collections.deque[tuple[AudioFrame, float, float]] = collections.deque()
        self._audio_queued_s = 0.0
        self._last_push_t: float | None = None
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._stats = UplinkStats()
        self._closing = threading.Event()
        self._down = False  # between a failure and the next attempt: pushes are dropped
        self._thread: threading.Thread | None = None

    # -- the caller's side --------------------------------------------------------------------

    @property
    def stats(self) -> UplinkStats:
        with self._lock:
            return dataclasses.replace(self._stats)

    @property
    def state(self) -> State:
        return self._stats.state

    def start(self) -> Uplink:
        """Start the worker (connecting in the background); returns ``self``."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"uplink {self.where}", daemon=True)
            self._thread.start()
        return self

    def push_video(self, rgb: NDArray[np.uint8], t: float) -> None:
        """Queue an RGB ``uint8`` ``(H, W, 3)`` frame shown at ``t`` seconds (any clock, increasing;
        scaled to the uplink's size if needed). Copies the frame; never blocks."""
        if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            shape = getattr(rgb, "shape", None)
            raise InputError(
                f"uplink video: expected an RGB uint8 (H, W, 3) array, got {type(rgb).__name__} {shape}"
            )
        frame = np.array(rgb, dtype=np.uint8, order="C", copy=True)
        with self._lock:
            last, self._last_push_t = self._last_push_t, t
            duration = min(max(t - last, 0.0), 1.0) if last is not None else 1.0 / self.settings.fps
            if self._down or self._stats.state == "closed":
                if self._down:
                    self._count_drop(duration)
                return
            self._video.append((frame, t))
            if len(self._video) > self._max_video:
                self._video.popleft()
                self._count_drop(duration)
            self._wake.notify()

    def push_audio(
        self, samples: NDArray[np.generic] | AudioFrame, t: float, rate: int | None = None
    ) -> None:
        """Queue audio starting at ``t`` seconds (the video's clock): a PyAV ``AudioFrame``, or a
        ``(channels, n)`` array (float in [-1, 1] or int16, 1 or 2 channels) at ``rate`` Hz (the
        uplink's rate by default). Never blocks; ignored when the uplink has no audio."""
        if not self.settings.audio:
            return
        frame = (
            samples
            if isinstance(samples, AudioFrame)
            else _audio_frame(samples, rate or self.settings.audio_rate)
        )
        duration = frame.samples / frame.sample_rate
        with self._lock:
            if self._down or self._stats.state == "closed":
                self._stats.audio_dropped += self._down
                return
            self._audio.append((frame, t, duration))
            self._audio_queued_s += duration
            while self._audio_queued_s > self._queue_s and len(self._audio) > 1:
                self._audio_queued_s -= self._audio.popleft()[2]
                self._stats.audio_dropped += 1
            self._wake.notify()

    def close(self, timeout: float = 5.0) -> None:
        """Send what is queued, end the stream and stop the worker (bounded by ``timeout``)."""
        self._closing.set()
        with self._lock:
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                logger.warning("uplink %s: the worker did not stop within %.0f s", self.where, timeout)
        self._set_state("closed")

    def __enter__(self) -> Uplink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _count_drop(self, duration: float) -> None:
        self._stats.frames_dropped += 1
        self._stats.dropped_seconds += duration

    def _set_state(self, state: State) -> None:
        with self._lock:
            if self._stats.state != "closed":
                self._stats.state = state

    # -- the worker ---------------------------------------------------------------------------

    def _run(self) -> None:
        attempt = 0
        failed = False
        while not self._closing.is_set():
            output: RelayOutput | None = None
            try:
                output = RelayOutput(self.settings)
                self._pump(output, failed)
                output.finish()
                break
            except (OutputFailedError, av.FFmpegError, OSError) as exc:
                if output is not None:
                    if output.live.is_set():
                        attempt = 0
                    output.abort()
                reason = str(exc) if isinstance(exc, OutputFailedError) else f"{type(exc).__name__}: {exc}"
                failed = True
                with self._lock:
                    self._stats.last_error = reason
                    if self._stats.state != "closed":
                        self._stats.state = "retrying"
                    self._down = True
                    self._drop_queued()
                delay = self.backoff.delay(attempt)
                attempt += 1
                logger.warning("uplink %s: %s; retrying in %.1f s", self.where, reason, delay)
                self._closing.wait(delay)
                with self._lock:
                    self._down = False
        self._set_state("closed")

    def _pump(self, output: RelayOutput, failed: bool) -> None:
        """Feed ``output`` until closing (then drain the queue); raise OutputFailedError on a failure."""
        live = False
        while True:
            if not live and output.live.is_set():
                live = True
                with self._lock:
                    self._stats.reconnects += failed
                    if self._stats.state != "closed":
                        self._stats.state = "live"
                logger.info("uplink %s: live", self.where)
            with self._lock:
                if not self._video and not self._audio:
                    if self._closing.is_set():
                        return
                    self._wake.wait(0.1)
                video = self._video.popleft() if self._video else None
                audio = self._audio.popleft() if self._audio else None
                if audio is not None:
                    self._audio_queued_s -= audio[2]
            if audio is not None:
                output.send_audio(audio[0], audio[1])
            if video is not None and output.send_video(*video):
                with self._lock:
                    self._stats.frames_sent += 1
            output.check()

    def _drop_queued(self) -> None:
        """Count what is queued as dropped (lock held)."""
        step = 1.0 / self.settings.fps
        for _ in self._video:
            self._count_drop(step)
        self._stats.audio_dropped += len(self._audio)
        self._video.clear()
        self._audio.clear()
        self._audio_queued_s = 0.0


def _audio_frame(samples: NDArray[np.generic], rate: int) -> AudioFrame:
    array = np.asarray(samples)
    if array.ndim != 2 or array.shape[0] not in (1, 2):
        raise InputError(
            f"uplink audio: expected a (channels, n) array with 1 or 2 channels, got {array.shape}"
        )
    if array.dtype == np.int16:
        fmt, data = "s16p", np.ascontiguousarray(array)
    elif np.issubdtype(array.dtype, np.floating):
        fmt, data = "fltp", np.ascontiguousarray(array, dtype=np.float32)
    else:
        raise InputError(f"uplink audio: expected float or int16 samples, got {array.dtype}")
    frame = AudioFrame.from_ndarray(data, format=fmt, layout="mono" if array.shape[0] == 1 else "stereo")
    frame.sample_rate = rate
    return frame
