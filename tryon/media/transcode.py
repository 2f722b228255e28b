"""Video through a per-frame function: decode, ``fn(frame, t)``, encode, audio kept.

Video is encoded as H.264 (libx264, yuv420p, CRF, preset ``veryfast``) into ``.mp4``, ``.m4v``,
``.mov`` and ``.mkv``, and as VP9 (else VP8) into ``.webm``. Each output frame keeps its input
frame's presentation time (variable frame rate survives). The output size is that of ``fn``'s
first result; 4:2:0 chroma needs even sides, so an odd width or height is **padded by one pixel**
repeating the last column or row (nothing of ``fn``'s picture is lost; the file is one pixel
wider or taller). The colour is converted with BT.709 limited range and tagged so.

The first audio stream is kept: its packets are copied unchanged when the output container takes
the codec (e.g. AAC in MP4, Opus in WebM), else it is re-encoded to AAC (MP4/MOV/MKV) or Opus
(WebM), mono if the source is mono, else stereo. Audio and video keep their timestamps, so they
stay in sync. Other streams (subtitles, data) are dropped.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import av
import numpy as np
from av.audio.stream import AudioStream
from av.container import InputContainer, OutputContainer
from av.packet import Packet
from av.video.frame import VideoFrame
from av.video.stream import VideoStream
from numpy.typing import NDArray
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from tryon.errors import InputError, MediaError
from tryon.media.images import check_rgb
from tryon.media.video import (
    FrameClock,
    decode,
    demux,
    estimated_frames,
    ffmpeg_reason,
    frame_rate,
    frame_to_rgb,
    open_input,
)

logger = logging.getLogger(__name__)

FrameFn = Callable[[NDArray[np.uint8], float], NDArray[np.uint8]]
AudioMode = Literal["copied", "transcoded", "none"]

OUTPUT_MUXERS = {".mp4": "mp4", ".m4v": "ipod", ".mov": "mov", ".mkv": "matroska", ".webm": "webm"}
"""Output suffix → FFmpeg muxer."""

_COPYABLE_AUDIO: dict[str, frozenset[str]] = {
    "mp4": frozenset({"aac", "mp3", "opus", "flac", "alac", "ac3", "eac3"}),
    "ipod": frozenset({"aac", "alac", "ac3"}),
    "mov": frozenset({"aac", "mp3", "alac", "ac3", "eac3", "pcm_s16le", "pcm_s16be", "pcm_s24le"}),
    "matroska": frozenset(
        {"aac", "mp3", "mp2", "opus", "vorbis", "flac", "alac", "ac3", "eac3", "pcm_s16le", "pcm_s24le"}
    ),
    "webm": frozenset({"opus", "vorbis"}),
}
"""Audio codecs copied unchanged into each muxer (kept to those players handle there)."""

_AAC_RATES = frozenset({96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000})
_BT709 = 1  # AVCOL_SPC_BT709 == AVCOL_PRI_BT709 == AVCOL_TRC_BT709
_LIMITED_RANGE = 1  # AVCOL_RANGE_MPEG


@dataclass(frozen=True)
class TranscodeStats:
    """What :func:`transcode_video` did: frames encoded, encoded size (after any padding to even
    sides), the input frame rate, what happened to the audio, and the wall time in seconds."""

    frames: int
    width: int
    height: int
    fps: float
    audio: AudioMode
    seconds: float


def _has_encoder(name: str) -> bool:
    try:
        av.codec.Codec(name, "w")
    except Exception:  # UnknownCodecError, or a build without the encoder
        return False
    return True


def _video_encoder(muxer: str, crf: int, dst: Path) -> tuple[str, dict[str, str]]:
    if muxer != "webm":
        if not _has_encoder("libx264"):
            raise MediaError(f"{dst}: this FFmpeg build has no libx264 encoder for H.264")
        return "libx264", {"crf": str(crf), "preset": "veryfast"}
    vpx_crf = str(min(63, max(4, round(crf * 31 / 18))))  # x264 CRF 18 ≈ libvpx CRF 31
    if _has_encoder("libvpx-vp9"):
        return "libvpx-vp9", {"crf": vpx_crf, "b": "0", "deadline": "good", "cpu-used": "4", "row-mt": "1"}
    if _has_encoder("libvpx"):
        return "libvpx", {"crf": vpx_crf, "b": "20M", "deadline": "good", "cpu-used": "4"}
    raise MediaError(f"{dst}: this FFmpeg build has no VP9 or VP8 encoder for WebM; write .mp4 instead")


class _Transcode:
    """One transcode: demux in file order, video through ``fn`` and the encoder, audio copied or
    re-encoded; the output streams are created at the first ``fn`` result (its size)."""

    def __init__(self, src: Path, dst: Path, tmp: Path, fn: FrameFn, crf: int) -> None:
        self.src, self.dst, self.fn = src, dst, fn
        self.muxer = OUTPUT_MUXERS[dst.suffix.lower()]
        self.codec, self.options = _video_encoder(self.muxer, crf, dst)
        self.inp: InputContainer
        self.in_v: VideoStream
        self.inp, self.in_v = open_input(src)
        self.in_a: AudioStream | None = self.inp.streams.audio[0] if self.inp.streams.audio else None
        self.clock = FrameClock(self.in_v)
        self.rate = frame_rate(self.in_v)
        self.total = estimated_frames(self.inp, self.in_v)
        self.out: OutputContainer | None = None
        self.tmp = tmp
        self.out_v: VideoStream | None = None
        self.out_a: AudioStream | None = None
        self.audio: AudioMode = "none"
        self.shape: tuple[int, ...] = ()
        self.pad = (0, 0)
        self.pending: list[Packet[Any]] = []  # audio read before the output streams exist
        self.frames = 0

    def open_output(self) -> None:
        options = {"movflags": "+faststart"} if self.muxer in ("mp4", "ipod", "mov") else {}
        try:
            self.out = av.open(str(self.tmp), "w", format=self.muxer, options=options)
        except (av.FFmpegError, OSError) as exc:
            raise MediaError(f"{self.dst}: cannot write here: {ffmpeg_reason(exc)}") from exc

    def run(self, on_frame: Callable[[], None]) -> None:
        streams: list[Any] = [self.in_v] if self.in_a is None else [self.in_v, self.in_a]
        for packet in demux(self.inp, self.src, *streams):
            if packet.stream.index == self.in_v.index:
                for frame in decode(packet, self.src):
                    self._video_frame(frame)
                    on_frame()
            elif self.out_v is None:
                self.pending.append(packet)
            else:
                self._audio_packet(packet)
        if self.out_v is None:
            raise MediaError(f"{self.src}: the video stream has no decodable frame")
        self._mux(self._encode(self.out_v, None))
        if self.audio == "transcoded" and self.out_a is not None:
            self._mux(self._encode(self.out_a, None))

    def finish(self) -> None:
        """Write the trailer and close the output."""
        assert self.out is not None
        try:
            self.out.close()
        except av.FFmpegError as exc:
            raise MediaError(f"{self.dst}: cannot finish writing: {ffmpeg_reason(exc)}") from exc

    def close(self, failed: bool) -> None:
        if failed and self.out is not None:
            with contextlib.suppress(Exception):
                self.out.close()
        self.inp.close()

    def _video_frame(self, frame: VideoFrame) -> None:
        pts = self.clock.pts(frame.pts)
        result = self.fn(frame_to_rgb(frame), self.clock.seconds(pts))
        out = check_rgb(result, f"frame {self.frames}: fn result")
        if self.out_v is None:
            self._add_streams(out.shape)
        elif out.shape != self.shape:
            raise InputError(
                f"frame {self.frames}: fn returned shape {out.shape}, expected {self.shape} "
                "(all frames must have the size of the first)"
            )
        if self.pad != (0, 0):
            out = np.pad(out, ((0, self.pad[0]), (0, self.pad[1]), (0, 0)), mode="edge")
        rgb = VideoFrame.from_ndarray(np.ascontiguousarray(out), format="rgb24")
        yuv = rgb.reformat(format="yuv420p", dst_colorspace=_BT709, dst_color_range=_LIMITED_RANGE)
        yuv.colorspace, yuv.color_range = _BT709, _LIMITED_RANGE
        yuv.pts, yuv.time_base = pts, self.clock.time_base
        assert self.out_v is not None
        self._mux(self._encode(self.out_v, yuv))
        self.frames += 1

    def _add_streams(self, shape: tuple[int, ...]) -> None:
        assert self.out is not None
        self.shape = shape
        height, width = shape[:2]
        self.pad = (height % 2, width % 2)
        if self.pad != (0, 0):
            logger.info(
                "%s: %dx%d frames padded to %dx%d (4:2:0 needs even sides) repeating the edge",
                self.dst, width, height, width + self.pad[1], height + self.pad[0],
            )  # fmt: skip
        stream = self.out.add_stream(self.codec, rate=self.rate, options=self.options)
        assert isinstance(stream, VideoStream)
        stream.width, stream.height = width + self.pad[1], height + self.pad[0]
        stream.pix_fmt = "yuv420p"
        stream.time_base = self.clock.time_base
        cc = stream.codec_context
        cc.time_base = self.clock.time_base
        cc.colorspace = cc.color_primaries = cc.color_trc = _BT709
        cc.color_range = _LIMITED_RANGE
        self.out_v = stream
        if self.in_a is not None:
            self._add_audio(self.in_a)
        for packet in self.pending:
            self._audio_packet(packet)
        self.pending.clear()

    def _add_audio(self, src: AudioStream) -> None:
        assert self.out is not None
        name = src.codec_context.codec.canonical_name
        if name in _COPYABLE_AUDIO[self.muxer] and name in self.out.supported_codecs:
            self.out_a = self.out.add_stream_from_template(src)
            self.audio = "copied"
            logger.debug("%s: audio %s copied", self.dst, name)
            return
        channels = src.codec_context.channels
        layout = "mono" if channels == 1 else "stereo"
        if self.muxer == "webm":
            codec, rate, bit_rate = "libopus", 48000, 64000 if channels == 1 else 128000
        else:
            rate = src.codec_context.sample_rate if src.codec_context.sample_rate in _AAC_RATES else 48000
            codec, bit_rate = "aac", 96000 if channels == 1 else 160000
        if not _has_encoder(codec):
            raise MediaError(f"{self.dst}: audio {name} must be re-encoded but there is no {codec} encoder")
        stream = self.out.add_stream(codec, rate=rate, layout=layout)
        assert isinstance(stream, AudioStream)
        stream.bit_rate = bit_rate
        self.out_a = stream
        self.audio = "transcoded"
        logger.info("%s: audio %s re-encoded to %s (%s, %d Hz)", self.dst, name, codec, layout, rate)

    def _audio_packet(self, packet: Packet[Any]) -> None:
        assert self.out_a is not None
        if self.audio == "copied":
            if packet.size == 0:  # the demuxer's end-of-stream marker
                return
            packet.stream = self.out_a
            self._mux([packet])
            return
        for frame in decode(packet, self.src):
            self._mux(self._encode(self.out_a, frame))

    def _encode(self, stream: Any, frame: Any) -> list[Packet[Any]]:
        try:
            return list(stream.encode(frame))
        except av.FFmpegError as exc:
            reason = ffmpeg_reason(exc)
            raise MediaError(f"{self.dst}: cannot encode the {stream.type} stream: {reason}") from exc

    def _mux(self, packets: Iterable[Packet[Any]]) -> None:
        assert self.out is not None
        try:
            for packet in packets:
                self.out.mux_one(packet)
        except av.FFmpegError as exc:
            raise MediaError(f"{self.dst}: cannot write: {ffmpeg_reason(exc)}") from exc


def transcode_video(
    src: str | Path,
    dst: str | Path,
    fn: FrameFn,
    *,
    progress: bool = True,
    crf: int = 18,
) -> TranscodeStats:
    """Decode every video frame of ``src``, pass it through ``fn(frame_rgb, timestamp_s)`` and
    encode the results to ``dst``, keeping the audio and the timestamps (see the module doc).

    ``fn`` gets RGB ``uint8`` ``(H, W, 3)`` frames and must return the same form; its first
    result sets the output size and every later one must match it (else :class:`InputError`).
    ``crf`` is x264's (0-51, lower is better; mapped onto libvpx's scale for WebM). A progress
    bar is drawn on stderr when ``progress``. The output is written to a temporary file beside
    ``dst`` and renamed into place on success; on any failure, including an exception from
    ``fn`` (re-raised unchanged), no ``dst`` or temporary file is left. Unreadable input, an
    unknown output suffix or an unwritable destination raise :class:`MediaError`.
    """
    src_p, dst_p = Path(src), Path(dst)
    if dst_p.suffix.lower() not in OUTPUT_MUXERS:
        raise MediaError(
            f"{dst_p}: cannot write videos with suffix {dst_p.suffix!r}; "
            f"use one of {', '.join(OUTPUT_MUXERS)}"
        )
    if isinstance(crf, bool) or not isinstance(crf, int) or not 0 <= crf <= 51:
        raise InputError(f"crf: expected an integer 0-51, got {crf!r}")
    if not dst_p.parent.is_dir():
        raise MediaError(f"{dst_p}: no such directory {str(dst_p.parent)!r}")
    if dst_p.is_dir():
        raise MediaError(f"{dst_p}: is a directory")
    started = time.perf_counter()
    tmp = dst_p.with_name(f".{dst_p.name}.{secrets.token_hex(4)}.part")
    job = _Transcode(src_p, dst_p, tmp, fn, crf)
    failed = True
    try:
        job.open_output()
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            disable=not progress,
        ) as bar:
            task = bar.add_task(dst_p.name, total=job.total)
            job.run(lambda: bar.advance(task))
        job.finish()
        try:
            os.replace(tmp, dst_p)
        except OSError as exc:
            raise MediaError(f"{dst_p}: cannot write the file: {exc.strerror or exc}") from exc
        failed = False
    finally:
        job.close(failed)
        if failed:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
    stats = TranscodeStats(
        frames=job.frames,
        width=job.shape[1] + job.pad[1],
        height=job.shape[0] + job.pad[0],
        fps=float(job.rate),
        audio=job.audio,
        seconds=time.perf_counter() - started,
    )
    logger.info(
        "%s: %d frames %dx%d at %.3g fps, audio %s, in %.1f s",
        dst_p, stats.frames, stats.width, stats.height, stats.fps, stats.audio, stats.seconds,
    )  # fmt: skip
    return stats
