"""A procedurally drawn nail-polish swatch (the starter catalog's thumbnails): a lacquer bottle
with its cap and a painted nail beside it, in the shade and finish, on a neutral background.

Drawn in linear light from signed distances, 2× supersampled, so edges are anti-aliased.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from tryon.errors import InputError
from tryon.render.color import linear_color, to_srgb

RGB = tuple[int, int, int]
FINISH_NAMES = ("cream", "gloss", "shimmer", "glitter")
_SS = 2


def _rounded_box(
    x: NDArray[np.float32], y: NDArray[np.float32], cx: float, cy: float, hx: float, hy: float, r: float
) -> NDArray[np.float32]:
    """Signed distance to a rounded rectangle (negative inside)."""
    qx = np.abs(x - cx) - hx + r
    qy = np.abs(y - cy) - hy + r
    outside = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0))
    out: NDArray[np.float32] = outside + np.minimum(np.maximum(qx, qy), 0) - r
    return out


def _nail(
    x: NDArray[np.float32], y: NDArray[np.float32], cx: float, cy: float, hx: float, hy: float
) -> NDArray[np.float32]:
    """Signed distance (approximate) to an upright nail: a superellipse, the free edge on top."""
    u = (x - cx) / hx
    v = (y - cy) / hy
    e = np.where(v < 0, 2.4, 3.4)
    rho = (np.abs(u) ** e + np.abs(v) ** e) ** (1.0 / e)
    out: NDArray[np.float32] = ((rho - 1.0) * min(hx, hy)).astype(np.float32)
    return out


def _cover(sdf: NDArray[np.float32], px: float) -> NDArray[np.float32]:
    out: NDArray[np.float32] = np.clip(0.5 - sdf / px, 0.0, 1.0).astype(np.float32)
    return out


def _over(img: NDArray[np.float32], alpha: NDArray[np.float32], colour: NDArray[np.float32]) -> None:
    img += alpha[..., None] * (colour - img)


def _specks(
    img: NDArray[np.float32],
    inside: NDArray[np.float32],
    rng: np.random.Generator,
    count: int,
    radius: float,
    tint: NDArray[np.float32],
    gain: float,
) -> None:
    """Sparkles inside a region: bright soft dots of ``radius`` (in the canvas' pixels)."""
    h, w = inside.shape
    ys, xs = np.nonzero(inside > 0.9)
    if len(xs) == 0:
        return
    pick = rng.integers(0, len(xs), count)
    r = int(np.ceil(3 * radius))
    oy, ox = np.mgrid[-r : r + 1, -r : r + 1].astype(np.float32)
    for i in pick:
        y0, x0 = int(ys[i]), int(xs[i])
        ya, yb, xa, xb = max(y0 - r, 0), min(y0 + r + 1, h), max(x0 - r, 0), min(x0 + r + 1, w)
        dot = np.exp(-(ox * ox + oy * oy) / (2 * radius * radius)) * gain * (0.35 + 0.65 * rng.random())
        dot = dot[ya - y0 + r : yb - y0 + r, xa - x0 + r : xb - x0 + r] * inside[ya:yb, xa:xb]
        img[ya:yb, xa:xb] += dot[..., None] * tint


def draw_swatch(
    color: RGB, finish: str, shimmer_color: RGB | None = None, size: int = 256, seed: int = 0
) -> NDArray[np.uint8]:
    """An RGB ``(size, size, 3)`` thumbnail of a polish shade: bottle and a painted nail."""
    if finish not in FINISH_NAMES:
        raise InputError(f"nail finish: expected one of {', '.join(FINISH_NAMES)}, got {finish!r}")
    n = size * _SS
    px = 1.0 / n
    y, x = (np.mgrid[0:n, 0:n].astype(np.float32) + 0.5) / np.float32(n)
    img = np.empty((n, n, 3), np.float32)
    img[:] = (0.80 - 0.12 * y)[..., None] * np.array([1.0, 0.97, 0.93], np.float32)
    c = linear_color(color)
    rng = np.random.default_rng(seed)
    tint = (
        linear_color(shimmer_color) if shimmer_color else (0.5 + 0.5 * c / max(float(c.max()), 1e-4))
    ).astype(np.float32)
    gloss = 0.9 if finish == "gloss" else 0.45

    # shadows on the table
    for cx, hx in ((0.38, 0.2), (0.78, 0.1)):
        d = ((x - cx) / hx) ** 2 + ((y - 0.9) / 0.03) ** 2
        img *= (1.0 - 0.35 * np.exp(-d))[..., None]

    # the bottle: glass body with lacquer inside, a neck, a black cap
    body = _rounded_box(x, y, 0.38, 0.7, 0.2, 0.19, 0.06)
    glass = _cover(body, px)
    _over(img, glass, np.array([0.85, 0.85, 0.87], np.float32))
    lacquer = _cover(body + 0.014, px)
    u = np.clip((x - 0.38) / 0.2, -1, 1)
    shade = (0.45 + 0.55 * np.sqrt(1.0 - u * u)) * (1.0 - 0.25 * np.clip((y - 0.55) / 0.34, 0, 1))
    _over(img, lacquer, c * shade[..., None])
    if finish in ("shimmer", "glitter"):
        count, radius = (450, 0.7) if finish == "shimmer" else (70, 1.5)
        _specks(img, lacquer, rng, count, radius * _SS, tint, 0.6 if finish == "shimmer" else 1.3)
    neck = _cover(_rounded_box(x, y, 0.38, 0.49, 0.085, 0.04, 0.01), px)
    _over(img, neck, c * 0.6 + 0.15)
    cap = _cover(_rounded_box(x, y, 0.38, 0.3, 0.09, 0.17, 0.025), px)
    cu = np.clip((x - 0.38) / 0.09, -1, 1)
    _over(img, cap, (0.012 + 0.03 * np.sqrt(1 - cu * cu))[..., None] * np.ones(3, np.float32))
    for cx, w, k, mask in ((0.25, 0.018, gloss, glass), (0.33, 0.008, 0.5, cap), (0.52, 0.01, 0.3, glass)):
        streak = np.exp(-(((x - cx) / w) ** 2)) * mask * k
        img += streak[..., None] * 0.8

    # a painted nail beside it, on a fingertip of skin
    finger = _cover(_rounded_box(x, y, 0.78, 0.66, 0.095, 0.26, 0.09), px)
    fu = np.clip((x - 0.78) / 0.095, -1, 1)
    skin = linear_color((226, 176, 146)) * (0.6 + 0.4 * np.sqrt(1 - fu * fu))[..., None]
    _over(img, finger, skin)
    nail_d = _nail(x, y, 0.78, 0.55, 0.065, 0.11)
    nail = _cover(nail_d, px)
    nu = np.clip((x - 0.78) / 0.065, -1, 1)
    _over(img, nail, c * (1.0 - 0.3 * nu * nu)[..., None])
    if finish in ("shimmer", "glitter"):
        count, radius = (90, 0.7) if finish == "shimmer" else (16, 1.5)
        _specks(img, nail, rng, count, radius * _SS, tint, 0.6 if finish == "shimmer" else 1.3)
    streak = np.exp(-(((x - 0.755) / 0.012) ** 2)) * nail * gloss * np.clip((0.62 - y) / 0.05, 0, 1)
    img += streak[..., None] * 0.8

    small = img.reshape(size, _SS, size, _SS, 3).mean(axis=(1, 3))
    return np.ascontiguousarray(to_srgb(small))
