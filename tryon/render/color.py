"""Colour in linear light: sRGB transfer functions (exact, table-driven), luminance, hex parsing.

Renderers convert the pixels they touch to linear light, blend there, and convert back. The
tables make both directions cheap and make a pixel that is not changed come back byte-identical.
"""

from __future__ import annotations

import re

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.errors import InputError
from tryon.timing import step

_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")

# Rec. 709 / sRGB luminance weights (linear light).
LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)

_ENCODE_STEPS = 1 << 16


def _srgb_to_linear_exact(v: NDArray[np.float64]) -> NDArray[np.float64]:
    out: NDArray[np.float64] = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    return out


def _linear_to_srgb_exact(v: NDArray[np.float64]) -> NDArray[np.float64]:
    v = np.clip(v, 0.0, 1.0)
    out: NDArray[np.float64] = np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1 / 2.4) - 0.055)
    return out


_DECODE = _srgb_to_linear_exact(np.arange(256, dtype=np.float64) / 255.0).astype(np.float32)
_ENCODE = np.round(
    _linear_to_srgb_exact(np.arange(_ENCODE_STEPS, dtype=np.float64) / (_ENCODE_STEPS - 1)) * 255.0
).astype(np.uint8)


def to_linear(rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
    """sRGB ``uint8`` → linear light ``float32`` in [0, 1] (same shape)."""
    with step("color"):
        if rgb.dtype == np.uint8 and (rgb.ndim == 2 or (rgb.ndim == 3 and rgb.shape[2] <= 4)):
            return np.asarray(cv2.LUT(np.ascontiguousarray(rgb), _DECODE), np.float32)  # 8× numpy's gather
        out: NDArray[np.float32] = np.asarray(_DECODE[rgb], np.float32)
        return out


def to_srgb(linear: NDArray[np.floating]) -> NDArray[np.uint8]:
    """Linear light in [0, 1] (clipped) → sRGB ``uint8``; inverse of :func:`to_linear` on its values."""
    with step("color"):
        scaled = np.multiply(linear, np.float32(_ENCODE_STEPS - 1), dtype=np.float32)
        scaled += np.float32(0.5)
        np.clip(scaled, 0.0, np.float32(_ENCODE_STEPS - 1), out=scaled)
        out: NDArray[np.uint8] = np.take(_ENCODE, scaled.astype(np.uint16))
        return out


def luminance(linear: NDArray[np.float32]) -> NDArray[np.float32]:
    """Relative luminance ``Y`` of linear RGB ``(..., 3)``."""
    out: NDArray[np.float32] = linear @ LUMA
    return out


def parse_hex(value: str) -> tuple[int, int, int]:
    """``"#RRGGBB"`` → ``(r, g, b)``; a clear :class:`InputError` otherwise."""
    m = _HEX.match(value.strip()) if isinstance(value, str) else None
    if m is None:
        raise InputError(f'colour: expected "#RRGGBB", got {value!r}')
    h = m.group(1)
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def linear_color(rgb: tuple[int, int, int]) -> NDArray[np.float32]:
    """An sRGB triple → its linear-light ``float32`` vector ``(3,)``."""
    return to_linear(np.asarray(rgb, dtype=np.uint8))


def check_rgb(rgb: object, name: str) -> None:
    """:class:`InputError` unless ``rgb`` is an ``(r, g, b)`` tuple of ints in 0..255."""
    if not (
        isinstance(rgb, tuple)
        and len(rgb) == 3
        and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in rgb)
    ):
        raise InputError(f"{name}: expected an (r, g, b) tuple of ints in 0..255, got {rgb!r}")
