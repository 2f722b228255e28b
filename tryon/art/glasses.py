"""Procedurally drawn glasses fronts (the starter catalog's, and test material): RGBA frames whose
RGB is the shading to colour, a lens mask, and the anchors, at 10 pixels per millimetre."""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.art.base import polyline
from tryon.errors import InputError
from tryon.render.glasses import GlassesAsset
from tryon.render.masks import fixed_points

PX_PER_MM = 10.0
STYLES = ("round", "rectangle", "cat-eye", "aviator", "wayfarer")
MARGIN_MM = 1.5
"""Clear space round the drawn frame, at both sides (nothing of the frame touches the image's edge)."""

SHAPES: dict[str, tuple[tuple[float, float], ...]] = {
    # The lens before the subject's right eye, in half-widths and half-heights: x towards the
    # nose, y down; smoothed by corner cutting (a point kept sharper where two lie close).
    # A cat-eye: a flat brow line rising to an outer corner swept up and out to a point, the
    # bottom rounded and narrower towards the nose.
    "cat-eye": (
        (-1.14, -1.04),
        (-1.04, -1.0),
        (-0.45, -0.8),
        (0.3, -0.74),
        (0.88, -0.6),
        (1.0, -0.1),
        (0.9, 0.45),
        (0.55, 0.88),
        (0.05, 1.0),
        (-0.45, 0.92),
        (-0.86, 0.6),
        (-1.0, 0.1),
        (-1.05, -0.55),
    ),
    # An aviator: a teardrop with a straight top bar, the outer side falling steeply, the lens
    # dropping deepest low towards the nose and rising to the bridge.
    "aviator": (
        (-0.98, -0.86),
        (-0.4, -0.96),
        (0.3, -0.94),
        (0.88, -0.8),
        (1.0, -0.4),
        (0.96, 0.15),
        (0.76, 0.66),
        (0.36, 1.02),
        (-0.15, 0.96),
        (-0.62, 0.6),
        (-0.94, 0.05),
        (-1.02, -0.5),
    ),
}
"""Lens shapes drawn from control points (the others are closed-form curves)."""


def _smooth_outline(
    points: tuple[tuple[float, float], ...], n: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A closed polygon through ``points`` smoothed by Chaikin's corner cutting, resampled to
    ``n`` points evenly spaced along it (starting from the outer side, as the ellipses do)."""
    poly = np.array(points, np.float64)
    for _ in range(4):
        nxt = np.roll(poly, -1, axis=0)
        poly = np.stack([0.75 * poly + 0.25 * nxt, 0.25 * poly + 0.75 * nxt], axis=1).reshape(-1, 2)
    closed = np.vstack([poly, poly[:1]])
    seg = np.linalg.norm(np.diff(closed, axis=0), axis=1)
    at = np.concatenate([[0.0], np.cumsum(seg)])
    start = int(np.argmin(poly[:, 0] - 10.0 * np.abs(poly[:, 1])))  # the outermost point near y = 0
    want = (at[start] + np.linspace(0.0, at[-1], n, endpoint=False)) % at[-1]
    return np.interp(want, at, closed[:, 0]), np.interp(want, at, closed[:, 1])


def lens_outline(style: str, width: float, height: float, n: int = 96) -> NDArray[np.float64]:
    """The outline of the lens in front of the subject's right eye (the image's left), centred
    at the origin, ``(n, 2)`` in pixels; x to the image's right (towards the nose), y down."""
    t = np.linspace(0, 2 * math.pi, n, endpoint=False)
    a, b = width / 2, height / 2
    if style == "round":
        x, y = a * np.cos(t), b * np.sin(t)
    elif style in ("rectangle", "wayfarer"):
        p = 6.0  # a superellipse: a rectangle with rounded corners
        x = a * np.sign(np.cos(t)) * np.abs(np.cos(t)) ** (2 / p)
        y = b * np.sign(np.sin(t)) * np.abs(np.sin(t)) ** (2 / p)
        if style == "wayfarer":  # wider at the top, the outer top corner raised
            x = x * (1.0 - 0.12 * (y / b))
            y = y - 0.12 * b * np.clip(-x / a, 0, 1) * (y < 0)
    elif style in SHAPES:
        x, y = _smooth_outline(SHAPES[style], n)
        x, y = a * x, b * y
    else:
        raise InputError(f"glasses style: expected one of {', '.join(STYLES)}, got {style!r}")
    return np.column_stack([x, y])


