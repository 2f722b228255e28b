"""Drawing the fitted garment body (:mod:`tryon.render.garment_fit`): its frame box, and the piece
warped through the homography after the fit's horizontal warp of garment space, by one remap.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.render.garment_assets import Piece
from tryon.render.garment_fit import FittedBody, apply_m
from tryon.render.masks import Box
from tryon.render.sprite import clipped_box

F64 = NDArray[np.float64]

MAP_STEP = 8
"""The remap's coordinates are computed every this many pixels and interpolated between."""


def fitted_box(
    piece: Piece, h_body: F64, fit: FittedBody, shape: tuple[int, ...], pad: int = 2
) -> Box | None:
    """The frame box the fitted piece covers, clipped to the frame; ``None`` if outside it."""
    w, h = piece.sprite.size
    ox, oy = piece.offset
    vs = np.concatenate([[oy, oy + h], fit.rows[(fit.rows > oy) & (fit.rows < oy + h)]])
    uv = np.array([(u, v) for v in vs for u in (ox, ox + w)], np.float64)
    return clipped_box(apply_m(h_body, fit.forward(uv)), shape, pad)


def warp_fitted(piece: Piece, h_body: F64, fit: FittedBody, box: Box) -> NDArray[np.float32]:
    """The premultiplied linear RGBA piece drawn through ``h_body ∘ fit`` into ``box``:
    ``(y1-y0, x1-x0, 4)``. The frame→garment coordinates are computed every :data:`MAP_STEP`
    pixels and interpolated (the warp is smooth), then one remap."""
    x0, y0, x1, y1 = box
    width, height = x1 - x0, y1 - y0
    m = h_body.copy()
    det = abs(float(np.linalg.det(m[:2, :2] / m[2, 2])))
    s, level = piece.sprite.level(float(np.sqrt(det)))  # stretched sides: a little softer
    k = MAP_STEP
    nx, ny = -(-width // k) + 1, -(-height // k) + 1
    # Grid points at x0 + (k - 1) / 2 + k * i: resizing by k lands them on the pixel centres.
    gx = x0 + (k - 1) / 2 + k * np.arange(nx, dtype=np.float64)
    gy = y0 + (k - 1) / 2 + k * np.arange(ny, dtype=np.float64)
    xy = np.stack(np.meshgrid(gx, gy), axis=-1)
    uv = apply_m(np.asarray(np.linalg.inv(m), np.float64), xy)
    u = fit.backward(uv[..., 0], uv[..., 1])
    map_x = ((u - piece.offset[0]) * s).astype(np.float32)
    map_y = ((fit.source_rows(uv[..., 1]) - piece.offset[1]) * s).astype(np.float32)
    size = (nx * k, ny * k)
    full_x = cv2.resize(map_x, size, interpolation=cv2.INTER_LINEAR)[:height, :width]
    full_y = cv2.resize(map_y, size, interpolation=cv2.INTER_LINEAR)[:height, :width]
    out = cv2.remap(level, full_x, full_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return np.asarray(out, np.float32).reshape(height, width, 4)


__all__ = ["MAP_STEP", "fitted_box", "warp_fitted"]
