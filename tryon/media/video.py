"""Video files in: probing and decoding to RGB ``uint8`` frames with timestamps, with PyAV.

Frames come out upright (a rotation in the stream's display matrix, as phones write, is applied)
and converted with the colour matrix and range the stream declares; an untagged stream is read as
BT.709 from 720 lines up and BT.601 below, as players do. Timestamps are the frames' presentation
times, ``pts × time_base`` seconds, made strictly increasing (a missing or repeated ``pts`` is
replaced by the previous one plus a frame).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from av.container import InputContainer
from av.packet import Packet
from av.stream import Disposition
from av.video.frame import VideoFrame
from av.video.stream import VideoStream
from numpy.typing import NDArray

from tryon.errors import MediaError

logger = logging.getLogger(__name__)

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v")
"""Suffixes :func:`is_video` recognises (any case)."""

DEFAULT_FPS = Fraction(30)
"""Frame rate assumed when a stream declares none."""

_UNSPECIFIED_COLORSPACE = 2  # AVCOL_SPC_UNSPECIFIED
_HD_LINES = 720


def is_video(path: str | Path) -> bool:
    """Whether ``path`` names a video, judged by its suffix only (the file need not exist)."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe_video` finds in a video file.

    ``width``/``height`` are those of the frames :func:`iter_video_frames` yields (after the
    display rotation). ``fps`` is the average frame rate (0.0 if the file declares none);
    ``frames`` and ``duration_s`` are ``None`` where the container does not say (``frames`` is
    often unknown in Matroska/WebM). ``codec`` is the video codec's name, e.g. ``"h264"``.
    """

    width: int
    height: int
    fps: float
    frames: int | None
    duration_s: float | None
    has_audio: bool
    codec: str


def open_input(path: str | Path) -> tuple[InputContainer, VideoStream]:
    """Open ``path`` for decoding; return the container and its first video stream (cover art,
    an attached picture, is passed over).

    Raises :class:`MediaError` naming the path when the file is missing, not a media file FFmpeg
    can read, or has no video stream.
    """
    p = Path(path)
    if not p.exists():
        raise MediaError(f"{p}: no such file")
    if p.is_dir():
        raise MediaError(f"{p}: is a directory, not a video")
    try:
        container = av.open(str(p), "r")
    except av.FFmpegError as exc:
        raise MediaError(f"{p}: not a video FFmpeg can read ({ffmpeg_reason(exc)})") from exc
    except OSError as exc:
        raise MediaError(f"{p}: cannot read the file: {exc.strerror or exc}") from exc
    videos = [s for s in container.streams.video if not s.disposition & Disposition.attached_pic]
    if not videos:
        container.close()
        raise MediaError(f"{p}: no video stream")
    stream = videos[0]
    stream.thread_type = "AUTO"
    return container, stream


def frame_rate(stream: VideoStream) -> Fraction:
    """The stream's average frame rate, else its guessed rate, else :data:`DEFAULT_FPS`."""
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate is not None and rate > 0:
            return Fraction(rate)
    return DEFAULT_FPS


def time_base(stream: Any) -> Fraction:
    tb = stream.time_base
    return Fraction(tb) if tb else Fraction(1, 90_000)


def stream_frames(stream: VideoStream) -> int | None:
    """The frame count the container declares, or ``None``."""
    return int(stream.frames) if stream.frames and stream.frames > 0 else None


def estimated_frames(container: InputContainer, stream: VideoStream) -> int | None:
    """The declared frame count, else duration × frame rate, else ``None`` (for progress bars)."""
    frames = stream_frames(stream)
    if frames is not None:
        return frames
    duration = _duration_s(container, stream)
    return round(duration * float(frame_rate(stream))) if duration else None


def _duration_s(container: InputContainer, stream: VideoStream) -> float | None:
    if stream.duration:
        return float(stream.duration * time_base(stream))
    if container.duration:
        return container.duration / av.time_base
    return None


def ffmpeg_reason(exc: BaseException) -> str:
    """The short reason of an FFmpeg (or OS) error, without the file name."""
    strerror = getattr(exc, "strerror", None)
    return str(strerror) if strerror else str(exc)


def demux(container: InputContainer, path: Path, *streams: Any) -> Iterator[Packet[Any]]:
    """``container.demux(*streams)``, FFmpeg errors raised as :class:`MediaError`."""
    packets = container.demux(*streams)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except av.FFmpegError as exc:
            raise MediaError(f"{path}: cannot read the file: {ffmpeg_reason(exc)}") from exc
        yield packet


