"""Media files in and out for ``tryon apply``: still images, and videos run frame by frame.

Every frame is an RGB ``uint8`` ``(H, W, 3)`` C-contiguous array. Images go through OpenCV,
videos through PyAV (FFmpeg); :func:`transcode_video` keeps the audio and the timestamps.
:class:`Uplink` pushes a live stream to RTMP(S) or SRT.
"""

from __future__ import annotations

from tryon.media.images import (
    IMAGE_SUFFIXES,
    UPLOAD_FORMATS,
    decode_image,
    encode_png,
    is_image,
    read_image,
    write_image,
)
from tryon.media.probe import ImageInfo, probe_image
from tryon.media.transcode import OUTPUT_MUXERS, FrameFn, TranscodeStats, transcode_video
from tryon.media.uplink import Backoff, Uplink, UplinkStats
from tryon.media.video import VIDEO_SUFFIXES, VideoInfo, is_video, iter_video_frames, probe_video

__all__ = [
    "IMAGE_SUFFIXES",
    "OUTPUT_MUXERS",
    "UPLOAD_FORMATS",
    "VIDEO_SUFFIXES",
    "Backoff",
    "FrameFn",
    "ImageInfo",
    "TranscodeStats",
    "Uplink",
    "UplinkStats",
    "VideoInfo",
    "decode_image",
    "encode_png",
    "is_image",
    "is_video",
    "iter_video_frames",
    "probe_image",
    "probe_video",
    "read_image",
    "transcode_video",
    "write_image",
]
