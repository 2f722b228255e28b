"""Still images in and out: RGB ``uint8`` ``(H, W, 3)`` arrays, read and written with OpenCV.

Every decode reads the header first (:mod:`tryon.media.probe`) and refuses oversized images
before OpenCV allocates anything.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.errors import InputError, MediaError
from tryon.media.png import without_noisy_chunks
from tryon.media.probe import (
    FORMAT_LABELS,
    ImageFormat,
    describe_bytes,
    describe_formats,
    probe_image,
    sniff_format,
)

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
"""Suffixes :func:`is_image` recognises (any case)."""

WRITE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
"""Suffixes :func:`write_image` can write (any case)."""

JPEG_QUALITY = 95
WEBP_QUALITY = 95


def is_image(path: str | Path) -> bool:
    """Whether ``path`` names a still image, judged by its suffix only (the file need not exist)."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def read_image(path: str | Path) -> NDArray[np.uint8]:
    """Read an image file as a C-contiguous RGB ``uint8`` ``(H, W, 3)`` array.

    Alpha is dropped (the colour channels are kept as stored, not composited), grey becomes
    RGB, 16-bit samples are reduced to 8 bits, and an EXIF orientation is applied (JPEG), so the
    array is upright as a viewer shows it. Raises :class:`MediaError` naming the path and why
    when the file is missing, unreadable, not an image OpenCV can decode, or declares more than
    :data:`MAX_PIXELS` pixels (refused from its header, before decoding: see :func:`decode_image`).
    """
    p = Path(path)
    if not p.exists():
        raise MediaError(f"{p}: no such file")
    if p.is_dir():
        raise MediaError(f"{p}: is a directory, not an image")
    try:
        data = np.fromfile(str(p), dtype=np.uint8)  # not cv2.imread: it fails silently on some paths
    except OSError as exc:
        raise MediaError(f"{p}: cannot read the file: {exc.strerror or exc}") from exc
    return decode_image(data, str(p))


MAX_PIXELS = 80_000_000
"""Images declaring more pixels than this are refused before decoding (a small file can decode huge)."""

UPLOAD_FORMATS: tuple[ImageFormat, ...] = ("jpeg", "png", "webp")
"""The formats to accept from a browser: pass as ``decode_image(..., formats=UPLOAD_FORMATS)``."""

_REDUCED = ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4), (2, cv2.IMREAD_REDUCED_COLOR_2))


