"""The canvas and the drawing state of a drawn garment (:mod:`tryon.art.garments`), and the
small drawing helpers its details use: topstitching, seams, pieces sewn on top, rib bands.

A :class:`Drawing` holds colour (sRGB, before the lighting), relief (mm) and a shading factor over
the garment's pixels; :data:`Hardware` (buttons, zips) is drawn after the lighting, in linear light.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.art.base import F32, Pts, hex_rgb, mirror
from tryon.art.garment_cut import Geometry
from tryon.art.garment_fabrics import (
    Fabric,
    breton,
    cable_knit,
    denim,
    fair_isle,
    floral,
    jersey,
    rib_relief,
    satin,
    tartan,
)

# -- the canvas -----------------------------------------------------------------------------------


class Canvas:
    """Pixel grids over the garment: ``X``, ``Y`` (mm) at each pixel centre, drawing helpers."""

    def __init__(self, half_w: float, y0: float, y1: float, px_mm: float) -> None:
        self.px_mm = px_mm
        self.w = 2 * math.ceil(half_w * px_mm)
        self.h = math.ceil((y1 - y0) * px_mm)
        self.half_w = self.w / (2 * px_mm)
        self.y0 = y0
        xs = ((np.arange(self.w) + 0.5) / px_mm - self.half_w).astype(np.float32)
        ys = ((np.arange(self.h) + 0.5) / px_mm + y0).astype(np.float32)
        self.X, self.Y = np.meshgrid(xs, ys)

    @property
    def shape(self) -> tuple[int, int]:
        return self.h, self.w

    def px(self, pts: Pts) -> Pts:
        p = np.asarray(pts, np.float64).reshape(-1, 2)
        out: Pts = np.column_stack(
            [(p[:, 0] + self.half_w) * self.px_mm - 0.5, (p[:, 1] - self.y0) * self.px_mm - 0.5]
        )
        return out

    def fixed(self, pts: Pts) -> NDArray[np.int32]:
        return np.round(self.px(pts) * 16).astype(np.int32)

    def fill(self, polys: list[Pts], aa: bool = True) -> F32:
        mask = np.zeros(self.shape, np.uint8)
        for p in polys:  # one at a time: several in one call would fill their overlap even-odd
            one = np.zeros(self.shape, np.uint8)
            cv2.fillPoly(one, [self.fixed(p)], 255, cv2.LINE_AA if aa else cv2.LINE_8, 4)
            np.maximum(mask, one, out=mask)
        out: F32 = mask.astype(np.float32) / 255.0
        return out

    def stroke(self, lines: list[Pts], width_mm: float, closed: bool = False) -> F32:
        mask = np.zeros(self.shape, np.uint8)
        th = max(1, round(width_mm * self.px_mm))
        cv2.polylines(mask, [self.fixed(p) for p in lines], closed, 255, th, cv2.LINE_AA, 4)
        out: F32 = mask.astype(np.float32) / 255.0
        return out

    def dist(self, lines: list[Pts]) -> F32:
        """Distance (mm) from each pixel to the nearest of ``lines``."""
        mask = np.full(self.shape, 255, np.uint8)
        cv2.polylines(mask, [np.round(self.px(p)).astype(np.int32) for p in lines], False, 0, 1, cv2.LINE_8)
        out: F32 = cv2.distanceTransform(mask, cv2.DIST_L2, 5) / np.float32(self.px_mm)
        return out

    def inside(self, mask: NDArray[np.bool_]) -> F32:
        """Distance (mm) from each pixel of ``mask`` to its edge."""
        d = cv2.distanceTransform(np.pad(mask.astype(np.uint8), 1), cv2.DIST_L2, 5)[1:-1, 1:-1]
        out: F32 = d / np.float32(self.px_mm)
        return out


# -- the drawing ----------------------------------------------------------------------------------


@dataclass
class Drawing:
    """Everything a style's details draw into: colour (sRGB), relief (mm), shading (linear factor),
    and the part masks / sleeve coordinates they may need."""

    name: str
    g: Geometry
    c: Canvas
    pal: Mapping[str, str]
    seed: int
    body: F32  # coverage
    sleeves: tuple[F32, F32]  # right (image right), left
    sleeve_uv: tuple[tuple[F32, F32], tuple[F32, F32]]
    rgb: F32 = field(init=False)
    height: F32 = field(init=False)
    shade: F32 = field(init=False)
    sheen: float = 0.0
    after: list[Hardware] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rgb = np.zeros((*self.c.shape, 3), np.float32)
        self.height = np.zeros(self.c.shape, np.float32)
        self.shade = np.ones(self.c.shape, np.float32)

    @property
    def s(self) -> float:
        return self.g.s

    def fabric(self, u: F32, v: F32, sleeve: bool, seed: int = 0) -> Fabric:
        st, s, pal, sd = self.g.style, self.s, self.pal, self.seed + seed
        if st.fabric == "jersey":
            return jersey(u, v, pal, sd)
        if st.fabric == "breton":
            start = (60.0 * s) if sleeve else float(self.g.armpit[1] - 40 * s)
            return breton(u, v, pal, s, start, self.c.px_mm)
        if st.fabric == "cable":
            return cable_knit(u, v, pal, s, sd, sleeve)
        if st.fabric == "tartan":
            return tartan(u, v, pal, s, sd)
        if st.fabric == "floral":
            return floral(u, v, pal, s, self.c.px_mm, sd)
        if st.fabric == "denim":
            return denim(u, v, pal, s, sd)
        if st.fabric == "fair-isle":
            return fair_isle(u, v, pal, s, sd, sleeve)
        return satin(u, v, pal, sd)

    def paint(self, mask: F32, fab: Fabric, relief_scale: float = 1.0) -> None:
        """Lay ``fab`` over the drawing where ``mask`` (coverage in [0, 1]) says."""
        m = mask[..., None]
        self.rgb = self.rgb * (1 - m) + fab.rgb * m
        self.height = self.height * (1 - mask) + fab.relief * relief_scale * mask


Hardware = Callable[[Drawing, F32], F32]
"""Drawn after the lighting: ``(drawing, linear RGB) → linear RGB``."""


# -- small drawing helpers ------------------------------------------------------------------------


def ellipse_arc(a: float, b: float, lo: float = 0.0, hi: float = math.pi, n: int = 80) -> Pts:
    """Points of the ellipse ``(a cos φ, b sin φ)`` for φ from ``lo`` to ``hi`` (y down: the lower half)."""
    phi = np.linspace(lo, hi, n)
    return np.column_stack([a * np.cos(phi), b * np.sin(phi)])


def shifted(line: Pts, dy: float) -> Pts:
    """``line`` moved ``dy`` mm down."""
    out: Pts = line + np.array([0.0, dy])
    return out


def stitches(
    d: Drawing,
    lines: list[Pts],
    colour: str | None = None,
    dash: float = 2.6,
    gap: float = 1.4,
    width: float = 0.55,
    darken: float = 0.62,
) -> None:
    """Dashed topstitching along ``lines`` (mm): thread ``colour``, or the fabric darkened."""
    s = 1.0
    segs = []
    for line in lines:
        seg = np.linalg.norm(np.diff(line, axis=0), axis=1)
        arc = np.concatenate([[0.0], np.cumsum(seg)])
        if arc[-1] <= 0:
            continue
        starts = np.arange(0.0, arc[-1] - dash * 0.5, (dash + gap) * s)
        for a0 in starts:
            a1 = min(a0 + dash * s, arc[-1])
            xs = np.interp([a0, a1], arc, line[:, 0])
            ys = np.interp([a0, a1], arc, line[:, 1])
            segs.append(np.column_stack([xs, ys]))
    if not segs:
        return
    c = d.c
    m = c.stroke(segs, width) * np.clip(d.body + d.sleeves[0] + d.sleeves[1], 0, 1)
    if colour is None:
        d.rgb *= (1 - m * (1 - darken))[..., None]
    else:
        m3 = m[..., None]
        d.rgb = d.rgb * (1 - m3) + hex_rgb(colour) * m3
    d.height += 0.12 * m


def seam(d: Drawing, lines: list[Pts], depth: float = 0.8, ridge: float = 0.45) -> F32:
    """A sewn seam: a groove with the pressed allowance raised beside it; returns the distance."""
    dist = d.c.dist(lines)
    d.height += (-depth * np.exp(-((dist / 0.9) ** 2)) + ridge * np.exp(-(((dist - 3.0) / 1.6) ** 2))).astype(
        np.float32
    )
    d.shade *= (1 - 0.18 * np.exp(-((dist / 0.8) ** 2))).astype(np.float32)
    return dist


def layer(d: Drawing, mask: F32, fab: Fabric | None, lift: float = 0.8, shadow: float = 0.3) -> None:
    """A piece sewn on top (pocket, placket, band): new fabric, raised, casting a soft shadow."""
    if fab is not None:
        d.paint(mask, fab)
    inside = d.c.inside(mask > 0.5)
    d.height += (mask * lift * np.clip(inside / 1.5, 0, 1)).astype(np.float32)
    if shadow > 0:
        blur = cv2.GaussianBlur(mask, (0, 0), 1.6 * d.c.px_mm)
        shift = np.roll(blur, (round(0.8 * d.c.px_mm), round(0.5 * d.c.px_mm)), axis=(0, 1))
        d.shade *= (1 - shadow * np.clip(shift - mask, 0, 1)).astype(np.float32)


def rib_fabric(d: Drawing, u: F32, v: F32, colour: str) -> Fabric:
    """A 1×1 rib knit in ``colour``, its columns along ``v``."""
    rel = rib_relief(u, v, 4.2 * d.s)
    rgb = np.broadcast_to(hex_rgb(colour), (*u.shape, 3)) * (0.9 + 0.1 * rel)[..., None]
    return Fabric(rgb.astype(np.float32), (rel * 0.9 * d.s).astype(np.float32))


def rib_colour(d: Drawing) -> str:
    """The colour of the drawing's rib bands: ``rib``, else the ground."""
    return d.pal.get("rib", d.pal.get("ground", "#808080"))


def sleeve_line(g: Geometry, t: float, side: float, a0: float = -1.3, a1: float = 1.3) -> Pts:
    """A line across the sleeve at ``t`` from ``a0`` to ``a1`` half-widths (``side`` < 0: the
    image's left sleeve)."""
    w = float(g.width(np.array(t)))
    pts = np.array([g.on_sleeve(t, a * w) for a in np.linspace(a0, a1, 12)])
    return pts if side > 0 else mirror(pts)
