"""Finishes: how a shade sits on the surface (shading kept, sheen, specular gloss, sparkle).

Pure functions over a region's box. Sparkles are attached to the landmark mesh: each one has fixed
coordinates inside a quad of the region (seeded by the product), so it moves with the face and
does not flicker on a still one.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.render.masks import Box, feather


@dataclass(frozen=True)
class Finish:
    shading: float
    """Exponent on the surface's own relative luminance: < 1 evens it out (matte), > 1 deepens."""
    carry: float
    """How much of the surface's lightness carries into the shade's (0: pure swatch lightness)."""
    sheen: float
    """Broad specular strength."""
    gloss: float
    """Sharp specular strength."""
    sparkle: float
    """Sparkle strength (0: none)."""
    metallic: bool = False
    """Specular tinted by the shade instead of white."""


FINISHES: dict[str, Finish] = {
    "matte": Finish(shading=0.6, carry=0.3, sheen=0.0, gloss=0.0, sparkle=0.0),
    "natural": Finish(shading=0.95, carry=0.5, sheen=0.0, gloss=0.0, sparkle=0.0),
    "cream": Finish(shading=0.8, carry=0.3, sheen=0.05, gloss=0.0, sparkle=0.0),
    "satin": Finish(shading=0.85, carry=0.3, sheen=0.10, gloss=0.0, sparkle=0.0),
    "gloss": Finish(shading=1.05, carry=0.4, sheen=0.04, gloss=0.45, sparkle=0.0),
    "shimmer": Finish(shading=0.9, carry=0.3, sheen=0.06, gloss=0.0, sparkle=0.9),
    "metallic": Finish(shading=1.2, carry=0.3, sheen=0.18, gloss=0.0, sparkle=0.5, metallic=True),
    "glitter": Finish(shading=0.9, carry=0.3, sheen=0.04, gloss=0.1, sparkle=1.6),
}


def smoothstep(e0: float, e1: float, x: NDArray[np.float32]) -> NDArray[np.float32]:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    out: NDArray[np.float32] = t * t * (3.0 - 2.0 * t)
    return out


def light_level(ref_luminance: float) -> float:
    """A rough scene light level from a region's mean luminance (lips/skin reflect ~10–40%)."""
    return float(np.clip(ref_luminance / 0.15, 0.15, 1.5))


def highlight(relative: NDArray[np.float32], prior: NDArray[np.float32], sharp: bool) -> NDArray[np.float32]:
    """Where the specular goes: the region's shape prior, brightened where the light hits the
    surface (the surface's own relative luminance ``Y / Y_ref``)."""
    lit = smoothstep(0.85, 1.35, relative)
    h = prior * (0.15 + 0.85 * lit)
    out: NDArray[np.float32] = h * h if sharp else h
    return out


def seed_of(*keys: str) -> int:
    return zlib.crc32("/".join(keys).encode())


def sparkle_field(
    box: Box, quads: NDArray[np.float64], seed: int, density: float, size: float
) -> NDArray[np.float32]:
    """A sparkle intensity map over ``box`` for quads ``(n, 4, 2)`` in frame pixels.

    Candidates are fixed per seed: quad index, bilinear (u, v), a brightness and a threshold. A
    candidate shows when its threshold is below the quad's area × ``density`` / candidates per
    quad, so the number of sparkles follows the region's size while each keeps its place.
    """
    n = len(quads)
    per_quad = 48
    rng = np.random.default_rng(seed)
    u = rng.random((n, per_quad))
    v = rng.random((n, per_quad))
    bright = 0.35 + 0.65 * rng.random((n, per_quad)) ** 2
    thresh = rng.random((n, per_quad))
    p0, p1, p2, p3 = (quads[:, i, None, :] for i in range(4))
    uu, vv = u[..., None], v[..., None]
    xy = (1 - uu) * (1 - vv) * p0 + uu * (1 - vv) * p1 + uu * vv * p2 + (1 - uu) * vv * p3
    d1 = quads[:, 2] - quads[:, 0]
    d2 = quads[:, 3] - quads[:, 1]
    area = 0.5 * np.abs(d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0])
    keep = thresh < np.minimum(1.0, area[:, None] * density / per_quad)
    pts = xy[keep] - np.array([box.x0, box.y0])
    b = bright[keep]
    field = np.zeros((box.height, box.width), np.float32)
    if len(pts):
        # bilinear splat, then a small blur: sub-pixel positions, so a slow move does not pop
        x0 = np.floor(pts[:, 0]).astype(np.int64)
        y0 = np.floor(pts[:, 1]).astype(np.int64)
        fx = pts[:, 0] - x0
        fy = pts[:, 1] - y0
        for dx, dy, w in (
            (0, 0, (1 - fx) * (1 - fy)),
            (1, 0, fx * (1 - fy)),
            (0, 1, (1 - fx) * fy),
            (1, 1, fx * fy),
        ):
            xi, yi = x0 + dx, y0 + dy
            ok = (xi >= 0) & (yi >= 0) & (xi < box.width) & (yi < box.height)
            np.add.at(field, (yi[ok], xi[ok]), (w * b)[ok].astype(np.float32))
        field = feather(field, size) * np.float32(2.0 * np.pi * size * size)
    return np.minimum(field, 1.5).astype(np.float32)


def specular_prior(
    box: Box, quads: NDArray[np.float64], weights: NDArray[np.float64], sigma: float
) -> NDArray[np.float32]:
    """A soft map of where a surface catches highlights, from weighted quads (e.g. the middle of
    the lower lip)."""
    canvas = np.zeros((box.height, box.width), np.float32)
    for quad, w in zip(quads, weights, strict=True):
        if w <= 0:
            continue
        layer = np.zeros_like(canvas, dtype=np.uint8)
        pts = np.round((quad - np.array([box.x0, box.y0])) * 16).astype(np.int32)
        cv2.fillConvexPoly(layer, pts, 255, lineType=cv2.LINE_AA, shift=4)
        canvas = np.maximum(canvas, layer.astype(np.float32) * np.float32(w / 255.0))
    return feather(canvas, sigma)