def decode_image(
    data: bytes | bytearray | memoryview | NDArray[np.uint8],
    name: str = "image",
    *,
    max_pixels: int = MAX_PIXELS,
    formats: Iterable[str] | None = None,
    max_side: int | None = None,
) -> NDArray[np.uint8]:
    """Decode an encoded image held in memory, as :func:`read_image` does.

    The header is read first (:func:`~tryon.media.probe.probe_image`), and the image refused with
    :class:`MediaError`, before anything is decoded, when it is not a JPEG, PNG, WebP, BMP or TIFF,
    when its format is not one of ``formats`` (say :data:`UPLOAD_FORMATS`), or when it declares
    more than ``max_pixels`` pixels, so a decompression bomb costs nothing. Only the first frame of
    an APNG, animated WebP or multi-page TIFF is decoded.

    With ``max_side``, a JPEG whose longer side exceeds it is decoded at 1/2, 1/4 or 1/8 scale by
    libjpeg (``IMREAD_REDUCED_COLOR_*``), the smallest scale whose longer side is still at least
    ``max_side`` (so at most twice ``max_side``, unless even 1/8 is larger): the caller resizes
    the rest of the way. The EXIF orientation is applied at every scale. Other formats are decoded
    at full size.
    """
    buf = np.frombuffer(data, np.uint8) if isinstance(data, bytes | bytearray | memoryview) else data
    if buf.size == 0:
        raise MediaError(f"{name}: empty file, not an image")
    if max_pixels < 1:
        raise InputError(f"max_pixels: expected a positive integer, got {max_pixels}")
    if max_side is not None and max_side < 1:
        raise InputError(f"max_side: expected a positive integer or None, got {max_side}")
    allowed = None if formats is None else tuple(formats)
    if allowed is not None and (not allowed or not set(allowed) <= set(FORMAT_LABELS)):
        raise InputError(f"formats: expected some of {', '.join(FORMAT_LABELS)}, got {allowed}")
    raw = data if isinstance(data, bytes) else np.ascontiguousarray(buf).tobytes()  # probe reads bytes
    fmt = sniff_format(raw)
    if fmt is None:
        got = describe_bytes(raw)
        if allowed is not None:
            raise MediaError(f"{name}: expected a {describe_formats(allowed)} image, got {got}")
        expected = describe_formats(FORMAT_LABELS)
        raise MediaError(f"{name}: not an image OpenCV can read (expected a {expected} image, got {got})")
    if allowed is not None and fmt not in allowed:
        raise MediaError(f"{name}: expected {describe_formats(allowed)}, got {FORMAT_LABELS[fmt]}")
    info = probe_image(raw, name)
    if info.pixels > max_pixels:
        raise MediaError(
            f"{name}: expected at most {max_pixels} pixels, got {info.width}x{info.height} ({info.label})"
        )
    scale, flag = 1, cv2.IMREAD_COLOR  # 3 channels BGR, 8 bits, EXIF orientation applied
    if max_side is not None and info.format == "jpeg":
        longer = max(info.width, info.height)
        scale, flag = next(((s, f) for s, f in _REDUCED if -(-longer // s) >= max_side), (scale, flag))
    if fmt == "png":  # no raw libpng warnings on stderr (colour profiles OpenCV ignores anyway)
        buf = np.frombuffer(without_noisy_chunks(raw), np.uint8)
    try:
        bgr = cv2.imdecode(buf, flag)
    except cv2.error as exc:
        raise MediaError(f"{name}: not an image OpenCV can read ({exc.err})") from exc
    if bgr is None or bgr.ndim != 3 or bgr.shape[2] != 3 or bgr.dtype != np.uint8:
        raise MediaError(f"{name}: not an image OpenCV can read ({info.label} {info.width}x{info.height})")
    size = (-(-info.height // scale), -(-info.width // scale))
    if bgr.shape[:2] not in (size, size[::-1]):  # swapped: an EXIF orientation turned it
        at = f" at 1/{scale} scale" if scale > 1 else ""
        raise MediaError(
            f"{name}: header says {info.width}x{info.height}, decoded {bgr.shape[1]}x{bgr.shape[0]}{at}"
        )
    logger.debug("decoded %s: %s %dx%d at 1/%d", name, info.label, info.width, info.height, scale)
    rgb: NDArray[np.uint8] = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)
    return rgb


def encode_png(rgb: NDArray[np.uint8], compression: int = 3) -> bytes:
    """An RGB ``uint8`` ``(H, W, 3)`` array as PNG bytes (in memory; nothing is written)."""
    array = check_rgb(rgb)
    bgr = cv2.cvtColor(np.ascontiguousarray(array), cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, compression])
    if not ok:
        raise MediaError("PNG encoding failed")
    return bytes(buf)


def check_rgb(array: Any, name: str = "image") -> NDArray[np.uint8]:
    """Return ``array`` if it is an ``(H, W, 3)`` ``uint8`` array, else raise :class:`InputError`."""
    if not isinstance(array, np.ndarray):
        raise InputError(f"{name}: expected an (H, W, 3) uint8 array, got {type(array).__name__}")
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3 or 0 in array.shape:
        raise InputError(
            f"{name}: expected an (H, W, 3) uint8 array, got shape {tuple(array.shape)} {array.dtype}"
        )
    return array


def write_image(path: str | Path, rgb: NDArray[np.uint8]) -> None:
    """Write an RGB ``uint8`` ``(H, W, 3)`` array to ``path``, the format chosen by its suffix.

    ``.png`` is lossless; ``.jpg``/``.jpeg`` and ``.webp`` are written at quality 95. A malformed
    array raises :class:`InputError`; an unknown suffix, a missing directory or an unwritable
    path raise :class:`MediaError`. The file is written beside the target and renamed into place,
    so a failure leaves nothing behind (and an existing file untouched). Directories are not
    created.
    """
    p = Path(path)
    array = check_rgb(rgb)
    suffix = p.suffix.lower()
    if suffix not in WRITE_SUFFIXES:
        raise MediaError(
            f"{p}: cannot write images with suffix {p.suffix!r}; use one of {', '.join(WRITE_SUFFIXES)}"
        )
    if not p.parent.is_dir():
        raise MediaError(f"{p}: no such directory {str(p.parent)!r}")
    params: list[int] = []
    if suffix in (".jpg", ".jpeg"):
        params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]
    elif suffix == ".webp":
        params = [cv2.IMWRITE_WEBP_QUALITY, WEBP_QUALITY]
    bgr = cv2.cvtColor(np.ascontiguousarray(array), cv2.COLOR_RGB2BGR)
    try:
        ok, encoded = cv2.imencode(suffix, bgr, params)
    except cv2.error as exc:
        raise MediaError(f"{p}: OpenCV cannot encode {suffix} ({exc.err})") from exc
    if not ok:
        raise MediaError(f"{p}: OpenCV cannot encode {suffix}")
    tmp = p.with_name(f".{p.name}.{secrets.token_hex(4)}.part")
    try:
        tmp.write_bytes(encoded.tobytes())
        os.replace(tmp, p)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise MediaError(f"{p}: cannot write the file: {exc.strerror or exc}") from exc
    logger.debug("wrote %s (%dx%d, %d bytes)", p, array.shape[1], array.shape[0], encoded.size)
