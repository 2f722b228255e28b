"""Frame validation: every stage takes RGB ``uint8`` arrays of shape ``(H, W, 3)``."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from tryon.errors import InputError

Frame = NDArray[np.uint8]
"""An RGB image, ``(H, W, 3)`` ``uint8``, row-major, not mirrored."""

MIN_SIDE = 16


def validate_frame(frame: Any, name: str = "frame") -> Frame:
    """Return ``frame`` as a C-contiguous RGB ``uint8`` array or raise :class:`InputError`.

    RGBA is accepted (alpha is dropped); anything else that is not ``(H, W, 3)`` ``uint8`` with
    both sides at least 16 pixels is rejected with the expected and the received form.
    """
    if not isinstance(frame, np.ndarray):
        raise InputError(f"{name}: expected a numpy array (H, W, 3) uint8, got {type(frame).__name__}")
    if frame.dtype != np.uint8:
        raise InputError(f"{name}: expected dtype uint8, got {frame.dtype}")
    if frame.ndim != 3 or frame.shape[2] not in (3, 4):
        raise InputError(f"{name}: expected shape (H, W, 3), got {frame.shape}")
    h, w = frame.shape[:2]
    if h < MIN_SIDE or w < MIN_SIDE:
        raise InputError(f"{name}: expected at least {MIN_SIDE}x{MIN_SIDE} pixels, got {w}x{h}")
    if frame.shape[2] == 4:
        frame = frame[:, :, :3]
    return np.ascontiguousarray(frame)
