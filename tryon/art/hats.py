"""Procedurally drawn hats (the starter catalog's, and test material), seen from the front at eye
level: RGBA sprites whose RGB is the shading a variant's colour multiplies, with anchors
``brim_left`` / ``brim_right`` at the two ends of the brim (``brim_left`` is the subject's left,
the image's right) on the line where the hat sits on the head.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.art.base import relief_shading
from tryon.errors import InputError
from tryon.render.masks import fixed_point, fixed_points
from tryon.render.sprite import Sprite

HAT_PX_PER_MM = 4.0
HAT_STYLES = ("fedora", "beanie", "sun-hat")


def _crown(
    cx: float, base: float, width_bottom: float, width_top: float, height: float, dent: float
) -> NDArray[np.float64]:
    """A crown outline: sides tapering up to a rounded top with a centre dent (a pinch)."""
    t = np.linspace(0.0, 1.0, 60)
    left = np.column_stack(
        [cx - width_bottom / 2 + (width_bottom - width_top) / 2 * t, base - height * 0.8 * t]
    )
    a = np.linspace(math.pi, 0.0, 80)
    top = np.column_stack([cx + width_top / 2 * np.cos(a), base - height * 0.8 - height * 0.2 * np.sin(a)])
    top[:, 1] += dent * np.exp(-(((top[:, 0] - cx) / (width_top * 0.18)) ** 2))
    right = left[::-1].copy()
    right[:, 0] = 2 * cx - right[:, 0]
    return np.concatenate([left, top, right])


def _noise(shape: tuple[int, int], scale: float, seed: int) -> NDArray[np.float32]:
    rng = np.random.default_rng(seed)
    small = rng.standard_normal((max(2, int(shape[0] / scale)), max(2, int(shape[1] / scale)))).astype(
        np.float32
    )
    out = np.asarray(cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC), np.float32)
    return out


def draw_hat(style: str, px_per_mm: float = HAT_PX_PER_MM) -> Sprite:
    s = px_per_mm
    if style == "fedora":
        brim_w, brim_h, crown_wb, crown_wt, crown_h, dent, band = 310, 34, 178, 150, 118, 10, 22
    elif style == "sun-hat":
        brim_w, brim_h, crown_wb, crown_wt, crown_h, dent, band = 420, 50, 176, 160, 100, 0, 26
    elif style == "beanie":
        brim_w, brim_h, crown_wb, crown_wt, crown_h, dent, band = 196, 0, 196, 170, 150, 0, 0
    else:
        raise InputError(f"hat style: expected one of {', '.join(HAT_STYLES)}, got {style!r}")
    w = round((brim_w + 12) * s)
    h = round((crown_h + brim_h + 40 + (36 if style == "beanie" else 0)) * s)
    cx, base = w / 2, (crown_h + 22) * s  # base: where the hat sits on the head
    mask = np.zeros((h, w), np.uint8)
    crown = _crown(cx, base, crown_wb * s, crown_wt * s, crown_h * s, dent * s)
    if style == "beanie":
        # A dome down to a folded ribbed cuff 45 mm deep; "base" is the cuff's centre line.
        a = np.linspace(math.pi, 0.0, 120)
        dome = np.column_stack(
            [cx + crown_wb * s / 2 * np.cos(a), base - 20 * s - crown_h * 0.8 * s * np.sin(a) ** 0.8]
        )
        cuff = np.array([[cx + crown_wb * s / 2, base + 24 * s], [cx - crown_wb * s / 2, base + 24 * s]])
        cv2.fillPoly(mask, [fixed_points(np.concatenate([dome, cuff]))], 255, cv2.LINE_AA, shift=4)
        shading = relief_shading(mask, 30 * s, shine=0.0)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        ribs = 0.82 + 0.18 * np.cos(xx * (2 * math.pi / (6 * s)))
        knit = 0.9 + 0.1 * np.cos(yy * (2 * math.pi / (4 * s))) * np.cos(xx * (2 * math.pi / (3 * s)))
        in_cuff = yy > base - 21 * s
        shading = shading * np.where(in_cuff, ribs, knit).astype(np.float32)
        shading[np.abs(yy - (base - 21 * s)) < 1.2 * s] *= 0.7  # the fold
        brim_right, brim_left = (cx - crown_wb * s / 2, base), (cx + crown_wb * s / 2, base)
    else:
        brim = np.zeros_like(mask)
        cv2.ellipse(
            brim,
            fixed_point((cx, base)),
            fixed_point((brim_w * s / 2, brim_h * s / 2)),
            0,
            0,
            360,
            255,
            -1,
            cv2.LINE_AA,
            shift=4,
        )
        crown_mask = np.zeros_like(mask)
        cv2.fillPoly(crown_mask, [fixed_points(crown)], 255, cv2.LINE_AA, shift=4)
        # The brim is seen slightly from below: its front half, under the base line, is in front
        # of the crown; the crown hides the back half.
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        front_brim = (brim > 0) & (yy >= base)
        mask = np.maximum(np.maximum(brim, crown_mask), 0).astype(np.uint8)
        brim_shade = relief_shading(brim, 6 * s, shine=0.2, gloss=12) * (0.85 - 0.25 * (yy > base))
        crown_shade = relief_shading(crown_mask, 40 * s, shine=0.15, gloss=8)
        crown_shade *= 1.0 - 0.25 * np.exp(-(((xx - cx) / (crown_wt * s * 0.12)) ** 2)) * (
            yy < base - crown_h * s * 0.5
        )
        shading = np.where(front_brim | (crown_mask == 0), brim_shade, crown_shade).astype(np.float32)
        band_zone = (crown_mask > 0) & (yy < base) & (yy > base - band * s) & ~front_brim
        shading[band_zone] *= 0.38
        if style == "sun-hat":  # straw weave
            weave = 0.86 + 0.06 * np.sign(
                np.sin(xx * (2 * math.pi / (5 * s))) * np.sin(yy * (2 * math.pi / (5 * s)))
            )
            shading *= (weave + 0.04 * _noise((h, w), 3 * s, 7)).astype(np.float32)
        brim_right, brim_left = (cx - brim_w * s / 2, base), (cx + brim_w * s / 2, base)
    # Fabric and straw are matte: lift the relief's mid-tones so the tint reads as the colour.
    rgb = np.round(np.clip(shading * 1.45, 0.0, 1.0) * 255).astype(np.uint8)
    rgb[mask == 0] = 0  # no colour where nothing is drawn
    rgba = np.dstack([rgb, rgb, rgb, mask])
    anchors = {
        "brim_left": (float(brim_left[0]), float(brim_left[1])),
        "brim_right": (float(brim_right[0]), float(brim_right[1])),
    }
    return Sprite(np.ascontiguousarray(rgba), anchors, w / s, f"hat {style}")
