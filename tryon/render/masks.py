"""Soft region masks: anti-aliased polygons in a small box of the frame, feathered.

A :class:`Mask` is a ``float32`` alpha in [0, 1] over a box of the frame; everything outside the
box is exactly 0, so renderers touch only the box and the rest of the frame stays byte-identical.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np
from numpy.typing import NDArray

_SHIFT = 4  # sub-pixel bits for cv2.fillPoly
_SCALE = 1 << _SHIFT
_SUPERSAMPLE = 4


def fixed_points(points: NDArray[np.floating]) -> NDArray[np.int32]:
    """Points in OpenCV's fixed point (``shift=4``: 4 fractional bits), for drawing calls."""
    out: NDArray[np.int32] = np.round(np.asarray(points, np.float64) * _SCALE).astype(np.int32)
    return out


def fixed_point(xy: object) -> tuple[int, int]:
    """One point (or a pair of ellipse axes) in OpenCV's fixed point (``shift=4``)."""
    x, y = np.asarray(xy, np.float64).reshape(2)
    return round(float(x) * _SCALE), round(float(y) * _SCALE)


class Box(NamedTuple):
    """A pixel box ``[x0, x1) × [y0, y1)`` of a frame; unpacks as ``x0, y0, x1, y1``."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def empty(self) -> bool:
        return self.width <= 0 or self.height <= 0

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.y0, self.y1), slice(self.x0, self.x1)

    @staticmethod
    def around(points: NDArray[np.floating], margin: float, width: int, height: int) -> Box:
        """The box around ``points`` grown by ``margin`` pixels, clipped to the frame."""
        lo = np.floor(points.min(axis=0) - margin)
        hi = np.ceil(points.max(axis=0) + margin) + 1
        return Box(max(0, int(lo[0])), max(0, int(lo[1])), min(width, int(hi[0])), min(height, int(hi[1])))

    def union(self, other: Box) -> Box:
        return Box(
            min(self.x0, other.x0), min(self.y0, other.y0), max(self.x1, other.x1), max(self.y1, other.y1)
        )


@dataclass(frozen=True)
class Mask:
    box: Box
    alpha: NDArray[np.float32]
    """``(box.height, box.width)`` in [0, 1]."""

    def full(self, width: int, height: int) -> NDArray[np.float32]:
        """The mask at frame size (for tests and debugging views)."""
        out = np.zeros((height, width), np.float32)
        out[self.box.slices] = self.alpha
        return out


def feather_margin(sigma: float) -> int:
    """Pixels a Gaussian of ``sigma`` spreads a mask by (its kernel radius) plus one."""
    return kernel_radius(sigma) + 2


def kernel_radius(sigma: float) -> int:
    return max(1, math.ceil(3.0 * sigma)) if sigma > 0 else 0


def fill_polygons(
    box: Box, polygons: Sequence[NDArray[np.floating]], value: float = 1.0
) -> NDArray[np.float32]:
    """Anti-aliased fill of frame-coordinate polygons into a ``float32`` canvas of ``box``:
    each pixel gets the fraction of its 4×4 sub-pixel centres inside (unbiased, unlike
    OpenCV's ``LINE_AA`` fill, which grows shapes by about half a pixel)."""
    k = _SUPERSAMPLE
    canvas = np.zeros((box.height * k, box.width * k), np.uint8)
    offset = np.array([box.x0, box.y0], np.float64)
    pts = [
        np.round(((np.asarray(p, np.float64)[:, :2] - offset + 0.5) * k - 0.5) * _SCALE).astype(np.int32)
        for p in polygons
    ]
    cv2.fillPoly(canvas, pts, 255, lineType=cv2.LINE_8, shift=_SHIFT)
    small = cv2.resize(canvas, (box.width, box.height), interpolation=cv2.INTER_AREA)
    return np.asarray(small, np.float32) * np.float32(value / 255.0)


def feather(alpha: NDArray[np.float32], sigma: float) -> NDArray[np.float32]:
    """Gaussian feathering with a finite kernel (the mask grows by at most its radius)."""
    if sigma <= 0:
        return alpha
    r = kernel_radius(sigma)
    out = cv2.GaussianBlur(
        alpha, (2 * r + 1, 2 * r + 1), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_CONSTANT
    )
    return np.asarray(out, np.float32)


def polygon_mask(
    polygons: Sequence[NDArray[np.floating]],
    sigma: float,
    width: int,
    height: int,
    holes: Sequence[NDArray[np.floating]] = (),
    hole_sigma: float = 0.0,
) -> Mask:
    """Feathered union of ``polygons`` minus ``holes``; a hole is cut hard where it lies (its own
    feathering only adds softness outside it), so nothing inside a hole is ever painted."""
    pts = np.concatenate([np.asarray(p, np.float64)[:, :2] for p in polygons])
    box = Box.around(pts, feather_margin(sigma), width, height)
    if box.empty:
        return Mask(box, np.zeros((max(box.height, 0), max(box.width, 0)), np.float32))
    alpha = feather(fill_polygons(box, polygons), sigma)
    if holes:
        hard = fill_polygons(box, holes)
        soft = feather(hard, hole_sigma) if hole_sigma > 0 else hard
        hole = np.maximum(soft, (hard > 0).astype(np.float32))
        alpha = (alpha * (1.0 - hole)).astype(np.float32)
    return Mask(box, np.clip(alpha, 0.0, 1.0).astype(np.float32))