def draw_glasses(
    style: str,
    lens_width_mm: float = 50.0,
    lens_height_mm: float = 40.0,
    bridge_mm: float = 18.0,
    rim_mm: float = 3.0,
    temple_stub_mm: float = 6.0,
) -> GlassesAsset:
    """A frame front of ``style``: two lenses, rims ``rim_mm`` thick, a bridge, hinge blocks."""
    s = PX_PER_MM
    lw, lh, br, rim = lens_width_mm * s, lens_height_mm * s, bridge_mm * s, rim_mm * s
    outline = lens_outline(style, lw, lh)
    # Wide enough for the lenses as drawn (a wayfarer's top and a cat-eye's wing reach beyond the
    # lens width), the rims, the hinge blocks and a margin: nothing cut at the sides.
    reach = br / 2 + lw / 2 - outline[:, 0].min() + rim / 2 + temple_stub_mm * s / 2 + rim * 0.6
    width = max(2 * lw + br + 2 * (rim + temple_stub_mm * s), 2 * (reach + MARGIN_MM * s))
    height = max(lh * 1.5 + 2 * rim, 2 * (np.abs(outline[:, 1]).max() + rim + MARGIN_MM * s))
    W, H = round(width), round(height)
    cy = H / 2
    right_c = np.array([W / 2 - br / 2 - lw / 2, cy])
    left_c = np.array([W / 2 + br / 2 + lw / 2, cy])
    right_lens = outline + right_c
    left_lens = outline * [-1, 1] + left_c  # mirrored for the other eye
    alpha = np.zeros((H, W), np.uint8)
    lenses = np.zeros((H, W), np.uint8)
    for poly in (right_lens, left_lens):
        polyline(alpha, poly, rim, closed=True)
        cv2.fillPoly(lenses, [fixed_points(poly)], 255, cv2.LINE_AA, shift=4)
    # Bridge: a bar between the inner rims at the upper third of the lenses.
    by = cy - lh * 0.18
    inner_r = right_lens[np.argmax(right_lens[:, 0])]
    inner_l = left_lens[np.argmin(left_lens[:, 0])]
    bridge_pts = np.array([[inner_r[0] - rim, by], [inner_l[0] + rim, by]])
    polyline(alpha, bridge_pts, rim * 0.9)
    if style == "aviator":  # a double bridge
        top = bridge_pts - [0, lh * 0.2]
        polyline(alpha, top, rim * 0.6)
    # Hinge blocks at the outer ends, at the top of the lenses.
    hy = cy - lh * 0.3
    outer_r = right_lens[:, 0].min() - rim / 2
    outer_l = left_lens[:, 0].max() + rim / 2
    right_hinge = (float(outer_r - temple_stub_mm * s * 0.5), float(hy))
    left_hinge = (float(outer_l + temple_stub_mm * s * 0.5), float(hy))
    for x_from, x_to in ((outer_r, right_hinge[0]), (outer_l, left_hinge[0])):
        polyline(alpha, np.array([[x_from, hy], [x_to, hy]]), rim * 1.2)
    # Shading: light from above, a highlight along the top of the rims.
    yy = np.linspace(0, 1, H, dtype=np.float32)[:, None]
    shade = 0.92 - 0.25 * yy
    highlight = cv2.GaussianBlur((alpha > 0).astype(np.float32), (0, 0), rim * 0.3)
    shade = np.clip(shade + 0.1 * (highlight - cv2.GaussianBlur(highlight, (0, 0), rim)), 0, 1)
    rgb = np.repeat((shade * 255).astype(np.uint8)[..., None], 3, axis=2)
    rgb[alpha == 0] = 0  # no colour where there is no frame (and smaller files)
    lenses = np.where(alpha > 128, 0, lenses).astype(np.uint8)
    front = np.dstack([rgb, alpha])
    bridge = (float(W / 2), float(by - rim / 2))
    return GlassesAsset(
        front=np.ascontiguousarray(front),
        lenses=np.ascontiguousarray(lenses),
        left_lens=(float(left_c[0]), float(left_c[1])),
        right_lens=(float(right_c[0]), float(right_c[1])),
        bridge=bridge,
        left_hinge=left_hinge,
        right_hinge=right_hinge,
    )


def glasses_thumbnail(
    asset: GlassesAsset, frame: str, lens: str, opacity: float, size: int = 256, fill: float = 0.84
) -> NDArray[np.uint8]:
    """An RGB ``size`` × ``size`` picture of ``asset`` on white, as the other products'
    thumbnails: the frame in the colour ``frame``, the lenses tinted ``lens`` at ``opacity``
    (``"#RRGGBB"``; blended in sRGB: a picture, not a render), the drawn part's width ``fill`` of
    the picture, centred, so a square card shows the whole frame."""
    front, lenses = asset.front, asset.lenses
    rgb = np.array([int(frame[i : i + 2], 16) for i in (1, 3, 5)], np.float32)
    tint = np.array([int(lens[i : i + 2], 16) for i in (1, 3, 5)], np.float32)
    out = np.full((*front.shape[:2], 3), 255.0, np.float32)
    la = (lenses.astype(np.float32) / 255.0 * opacity)[..., None]
    out = out * (1 - la) + tint * la
    fa = front[..., 3:4].astype(np.float32) / 255.0
    shade = front[..., :3].astype(np.float32) / 255.0
    out = out * (1 - fa) + rgb * shade * fa
    ys, xs = np.nonzero((front[..., 3] > 5) | (lenses > 5))
    crop = out[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    h, w = crop.shape[:2]
    k = size * fill / max(h, w)
    small = cv2.resize(crop, (max(1, round(w * k)), max(1, round(h * k))), interpolation=cv2.INTER_AREA)
    picture = np.full((size, size, 3), 255, np.uint8)
    y0, x0 = (size - small.shape[0]) // 2, (size - small.shape[1]) // 2
    picture[y0 : y0 + small.shape[0], x0 : x0 + small.shape[1]] = np.clip(np.round(small), 0, 255)
    return picture
