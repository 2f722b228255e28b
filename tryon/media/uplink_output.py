"""One connection of an :class:`~tryon.media.uplink.Uplink`: the encoders and the relay child.

:class:`RelayOutput` encodes on the caller's thread (the uplink's worker; libx264 and the muxer run
without the GIL) into an FLV stream held in memory, and writes it to a child process
(:mod:`tryon.media.uplink_relay`) that sends it to the platform. Every connection has fresh
encoders, so it starts with a keyframe, and its own timeline from 0. For SRT when PyAV's FFmpeg
lacks it, the child is Debian's ffmpeg (:mod:`tryon.media.uplink_ffmpeg`) on the same pipe.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import select
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import av
import numpy as np
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler
from av.video.frame import VideoFrame
from numpy.typing import NDArray

from tryon.media.uplink_ffmpeg import FfmpegRelay

logger = logging.getLogger(__name__)

RELAY = Path(__file__).with_name("uplink_relay.py")
_MS = Fraction(1, 1000)
PIPE_FORMAT = "flv"
"""The container on the pipe to the relay."""
_AAC_FRAME = 1024
_PIPE_BYTES = 1 << 18
_F_SETPIPE_SZ = 1031
SILENCE_AFTER_S = 0.5
"""Silence fills the audio track when the source's audio is this far behind the video."""
AUDIO_SLACK_S = 0.1
SILENCE_LEAD_S = 0.1
"""Silence runs this far ahead of the video (past the AAC encoder's delay), so that the muxers,
which interleave by time, never hold a video frame waiting for audio."""
"""A gap in the source's audio larger than this is filled with silence."""


class OutputFailedError(Exception):
    """The connection failed (the relay exited, stalled, or FFmpeg refused a frame)."""


@dataclass(frozen=True)
class EncoderSettings:
    url: str
    muxer: str
    size: tuple[int, int]
    fps: float
    video_bitrate: int
    keyframe_interval_s: float
    audio: bool
    audio_rate: int
    stall_timeout_s: float
    relay: Literal["pyav", "ffmpeg"] = "pyav"
    """The child: ``uplink_relay.py`` (PyAV) or ``/usr/bin/ffmpeg`` (SRT without libsrt in PyAV)."""


