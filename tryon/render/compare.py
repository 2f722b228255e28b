"""Before/after views: side by side (for files) and a split at a position (for the live page)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from tryon.errors import InputError

DIVIDER = 4
"""Pixels of the line between the two halves (even, so video sizes stay even)."""
DIVIDER_RGB = (245, 245, 245)


def _check_pair(before: NDArray[np.uint8], after: NDArray[np.uint8]) -> None:
    if before.shape != after.shape:
        raise InputError(
            f"before/after: expected frames of the same shape, got {before.shape} and {after.shape}"
        )


def side_by_side(before: NDArray[np.uint8], after: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """``before | after`` with a thin light divider: ``(H, 2W + DIVIDER, 3)``."""
    _check_pair(before, after)
    h = before.shape[0]
    line = np.empty((h, DIVIDER, 3), np.uint8)
    line[:] = DIVIDER_RGB
    return np.ascontiguousarray(np.concatenate([before, line, after], axis=1))


def split_view(
    before: NDArray[np.uint8], after: NDArray[np.uint8], position: float = 0.5
) -> NDArray[np.uint8]:
    """``before`` left of ``position`` (a fraction of the width), ``after`` right of it, with a
    2-pixel line at the split."""
    _check_pair(before, after)
    if not 0.0 <= position <= 1.0:
        raise InputError(f"split position: expected a number in [0, 1], got {position!r}")
    w = before.shape[1]
    x = round(position * w)
    out = after.copy()
    out[:, :x] = before[:, :x]
    lo, hi = max(0, x - 1), min(w, x + 1)
    if 0 < x < w:
        out[:, lo:hi] = DIVIDER_RGB
    return out
