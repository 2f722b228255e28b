"""Regions of interest and the maps between image pixels and model tensors.

A :class:`Roi` is a rotated rectangle in image pixels. The crop into a model tensor maps the
ROI's corners onto the tensor's corners (MediaPipe's ImageToTensor convention: tensor pixel
``i`` samples at ``i / size`` of the ROI, no half-pixel shift), so landmarks in tensor pixels map
back with the same affine transform. All functions are pure.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.errors import InputError

Points = NDArray[np.float32]


def normalize_angle(a: float) -> float:
    """Angle in ``[-π, π)``."""
    return a - 2 * math.pi * math.floor((a + math.pi) / (2 * math.pi))


@dataclass(frozen=True)
class Roi:
    """Rotated rectangle in pixels: centre, size and rotation (radians, clockwise on screen)."""

    cx: float
    cy: float
    width: float
    height: float
    rotation: float = 0.0

    def transformed(
        self,
        scale: float = 1.0,
        shift_x: float = 0.0,
        shift_y: float = 0.0,
        square_long: bool = True,
    ) -> Roi:
        """MediaPipe's RectTransformation: shift in the ROI's own frame, make square, scale."""
        cx, cy = self.cx, self.cy
        if shift_x or shift_y:
            c, s = math.cos(self.rotation), math.sin(self.rotation)
            dx, dy = self.width * shift_x, self.height * shift_y
            cx += dx * c - dy * s
            cy += dx * s + dy * c
        w, h = self.width, self.height
        if square_long:
            w = h = max(w, h)
        return Roi(cx, cy, w * scale, h * scale, self.rotation)

    def corners(self) -> Points:
        """Corners (top-left, top-right, bottom-right, bottom-left of the ROI's own frame) in pixels."""
        c, s = math.cos(self.rotation), math.sin(self.rotation)
        hw, hh = self.width / 2, self.height / 2
        local = np.array([[-hw, -hh], [hw, -hh], [hw, hh], [-hw, hh]], dtype=np.float64)
        rot = np.array([[c, -s], [s, c]])
        out: Points = (local @ rot.T + (self.cx, self.cy)).astype(np.float32)
        return out

    def bounds(self) -> tuple[float, float, float, float]:
        """Axis-aligned ``(xmin, ymin, xmax, ymax)`` of the rotated rectangle."""
        pts = self.corners()
        return (
            float(pts[:, 0].min()),
            float(pts[:, 1].min()),
            float(pts[:, 0].max()),
            float(pts[:, 1].max()),
        )

    @property
    def valid(self) -> bool:
        return (
            self.width > 1e-3
            and self.height > 1e-3
            and all(math.isfinite(v) for v in (self.cx, self.cy, self.width, self.height, self.rotation))
        )


def rotation_between(start: NDArray[np.floating], end: NDArray[np.floating], target: float) -> float:
    """Rotation making the ``start → end`` direction point at ``target`` (radians, 0 = +x, π/2 = up)."""
    return normalize_angle(
        target - math.atan2(-(float(end[1]) - float(start[1])), float(end[0]) - float(start[0]))
    )


def roi_from_box(xmin: float, ymin: float, xmax: float, ymax: float, rotation: float = 0.0) -> Roi:
    return Roi((xmin + xmax) / 2, (ymin + ymax) / 2, xmax - xmin, ymax - ymin, rotation)


def roi_from_alignment(center: NDArray[np.floating], scale_point: NDArray[np.floating], target: float) -> Roi:
    """MediaPipe's AlignmentPointsRects: a square centred on ``center`` with side 2·|scale − centre|."""
    size = 2.0 * float(np.hypot(*(np.asarray(scale_point, np.float64) - np.asarray(center, np.float64))))
    return Roi(float(center[0]), float(center[1]), size, size, rotation_between(center, scale_point, target))


def letterbox(roi: Roi, tensor_w: int, tensor_h: int) -> tuple[Roi, tuple[float, float, float, float]]:
    """Enlarge ``roi`` to the tensor's aspect ratio; padding ``(left, top, right, bottom)`` in [0, 1]."""
    t = tensor_h / tensor_w
    r = roi.height / roi.width
    if t > r:
        pad = (1 - r / t) / 2
        return replace(roi, height=roi.width * t), (0.0, pad, 0.0, pad)
    pad = (1 - t / r) / 2
    return replace(roi, width=roi.height / t), (pad, 0.0, pad, 0.0)


def tensor_to_image(roi: Roi, tensor_w: int, tensor_h: int) -> NDArray[np.float64]:
    """2×3 affine map from tensor pixel coordinates to image pixel coordinates."""
    c, s = math.cos(roi.rotation), math.sin(roi.rotation)
    sx, sy = roi.width / tensor_w, roi.height / tensor_h
    return np.array(
        [
            [c * sx, -s * sy, roi.cx - 0.5 * roi.width * c + 0.5 * roi.height * s],
            [s * sx, c * sy, roi.cy - 0.5 * roi.height * c - 0.5 * roi.width * s],
        ],
        dtype=np.float64,
    )


def crop(
    frame: NDArray[np.uint8],
    roi: Roi,
    tensor_w: int,
    tensor_h: int,
    border: int = cv2.BORDER_REPLICATE,
    half_pixel: bool = False,
    exact: bool = False,
) -> NDArray[np.uint8]:
    """Sample ``roi`` of ``frame`` into a ``(tensor_h, tensor_w, 3)`` image, bilinear.

    By default tensor pixel ``i`` samples the ROI at ``i / size`` (MediaPipe's ImageToTensor);
    with ``half_pixel`` at ``(i + 0.5) / size`` (its older ImageCropping, used for the iris model).
    ``exact`` reproduces MediaPipe 0.10.14's sampling bit for bit (see :func:`crop_exact`).
    """
    if not roi.valid:
        raise InputError(f"region of interest: expected a finite, non-empty rectangle, got {roi}")
    if exact:
        return crop_exact(frame, roi, tensor_w, tensor_h, border)
    m = tensor_to_image(roi, tensor_w, tensor_h)
    if half_pixel:
        m = m.copy()
        m[:, 2] += m[:, :2] @ np.array([0.5, 0.5])
    out = cv2.warpAffine(
        frame, m, (tensor_w, tensor_h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=border
    )
    return np.asarray(out, dtype=np.uint8)


@functools.cache
def _grid(w: int, h: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    return np.arange(w, dtype=np.float64)[None, :], np.arange(h, dtype=np.float64)[:, None]


_MAX_FIXED = float(np.iinfo(np.int16).max) * 32


def crop_exact(
    frame: NDArray[np.uint8], roi: Roi, tensor_w: int, tensor_h: int, border: int = cv2.BORDER_REPLICATE
) -> NDArray[np.uint8]:
    """MediaPipe 0.10.14's crop, bit for bit (about 0.4 ms more than :func:`crop` at 256×256).

    MediaPipe maps the ROI's float32 corners onto the tensor corners with a perspective matrix,
    inverted by LU, and samples with its bundled OpenCV 3.4, which rounds every source position to
    1/32 pixel (half to even, in double) and blends with 15-bit fixed-point weights; ``cv2.remap``
    with fixed-point maps does the same blend. Today's ``cv2.warpAffine`` rounds positions
    differently (1–3 levels off in a few percent of pixels), which is enough to move the landmarks
    of the pose model, whose output is very sensitive to its crop, by a few percent.
    """
    box = ((roi.cx, roi.cy), (roi.width, roi.height), math.degrees(roi.rotation))
    corners = np.asarray(cv2.boxPoints(box), dtype=np.float32)
    dst = np.array([[0, tensor_h], [0, 0], [tensor_w, 0], [tensor_w, tensor_h]], dtype=np.float32)
    ok, inv = cv2.invert(cv2.getPerspectiveTransform(corners, dst))
    if not ok:
        raise InputError(f"region of interest: degenerate sampling map for {roi}")
    xs, ys = _grid(tensor_w, tensor_h)
    w = (inv[2, 1] * ys + inv[2, 2]) + inv[2, 0] * xs
    scale = np.divide(32.0, w, out=np.zeros_like(w), where=w != 0)
    x = (inv[0, 1] * ys + inv[0, 2]) + inv[0, 0] * xs
    x *= scale
    y = (inv[1, 1] * ys + inv[1, 2]) + inv[1, 0] * xs
    y *= scale
    np.clip(x, -_MAX_FIXED, _MAX_FIXED, out=x)
    np.clip(y, -_MAX_FIXED, _MAX_FIXED, out=y)
    xi = np.rint(x).astype(np.int32)
    yi = np.rint(y).astype(np.int32)
    whole = np.empty((tensor_h, tensor_w, 2), dtype=np.int16)
    whole[..., 0] = xi >> 5
    whole[..., 1] = yi >> 5
    frac = (((yi & 31) << 5) | (xi & 31)).astype(np.uint16)
    return np.asarray(cv2.remap(frame, whole, frac, cv2.INTER_LINEAR, borderMode=border), dtype=np.uint8)


def to_tensor(image: NDArray[np.uint8], value_range: tuple[float, float]) -> NDArray[np.float32]:
    """``uint8`` HWC image → ``(1, H, W, C)`` float32 in ``value_range``."""
    lo, hi = value_range
    x = image.astype(np.float32)
    x *= (hi - lo) / 255.0
    x += lo
    return x[None]


def apply_affine(m: NDArray[np.float64], xy: NDArray[np.floating]) -> Points:
    """Apply a 2×3 affine map to ``(N, 2)`` points."""
    pts = np.asarray(xy, dtype=np.float64)
    return (pts @ m[:, :2].T + m[:, 2]).astype(np.float32)


def remove_letterbox(xy: NDArray[np.floating], padding: tuple[float, float, float, float]) -> Points:
    """Normalised tensor coordinates → normalised coordinates of the unpadded ROI."""
    left, top, right, bottom = padding
    out = np.array(xy, dtype=np.float32, copy=True)
    out[..., 0] = (out[..., 0] - left) / (1 - left - right)
    out[..., 1] = (out[..., 1] - top) / (1 - top - bottom)
    return out


def box_iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """IoU of two axis-aligned ``(xmin, ymin, xmax, ymax)`` boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def roi_iou(a: Roi, b: Roi) -> float:
    """IoU of the axis-aligned extents of two ROIs as MediaPipe associates them (rotation ignored)."""
    return box_iou(
        (a.cx - a.width / 2, a.cy - a.height / 2, a.cx + a.width / 2, a.cy + a.height / 2),
        (b.cx - b.width / 2, b.cy - b.height / 2, b.cx + b.width / 2, b.cy + b.height / 2),
    )