class _Sink:
    """A write-only file for PyAV: collects what the muxer writes."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, chunk: bytes) -> int:
        self.data += chunk
        return len(chunk)


class RelayOutput:
    """Encoders writing to a relay child connected to ``settings.url``."""

    def __init__(self, settings: EncoderSettings) -> None:
        self.s = settings
        self.error: str | None = None
        self.live = threading.Event()
        self._t0: float | None = None
        self._last_ms = -1
        self._audio_pos = 0
        self._audio_t = -1.0e9
        self._sink = _Sink()
        self._ffmpeg: FfmpegRelay | None = None
        if settings.relay == "ffmpeg":
            self._ffmpeg = FfmpegRelay(settings.url, self.live)
            self.proc = self._ffmpeg.proc
            self._reader = self._ffmpeg.reader
        else:
            self.proc = subprocess.Popen(
                [sys.executable, "-P", str(RELAY), settings.muxer],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            assert self.proc.stdout is not None
            self._reader = threading.Thread(target=self._read_status, args=(self.proc.stdout,), daemon=True)
            self._reader.start()
            self._sink.data += settings.url.encode() + b"\n"
        assert self.proc.stdin is not None
        self._fd = self.proc.stdin.fileno()
        with contextlib.suppress(OSError):  # a bigger pipe where the system allows it
            fcntl.fcntl(self._fd, _F_SETPIPE_SZ, _PIPE_BYTES)
        os.set_blocking(self._fd, False)
        self.container: Any = av.open(
            self._sink, "w", format=PIPE_FORMAT, options={"flush_packets": "1"}, buffer_size=4096
        )
        self._add_streams()

    def _add_streams(self) -> None:
        s = self.s
        keyint = max(1, round(s.keyframe_interval_s * s.fps))
        rate = Fraction(s.fps).limit_denominator(1001)
        options = {
            "preset": "veryfast",
            "tune": "zerolatency",
            "x264-params": f"keyint={keyint}:min-keyint={keyint}:scenecut=0",
            "maxrate": str(s.video_bitrate),
            "bufsize": str(s.video_bitrate),
        }
        video = self.container.add_stream("libx264", rate=rate, options=options)
        video.width, video.height = s.size
        video.pix_fmt = "yuv420p"
        video.bit_rate = s.video_bitrate
        video.codec_context.gop_size = keyint
        video.codec_context.time_base = _MS
        self.video = video
        self.audio: Any = None
        self.resampler: AudioResampler | None = None
        if s.audio:
            self.audio = self.container.add_stream("aac", rate=s.audio_rate, layout="stereo")
            self.audio.bit_rate = 128_000
            self.resampler = AudioResampler(
                format="fltp", layout="stereo", rate=s.audio_rate, frame_size=_AAC_FRAME
            )

    def _read_status(self, stdout: Any) -> None:
        for raw in stdout:
            line = raw.decode(errors="replace").strip()
            if line == "live":
                self.live.set()
            elif line.startswith("error "):
                self.error = line[len("error ") :]

    # -- media --------------------------------------------------------------------------------

    def send_video(self, rgb: NDArray[np.uint8], t: float) -> bool:
        """Encode and send one frame; ``False`` if its time is not after the previous frame's."""
        if self._t0 is None:
            self._t0 = t
        t0 = self._t0
        ms = round((t - t0) * 1000)
        if ms <= self._last_ms:
            return False
        self._last_ms = ms
        frame = VideoFrame.from_numpy_buffer(rgb, format="rgb24")  # no copy while holding the GIL
        width, height = self.s.size
        frame = frame.reformat(width=width, height=height, format="yuv420p")
        frame.pts, frame.time_base = ms, _MS
        self._mux(self.video.encode(frame))
        if self.audio is not None and self._audio_t < t - SILENCE_AFTER_S:
            self._silence_until(round((t - t0 + SILENCE_LEAD_S) * self.s.audio_rate))
        self.flush()
        return True

    def send_audio(self, frame: AudioFrame, t: float) -> None:
        """Encode the source's audio starting at ``t`` (seconds, the video's clock)."""
        if self.audio is None or self.resampler is None:
            return
        t0 = self._t0
        if t0 is None:  # the stream starts with the video's keyframe: the relay probes it first
            return
        start = round((t - t0) * self.s.audio_rate)
        if start < 0:
            return
        self._audio_t = t
        if start > self._audio_pos + AUDIO_SLACK_S * self.s.audio_rate:
            self._silence_until(start)
        frame.pts = None
        for out in self.resampler.resample(frame):
            self._encode_audio(out)
        self.flush()

    def _silence_until(self, position: int) -> None:
        assert self.resampler is not None
        while self._audio_pos + _AAC_FRAME <= position:
            silence = AudioFrame.from_ndarray(
                np.zeros((2, _AAC_FRAME), np.float32), format="fltp", layout="stereo"
            )
            silence.sample_rate = self.s.audio_rate
            self._encode_audio(silence)

    def _encode_audio(self, frame: AudioFrame) -> None:
        frame.pts = self._audio_pos
        frame.time_base = Fraction(1, self.s.audio_rate)
        self._audio_pos += frame.samples
        self._mux(self.audio.encode(frame))

    def _mux(self, packets: list[Any]) -> None:
        try:
            self.container.mux(packets)
        except av.FFmpegError as exc:
            raise OutputFailedError(f"muxing failed: {exc.strerror or exc}") from exc

    # -- the pipe -----------------------------------------------------------------------------

    def flush(self) -> None:
        """Write what the muxer produced to the relay; raise :class:`OutputFailedError` if the relay
        exited or did not take a byte for ``stall_timeout_s`` seconds."""
        data = self._sink.data
        deadline = time.monotonic() + self.s.stall_timeout_s
        while data:
            try:
                written = os.write(self._fd, data)
            except BlockingIOError:
                written = 0
            except (BrokenPipeError, OSError) as exc:
                raise OutputFailedError(self._exit_reason(f"relay pipe: {exc.strerror or exc}")) from exc
            if written:
                del data[:written]
                deadline = time.monotonic() + self.s.stall_timeout_s
                continue
            self.check()
            left = deadline - time.monotonic()
            if left <= 0:
                raise OutputFailedError(f"stalled: the network took nothing for {self.s.stall_timeout_s:g} s")
            select.select([], [self._fd], [], min(left, 0.1))

    def check(self) -> None:
        """Raise :class:`OutputFailedError` if the relay has exited."""
        if self.proc.poll() is not None:
            raise OutputFailedError(self._exit_reason(f"relay exited with {self.proc.returncode}"))

    def _exit_reason(self, fallback: str) -> str:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(0.5)
        self._reader.join(0.5)  # the child's last words
        if self._ffmpeg is not None:
            self.error = self._ffmpeg.reason()
        return self.error or fallback

    def finish(self, timeout: float = 3.0) -> None:
        """Flush the encoders, end the stream and let the relay close the connection."""
        try:
            self._mux(self.video.encode(None))
            if self.audio is not None:
                self._mux(self.audio.encode(None))
            self.container.close()
            self.flush()
        except (OutputFailedError, av.FFmpegError, OSError) as exc:
            logger.debug("uplink: ending the stream: %s", exc)
        with contextlib.suppress(OSError):
            self.proc.stdin.close()  # type: ignore[union-attr]
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.abort()

    def abort(self) -> None:
        """Kill the relay and drop the encoders (after a failure)."""
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(2.0)
        with contextlib.suppress(Exception):
            self.container.close()
        with contextlib.suppress(OSError):
            self.proc.stdin.close()  # type: ignore[union-attr]
