"""Hardware of the drawn garments (:mod:`tryon.art.garments`): buttons and a zip, drawn after
the lighting, in linear light, over the lit cloth.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from tryon.art.base import F32, catmull, hex_rgb
from tryon.art.garment_drawing import Drawing, Hardware, rib_colour


def buttons(centres: list[tuple[float, float]], r: float, colour: str, kind: str) -> Hardware:
    def draw(d: Drawing, lin: F32) -> F32:
        c = d.c
        base = hex_rgb(colour) ** 2.2
        for cx, cy in centres:
            ((px, py),) = c.px(np.array([[cx, cy]]))
            rad = r * c.px_mm
            x0, x1 = max(0, int(px - 2 * rad)), min(c.w, int(px + 2 * rad) + 2)
            y0, y1 = max(0, int(py - 2 * rad)), min(c.h, int(py + 2 * rad) + 2)
            yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
            dx, dy = (xx - px) / rad, (yy - py) / rad
            rr = np.sqrt(dx * dx + dy * dy)
            sh = np.sqrt((dx - 0.12) ** 2 + (dy - 0.2) ** 2)
            patch = lin[y0:y1, x0:x1]
            patch *= (1 - 0.45 * np.clip(1.25 - sh, 0, 1) ** 1.5)[..., None]
            cov = np.clip((1 - rr) * rad + 0.5, 0, 1)[..., None]
            if kind == "shank":  # a domed metal button with a ring
                nz = np.sqrt(np.clip(1 - rr**2, 0, 1))
                light = 0.45 + 0.7 * np.clip(-0.35 * dx - 0.55 * dy + nz, 0, 1.4)
                spec = np.exp(-(((dx + 0.3) ** 2 + (dy + 0.35) ** 2) / 0.04)) * 1.2
                ring = np.exp(-(((rr - 0.72) / 0.07) ** 2)) * 0.5
                col = base * (light * (1 - ring))[..., None] + spec[..., None]
            else:  # a flat 4-hole shirt button
                rim = np.exp(-(((rr - 0.85) / 0.1) ** 2))
                col = base * (0.85 + 0.3 * rim - 0.15 * dy)[..., None]
                for hx, hy in ((-0.25, -0.25), (0.25, -0.25), (-0.25, 0.25), (0.25, 0.25)):
                    hole = np.clip((0.13 - np.hypot(dx - hx, dy - hy)) * rad + 0.5, 0, 1)
                    col = col * (1 - 0.75 * hole)[..., None]
            patch[:] = patch * (1 - cov) + col * cov
        return lin

    return draw


def zip_fastener(d: Drawing, x: float, y0: float, y1: float) -> None:
    """A metal zip down the centre front: tape, teeth, slider and pull (teeth after the lighting)."""
    c, s = d.c, d.s
    tape = c.fill([np.array([[x - 8 * s, y0], [x + 8 * s, y0], [x + 8 * s, y1], [x - 8 * s, y1]])]) * d.body
    d.rgb = d.rgb * (1 - tape[..., None]) + hex_rgb(rib_colour(d)) * 0.7 * tape[..., None]
    d.height += (tape * 0.6).astype(np.float32)
    teeth = []
    pitch = 3.0 * s
    for k, yy in enumerate(np.arange(y0 + 4 * s, y1 - 2 * s, pitch)):
        xa = x - 3.2 * s if k % 2 else x - 0.2 * s
        teeth.append(
            np.array([[xa, yy], [xa + 3.4 * s, yy], [xa + 3.4 * s, yy + 2.2 * s], [xa, yy + 2.2 * s]])
        )
    tm = c.fill(teeth)
    slider = catmull(
        np.array([[x - 6, y0 + 2], [x + 6, y0 + 2], [x + 5, y0 + 24], [x - 5, y0 + 24], [x - 6, y0 + 2]])
        * [1, 1],
        4,
    )
    slider = (slider - [x, y0]) * s + [x, y0]
    pull = catmull(
        np.array([[x - 5, y0 + 18], [x + 5, y0 + 18], [x + 6, y0 + 52], [x - 6, y0 + 52], [x - 5, y0 + 18]]),
        4,
    )
    pull = (pull - [x, y0]) * s + [x, y0]
    sm, pm = c.fill([slider]), c.fill([pull])
    metal = hex_rgb(d.pal.get("metal", "#B0B0B0")) ** 2.2

    def draw(dd: Drawing, lin: F32) -> F32:
        shine = 0.75 + 0.5 * np.clip(np.sin((c.Y - y0) / pitch * math.pi * 2), 0, 1)
        for m, k in ((tm, 1.0), (pm, 1.1), (sm, 1.2)):
            grad = (0.8 + 0.35 * np.clip(-(c.X - x) / (6 * s), -1, 1))[..., None]
            col = metal * (shine[..., None] if m is tm else grad) * k
            sh = np.roll(cv2.GaussianBlur(m, (0, 0), 1.5 * c.px_mm), int(1.5 * c.px_mm), axis=0)
            lin = lin * (1 - 0.4 * np.clip(sh - m, 0, 1))[..., None]
            lin = lin * (1 - m[..., None]) + col * m[..., None]
        return lin

    d.after.append(draw)