def decode(packet: Packet[Any], path: Path) -> list[Any]:
    """``packet.decode()``, FFmpeg errors raised as :class:`MediaError`."""
    try:
        return list(packet.decode())
    except av.FFmpegError as exc:
        kind = packet.stream.type
        raise MediaError(f"{path}: cannot decode the {kind} stream: {ffmpeg_reason(exc)}") from exc


class FrameClock:
    """Makes a stream's frame ``pts`` strictly increasing (in the stream's time base)."""

    def __init__(self, stream: VideoStream) -> None:
        self.time_base = time_base(stream)
        self.step = max(1, round(1 / (frame_rate(stream) * self.time_base)))
        self.last: int | None = None
        self._warned = False

    def pts(self, pts: int | None) -> int:
        """The frame's ``pts``, or the previous one plus a frame where missing or not increasing."""
        if self.last is None:
            fixed = 0 if pts is None else pts
        elif pts is None or pts <= self.last:
            fixed = self.last + (self.step if pts is None else 1)
            if not self._warned:
                logger.warning("video frame pts %s after %s: timestamps repaired", pts, self.last)
                self._warned = True
        else:
            fixed = pts
        self.last = fixed
        return fixed

    def seconds(self, pts: int) -> float:
        return float(pts * self.time_base)


def frame_to_rgb(frame: VideoFrame) -> NDArray[np.uint8]:
    """A decoded frame as an upright C-contiguous RGB ``uint8`` ``(H, W, 3)`` array."""
    kwargs: dict[str, Any] = {}
    if int(frame.colorspace) == _UNSPECIFIED_COLORSPACE:
        kwargs["src_colorspace"] = "ITU709" if frame.height >= _HD_LINES else "ITU601"
    if int(frame.color_range) in (1, 2):  # MPEG (limited) or JPEG (full): say so to swscale
        kwargs["src_color_range"] = int(frame.color_range)
    rgb: NDArray[np.uint8] = np.asarray(frame.to_ndarray(format="rgb24", **kwargs), dtype=np.uint8)
    rotation = frame.rotation
    if rotation:
        quarter = round(rotation / 90)
        if quarter * 90 != rotation:
            logger.warning("display rotation of %s degrees is not a multiple of 90: ignored", rotation)
        else:
            # The display matrix turns the frame counter-clockwise by ``rotation`` degrees.
            rgb = np.rot90(rgb, quarter % 4)
    return np.ascontiguousarray(rgb)


def probe_video(path: str | Path) -> VideoInfo:
    """Describe the first video stream of ``path`` (decodes one frame to find its display size).

    Raises :class:`MediaError` when the file is missing, unreadable, has no video stream or no
    decodable frame.
    """
    p = Path(path)
    container, stream = open_input(p)
    try:
        first: VideoFrame | None = None
        for packet in demux(container, p, stream):
            frames = decode(packet, p)
            if frames:
                first = frames[0]
                break
        if first is None:
            raise MediaError(f"{p}: the video stream has no decodable frame")
        rotated = round(first.rotation / 90) % 2 == 1 if first.rotation else False
        width, height = (first.height, first.width) if rotated else (first.width, first.height)
        rate = stream.average_rate or stream.guessed_rate
        return VideoInfo(
            width=width,
            height=height,
            fps=float(rate) if rate else 0.0,
            frames=stream_frames(stream),
            duration_s=_duration_s(container, stream),
            has_audio=bool(container.streams.audio),
            codec=stream.codec_context.name,
        )
    finally:
        container.close()


def iter_video_frames(path: str | Path) -> Iterator[tuple[NDArray[np.uint8], float]]:
    """Decode the first video stream of ``path``: ``(rgb, timestamp_s)`` per frame, in order.

    The file is opened at once (a missing or unreadable file raises :class:`MediaError` here, not
    at the first ``next``) and closed when the iterator is exhausted or closed.
    """
    p = Path(path)
    container, stream = open_input(p)
    return _iter_frames(container, stream, p)


def _iter_frames(
    container: InputContainer, stream: VideoStream, path: Path
) -> Iterator[tuple[NDArray[np.uint8], float]]:
    clock = FrameClock(stream)
    try:
        for packet in demux(container, path, stream):
            for frame in decode(packet, path):
                pts = clock.pts(frame.pts)
                yield frame_to_rgb(frame), clock.seconds(pts)
    finally:
        container.close()
