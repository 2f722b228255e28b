"""Procedurally drawn jewellery (the starter catalog's earrings and necklaces, and test material):
RGBA sprites whose RGB is the shading a variant's colour multiplies (metal, pearl), with anchors.

The shading comes from the shape itself: a rounded height field built from the distance to the
shape's edge, lit from the upper left with a broad diffuse term and a sharp highlight, so a
tinted sprite reads as polished metal or pearl rather than a flat cut-out.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.art.base import polyline, relief_shading
from tryon.errors import InputError
from tryon.render.masks import fixed_point, fixed_points
from tryon.render.sprite import Sprite

EARRING_PX_PER_MM = 12.0
NECKLACE_PX_PER_MM = 6.0
EARRING_STYLES = ("hoop", "teardrop", "ball-stud", "bar-drop", "halo-stud")
NECKLACE_STYLES = ("pendant-chain", "pearl-strand", "collar")


def _sprite(
    mask: NDArray[np.uint8],
    shading: NDArray[np.float32],
    anchors: dict[str, tuple[float, float]],
    px_per_mm: float,
    name: str,
    colour: NDArray[np.float32] | None = None,
) -> Sprite:
    w = mask.shape[1]
    rgb = np.repeat(shading[..., None], 3, axis=2) if colour is None else colour
    rgb = np.where((mask > 0)[..., None], rgb, 0.0)  # no colour where nothing is drawn
    rgba = np.dstack([np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8), mask])
    return Sprite(np.ascontiguousarray(rgba), anchors, w / px_per_mm, name)


def draw_earring(style: str, px_per_mm: float = EARRING_PX_PER_MM) -> Sprite:
    """One earring (the one for the subject's left ear; mirrored for the right), anchor ``hook``."""
    s = px_per_mm
    if style == "hoop":  # a 28 mm hoop, 2.4 mm tube, hung from its top
        w, h = round(34 * s), round(36 * s)
        mask = np.zeros((h, w), np.uint8)
        c, r = (w / 2, 3 * s + 14 * s), 14 * s
        cv2.ellipse(
            mask, fixed_point(c), fixed_point((r, r)), 0, 0, 360, 255, round(2.4 * s), cv2.LINE_AA, shift=4
        )
        hook = (w / 2, c[1] - r)
        shading = relief_shading(mask, 1.2 * s)
    elif style == "teardrop":  # a wire, then a 22 mm teardrop with a pierced centre
        w, h = round(20 * s), round(40 * s)
        mask = np.zeros((h, w), np.uint8)
        top = 2 * s
        polyline(mask, np.array([[w / 2, top], [w / 2, top + 8 * s]]), 0.9 * s)
        t = np.linspace(0, 2 * math.pi, 160)
        cx, cy = w / 2, top + 8 * s + 11 * s
        xs = cx + 8.0 * s * np.sin(t) * np.sin(t / 2)
        ys = cy - 11 * s * np.cos(t)
        outline = np.column_stack([xs, ys])
        cv2.fillPoly(mask, [fixed_points(outline)], 255, cv2.LINE_AA, shift=4)
        inner = np.column_stack([cx + (xs - cx) * 0.45, cy + 3 * s + (ys - cy) * 0.45])
        cv2.fillPoly(mask, [fixed_points(inner)], 0, cv2.LINE_AA, shift=4)
        hook = (w / 2, top)
        shading = relief_shading(mask, 1.6 * s)
    elif style == "ball-stud":  # a 7 mm polished ball
        w = h = round(10 * s)
        mask = np.zeros((h, w), np.uint8)
        cv2.circle(mask, fixed_point((w / 2, h / 2)), int(3.5 * s * 16), 255, -1, cv2.LINE_AA, shift=4)
        hook = (w / 2, h / 2)
        shading = relief_shading(mask, 3.5 * s, gloss=60)
    elif style == "bar-drop":  # a 42 mm line drop of graduated links
        w, h = round(12 * s), round(50 * s)
        mask = np.zeros((h, w), np.uint8)
        top = 2 * s
        polyline(mask, np.array([[w / 2, top], [w / 2, top + 5 * s]]), 0.9 * s)
        y = top + 5 * s
        for i in range(5):
            length, width = (5 + 1.2 * i) * s, (2.2 + 0.5 * i) * s
            cv2.ellipse(
                mask,
                fixed_point((w / 2, y + length / 2)),
                fixed_point((width / 2, length / 2)),
                0,
                0,
                360,
                255,
                -1,
                cv2.LINE_AA,
                shift=4,
            )
            y += length + 0.6 * s
        hook = (w / 2, top)
        shading = relief_shading(mask, 1.0 * s)
    elif style == "halo-stud":  # a 9 mm blue stone in a ring of small stones (drawn in colour)
        w = h = round(13 * s)
        mask = np.zeros((h, w), np.uint8)
        c = (w / 2, h / 2)
        cv2.circle(mask, fixed_point(c), int(5.6 * s * 16), 255, -1, cv2.LINE_AA, shift=4)
        shading = relief_shading(mask, 1.0 * s, gloss=30)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        rr = np.hypot(xx - c[0], yy - c[1]) / s
        facets = 0.5 + 0.5 * np.cos(8 * np.arctan2(yy - c[1], xx - c[0])) * np.cos(rr * 1.6)
        stone = np.dstack([0.10 + 0.25 * facets, 0.22 + 0.3 * facets, 0.55 + 0.4 * facets])
        metal = np.repeat((shading * 0.95)[..., None], 3, axis=2)
        colour = np.where((rr < 4.3)[..., None], stone, metal).astype(np.float32)
        return _sprite(mask, shading, {"hook": c}, s, f"earring {style}", colour)
    else:
        raise InputError(f"earring style: expected one of {', '.join(EARRING_STYLES)}, got {style!r}")
    return _sprite(mask, shading, {"hook": hook}, s, f"earring {style}")


def _chain_curve(width: float, top: float, drop: float, n: int = 200) -> NDArray[np.float64]:
    """A necklace's front curve from the right end (image left) to the left end: steep where it
    comes round the neck, flatter at the front, ``(n, 2)``."""
    t = np.linspace(0.0, 1.0, n)
    x = width * t
    y = top + drop * np.sin(math.pi * t) ** 0.7
    return np.column_stack([x, y])


def draw_necklace(style: str, px_per_mm: float = NECKLACE_PX_PER_MM) -> Sprite:
    """A necklace seen from the front, anchors ``left_end`` (image right) and ``right_end``."""
    s = px_per_mm
    span = 96 * s  # where the chain goes behind the neck, ~ a neck's width apart
    margin = 8 * s
    if style == "pendant-chain":
        drop = 92 * s
    elif style == "pearl-strand":
        drop = 70 * s
    elif style == "collar":
        drop = 36 * s
    else:
        raise InputError(f"necklace style: expected one of {', '.join(NECKLACE_STYLES)}, got {style!r}")
    w, h = round(span + 2 * margin), round(drop + 40 * s)
    top = 3 * s
    curve = _chain_curve(span, top, drop) + np.array([margin, 0.0])
    mask = np.zeros((h, w), np.uint8)
    if style == "pendant-chain":
        polyline(mask, curve, 0.9 * s)
        shading = relief_shading(mask, 0.5 * s, gloss=25)
        # Links: a faint periodic bump along the chain.
        yy, xx = np.mgrid[0:h, 0:w]
        shading *= (0.85 + 0.15 * np.cos((xx + yy) * (2 * math.pi / (1.6 * s)))).astype(np.float32)
        bottom = curve[len(curve) // 2]
        pend = np.zeros_like(mask)
        cv2.circle(
            pend,
            fixed_point(bottom + np.array([0.0, 1.2 * s])),
            int(1.0 * s * 16),
            255,
            round(0.5 * s),
            cv2.LINE_AA,
            shift=4,
        )
        t = np.linspace(0, 2 * math.pi, 120)
        drop_c = bottom + np.array([0.0, 9 * s])
        heart = np.column_stack(
            [6.5 * s * np.sin(t) ** 3, -5.5 * s * (np.cos(t) - 0.35 * np.cos(2 * t) - 0.2 * np.cos(3 * t))]
        )
        cv2.fillPoly(pend, [fixed_points(heart + drop_c)], 255, cv2.LINE_AA, shift=4)
        shading = np.where(pend > 0, relief_shading(pend, 2.2 * s), shading).astype(np.float32)
        mask = np.maximum(mask, pend)
    elif style == "pearl-strand":
        length = np.cumsum(np.r_[0, np.hypot(*np.diff(curve, axis=0).T)])
        r = 3.6 * s
        count = int(length[-1] // (2 * r * 1.02)) + 1  # pearls from one end to the other
        along = np.linspace(0.0, length[-1], count)
        centres = np.column_stack([np.interp(along, length, curve[:, i]) for i in (0, 1)])
        shading = np.zeros((h, w), np.float32)
        for c in centres:
            bead = np.zeros_like(mask)
            cv2.circle(bead, fixed_point(c), int(r * 16), 255, -1, cv2.LINE_AA, shift=4)
            x0, y0 = max(int(c[0] - r - 3), 0), max(int(c[1] - r - 3), 0)
            x1, y1 = int(c[0] + r + 4), int(c[1] + r + 4)
            sub = relief_shading(bead[y0:y1, x0:x1], r, shine=0.8, gloss=30)
            inside = bead[y0:y1, x0:x1] > 0
            shading[y0:y1, x0:x1][inside] = 0.25 + 0.75 * sub[inside]
            mask[y0:y1, x0:x1] = np.maximum(mask[y0:y1, x0:x1], bead[y0:y1, x0:x1])
    else:  # collar: a flat, wide, slightly tapered band
        upper = curve
        lower = _chain_curve(span, top, drop) + np.array([margin, 0.0])
        lower[:, 1] += 9 * s * np.sin(np.linspace(0, math.pi, len(lower))) ** 0.5
        poly = np.concatenate([upper, lower[::-1]])
        cv2.fillPoly(mask, [fixed_points(poly)], 255, cv2.LINE_AA, shift=4)
        shading = relief_shading(mask, 2.5 * s, gloss=20)
    anchors = {
        "right_end": (float(curve[0, 0]), float(curve[0, 1])),
        "left_end": (float(curve[-1, 0]), float(curve[-1, 1])),
    }
    return _sprite(mask, shading, anchors, s, f"necklace {style}")
