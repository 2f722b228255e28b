"""Product asset images: one reader for every renderer's RGBA sprites and masks.

8- and 16-bit samples, grey, palette, RGB and RGBA PNGs (and the other formats OpenCV decodes):
the header is checked before decoding (:func:`tryon.media.probe.probe_image`, a bomb costs
nothing), errors name the path, what was expected and what the file holds, and the arrays
returned are read-only, so caches can share them between sessions and threads safely.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.errors import InputError, MediaError
from tryon.media.images import MAX_PIXELS
from tryon.media.png import without_noisy_chunks
from tryon.media.probe import probe_image


def _frozen(array: NDArray[np.uint8]) -> NDArray[np.uint8]:
    array.setflags(write=False)
    return array


def _decode(path: str | Path, expected: str) -> NDArray[Any]:
    """The file decoded as stored (channels, bit depth); :class:`InputError` naming the path."""
    p = Path(path)
    try:
        data = np.fromfile(str(p), dtype=np.uint8)  # not cv2.imread: it fails silently
    except OSError as exc:
        reason = "no such file" if not p.exists() else f"cannot read it ({exc.strerror or exc})"
        raise InputError(f"{p}: expected {expected}, got {reason}") from exc
    try:
        info = probe_image(data.tobytes(), str(p))  # the header: a bomb is refused before decoding
    except MediaError as exc:
        got = str(exc).removeprefix(f"{p}: ")
        raise InputError(f"{p}: expected {expected}, got a file OpenCV cannot decode ({got})") from None
    if info.pixels > MAX_PIXELS:
        raise InputError(
            f"{p}: expected {expected} of at most {MAX_PIXELS} pixels, got {info.width}x{info.height}"
        )
    try:
        quiet = np.frombuffer(without_noisy_chunks(data.tobytes()), np.uint8)  # no libpng warnings
        image = cv2.imdecode(quiet, cv2.IMREAD_UNCHANGED) if data.size else None
    except cv2.error:
        image = None
    if image is None:
        raise InputError(f"{p}: expected {expected}, got a file OpenCV cannot decode ({data.size} bytes)")
    if image.shape[0] * image.shape[1] > MAX_PIXELS:
        raise InputError(f"{p}: expected at most {MAX_PIXELS} pixels, got {image.shape[1]}x{image.shape[0]}")
    if image.dtype == np.uint16:
        return image
    if image.dtype != np.uint8:
        raise InputError(f"{p}: expected {expected} with 8- or 16-bit samples, got {image.dtype}")
    return image


def _to_8bit(image: NDArray[Any]) -> NDArray[np.uint8]:
    if image.dtype == np.uint8:
        return np.asarray(image, np.uint8)
    return ((image.astype(np.uint32) + 128) // 257).astype(np.uint8)  # 65535 → 255, rounded


def read_rgba(path: str | Path, *, allow_opaque: bool = False) -> NDArray[np.uint8]:
    """An image file as C-contiguous RGBA ``uint8`` ``(H, W, 4)``, straight alpha; 16-bit
    samples become 8-bit (``/257``, rounded). Grey and RGB images get an opaque alpha only with
    ``allow_opaque``; otherwise, as for anything but an image, :class:`InputError` naming the
    path, what was expected and what the file holds."""
    expected = "an RGBA image" + (" (or grey or RGB)" if allow_opaque else " with its alpha")
    image = _decode(path, expected)
    channels = 1 if image.ndim == 2 else int(image.shape[2])
    if channels == 4:
        rgba = cv2.cvtColor(_to_8bit(image), cv2.COLOR_BGRA2RGBA)
    elif allow_opaque and channels in (1, 3):
        code = cv2.COLOR_GRAY2RGBA if channels == 1 else cv2.COLOR_BGR2RGBA
        rgba = cv2.cvtColor(_to_8bit(image), code)
    else:
        kind = {1: "grey", 3: "RGB, no alpha"}.get(channels, f"{channels} channels")
        raise InputError(f"{path}: expected {expected}, got {image.shape[1]}x{image.shape[0]} {kind}")
    return _frozen(np.ascontiguousarray(rgba, dtype=np.uint8))


def read_mask(path: str | Path, expected: str, *, labels: bool = False) -> NDArray[np.uint8]:
    """A single-channel image as ``uint8`` ``(H, W)`` (a colour image's red channel). 16-bit
    samples are scaled to 8 bits, except ``labels``, which are kept as they are (and must be
    below 256)."""
    image = _decode(path, expected)
    if image.ndim == 3:
        image = image[..., 2]  # BGR(A): red
    if labels and image.dtype != np.uint8:
        if int(image.max(initial=0)) > 255:
            raise InputError(f"{path}: expected {expected}, got values up to {int(image.max())}")
        image = image.astype(np.uint8)
    return _frozen(np.ascontiguousarray(_to_8bit(image), dtype=np.uint8))
