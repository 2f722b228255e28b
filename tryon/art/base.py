"""Drawing primitives the art modules share: array types, colours, curves (quadratic Bézier,
Catmull-Rom, mirror, offset), anti-aliased lines and a lit relief of a mask.

Curves are ``(n, 2)`` float64 point arrays, x to the image's right and y down; in the garments'
frame they are in mm with x = 0 on the centre front, so :func:`mirror` gives the other half.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.render.masks import fixed_points

F32 = NDArray[np.float32]
Pts = NDArray[np.float64]
RELIEF_LIGHT = np.array([-0.45, -0.6, 0.66])
"""The light of :func:`relief_shading`: from the upper left, in front."""


def hex_rgb(text: str) -> F32:
    """``"#RRGGBB"`` → sRGB ``float32`` (3,) in [0, 1]."""
    return np.array([int(text[i : i + 2], 16) / 255.0 for i in (1, 3, 5)], np.float32)


# -- curves ---------------------------------------------------------------------------------------


def bezier(p0: Pts, c: Pts, p1: Pts, n: int = 40) -> Pts:
    """``n`` points of the quadratic Bézier curve from ``p0`` to ``p1`` pulled towards ``c``."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    out: Pts = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * c + t**2 * p1
    return out


def catmull(points: Pts, n: int = 40) -> Pts:
    """A Catmull-Rom curve through ``points``."""
    pts = np.asarray(points, np.float64)
    out = [pts[:1]]
    for i in range(len(pts) - 1):
        p0, p1 = pts[max(i - 1, 0)], pts[i]
        p2, p3 = pts[i + 1], pts[min(i + 2, len(pts) - 1)]
        m1, m2 = (p2 - p0) / 2, (p3 - p1) / 2
        t = np.linspace(0.0, 1.0, n)[1:, None]
        h00, h10 = 2 * t**3 - 3 * t**2 + 1, t**3 - 2 * t**2 + t
        h01, h11 = -2 * t**3 + 3 * t**2, t**3 - t**2
        out.append(h00 * p1 + h10 * m1 + h01 * p2 + h11 * m2)
    return np.concatenate(out)


def mirror(points: Pts) -> Pts:
    """``points`` mirrored about x = 0 (a copy)."""
    out = np.array(points, np.float64)
    out[..., 0] *= -1
    return out


def offset(line: Pts, dist: float) -> Pts:
    """``line`` moved ``dist`` to its left (seen walking along it, y down: towards -normal)."""
    d = np.gradient(line, axis=0)
    d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-9)
    out: Pts = line + dist * np.column_stack([d[:, 1], -d[:, 0]])
    return out


def scaled(points: Sequence[tuple[float, float]], s: float) -> Pts:
    """``points`` (adult mm, a table's numbers) as an array scaled by ``s``."""
    return np.asarray(points, np.float64) * s


# -- pixels ---------------------------------------------------------------------------------------


def polyline(
    canvas: NDArray[np.uint8], points: NDArray[np.floating], thickness: float, closed: bool = False
) -> None:
    """An anti-aliased line through ``points`` (pixels, sub-pixel exact) drawn in 255."""
    cv2.polylines(canvas, [fixed_points(points)], closed, 255, max(1, round(thickness)), cv2.LINE_AA, shift=4)


def relief_shading(
    mask: NDArray[np.uint8], radius: float, shine: float = 1.0, gloss: float = 40.0
) -> NDArray[np.float32]:
    """Grey shading ``(H, W)`` in [0, 1] of a rounded relief of ``mask`` (255 inside), rounded
    over ``radius`` pixels from its edge and lit from the upper left."""
    d = cv2.distanceTransform((mask > 127).astype(np.uint8), cv2.DIST_L2, 5)
    t = np.clip(d / max(radius, 1.0), 0.0, 1.0)
    height = np.sqrt(1.0 - (1.0 - t) ** 2) * radius
    height = cv2.GaussianBlur(height, (0, 0), max(radius / 6, 0.7))
    gy, gx = np.gradient(height)
    n = np.dstack([-gx, -gy, np.ones_like(gx)])
    n /= np.linalg.norm(n, axis=2, keepdims=True)
    light = RELIEF_LIGHT / np.linalg.norm(RELIEF_LIGHT)
    half = light + np.array([0.0, 0.0, 1.0])
    half /= np.linalg.norm(half)
    diffuse = np.clip(n @ light, 0.0, 1.0)
    spec = np.clip(n @ half, 0.0, 1.0) ** gloss
    shade = 0.28 + 0.5 * diffuse + shine * 0.7 * spec
    out: NDArray[np.float32] = np.clip(shade, 0.0, 1.0).astype(np.float32)
    return out
