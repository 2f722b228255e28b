"""Procedurally drawn garments for the starter catalog (tops, a dress, jackets), seen from the
front as on an invisible mannequin with the arms relaxed: sleeves hang down and out at 17-23°.

:func:`draw_garment` returns straight-alpha RGBA (full colour; RGB 0 where alpha is 0), a part
map (0 outside, 1 body with collar, hem and skirt, 2 the sleeve of the wearer's LEFT arm = image
right, 3 the wearer's right = image left; alpha > 0 exactly where the label is not 0), anchors in
pixels (``left_*`` is the wearer's left, the larger x) and the image's real width in mm.

Anchors: ``neck`` (midway between the neck-shoulder points, at their height), ``*_shoulder`` (the
shoulder seam's outer end, where the sleeve starts at the top), ``*_armpit`` (underarm, where the
sleeve meets the side seam), ``*_elbow`` (long sleeves only: the sleeve's centre line at
``UPPER_ARM_MM`` × size from the shoulder), ``*_cuff`` (centre of the sleeve's end, ``FOREARM_MM``
× size below the elbow on long sleeves), ``*_waist`` (side seam at the waist) and ``*_hem`` (the
hem's corners). Geometry works in mm with the neck at the origin, x to the image right, y down;
pixels are ``PX_PER_MM`` per mm, less where the image would exceed ``MAX_SIDE_PX``.

The parts, lowest first: :mod:`~tryon.art.garment_fabrics` (colourways, fabrics),
:mod:`~tryon.art.garment_cut` (styles, fits, the geometry in mm), :mod:`~tryon.art.garment_drawing`
(the canvas, the drawing state, stitches and seams), :mod:`~tryon.art.garment_hardware` (buttons,
zip), :mod:`~tryon.art.garment_details` (the trims of each style); this module lays the fabric,
the folds and the light.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.art import garment_details as details
from tryon.art.base import F32, Pts, mirror
from tryon.art.garment_cut import (
    FITS,
    FOREARM_MM,
    GARMENT_FITS,
    GARMENT_STYLES,
    GARMENT_STYLES_TABLE,
    UPPER_ARM_MM,
    Geometry,
    Style,
    build_geometry,
    collar_shapes,
)
from tryon.art.garment_drawing import Canvas, Drawing
from tryon.art.garment_fabrics import PALETTES, smooth_noise
from tryon.errors import InputError

Anchors = dict[str, tuple[float, float]]

PX_PER_MM = 2.0
MAX_SIDE_PX = 1280
LIGHT = np.array([-0.35, -0.55, 1.0]) / np.linalg.norm([-0.35, -0.55, 1.0])
GARMENT_COLOURWAYS: Mapping[str, tuple[str, ...]] = {k: tuple(PALETTES[k]) for k in GARMENT_STYLES}


def _seed(style: str) -> int:
    return zlib.crc32(style.encode()) & 0xFFFF


def _canvas(g: Geometry) -> Canvas:
    pts = np.vstack([g.body, g.sleeve, *g.extras])
    margin = 8.0 * g.s
    half_w = float(np.abs(pts[:, 0]).max()) + margin
    y0, y1 = float(pts[:, 1].min()) - margin, float(pts[:, 1].max()) + margin
    px_mm = min(PX_PER_MM, (MAX_SIDE_PX - 2) / (2 * half_w), (MAX_SIDE_PX - 2) / (y1 - y0))
    return Canvas(half_w, y0, y1, px_mm)


def _labels(c: Canvas, g: Geometry, alpha: F32) -> NDArray[np.uint8]:
    labels = np.zeros(c.shape, np.uint8)
    for value, polys in ((1, [g.body, *g.extras]), (2, [g.sleeve]), (3, [mirror(g.sleeve)])):
        for p in polys:
            cv2.fillPoly(labels, [c.fixed(p)], value, cv2.LINE_8, 4)
    # Every drawn pixel gets the nearest label (anti-aliased edges reach a little beyond the fill).
    missing = (alpha > 0) & (labels == 0)
    if missing.any():
        _, idx = cv2.distanceTransformWithLabels(
            (labels == 0).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
        )
        ys, xs = np.nonzero(labels)
        lut = np.zeros(int(idx.max()) + 1, np.uint8)
        lut[idx[ys, xs]] = labels[ys, xs]
        labels[missing] = lut[idx[missing]]
    labels[alpha <= 0] = 0
    return labels


def _folds(d: Drawing) -> None:
    """Soft drape folds (height bumps along segments) seeded per style."""
    g, s = d.g, d.s
    rng = np.random.default_rng(d.seed)
    ap, hem, waist = g.armpit, g.hem, g.waist
    segs: list[tuple[Pts, Pts, float, float, float]] = []  # p0, p1, sigma, amplitude, growth
    for side in (1.0, -1.0):
        j = rng.uniform(-1, 1, 8)
        sx = np.array([side, 1.0])
        segs.append(
            (
                sx * (ap + np.array([-16 * s, 14 * s])),
                sx * [ap[0] * (0.45 + 0.08 * j[0]), ap[1] + 150 * s],
                11 * s,
                3.4 * s,
                0.4,
            )
        )
        segs.append(
            (
                sx * (ap + np.array([-8 * s, 70 * s])),
                sx * [ap[0] * (0.55 + 0.08 * j[1]), ap[1] + 230 * s],
                9 * s,
                -2.2 * s,
                0.3,
            )
        )
        if g.style.kind != "dress":
            for k in range(2):
                x = side * waist[0] * (0.25 + 0.35 * k + 0.06 * j[2 + k])
                segs.append(
                    (
                        np.array([x, waist[1] - 60 * s]),
                        np.array([x * 1.05, hem[1] - 10 * s]),
                        16 * s,
                        1.3 * s * (1 if k else -1),
                        0.5,
                    )
                )

        # Sleeves: drape from the underarm; long sleeves crease at the elbow and ring above the cuff.
        def sp(t: float, a: float, sx: Pts = sx) -> Pts:
            return np.asarray(g.on_sleeve(t, a) * sx, np.float64)

        w0 = float(g.width(np.array(0.0)))
        segs.append(
            (sp(g.t_armpit - 20 * s, -0.7 * w0), sp(g.t_armpit + 60 * s, 0.5 * w0), 8 * s, 2.0 * s, 0.3)
        )
        segs.append((sp(40 * s, 0.2 * w0), sp(g.t_armpit + 10 * s, 0.6 * w0), 9 * s, 1.2 * s, 0.0))
        if g.elbow is not None:
            te = g.t_elbow
            for k, off in enumerate((-30.0, 0.0, 25.0)):
                t = te + off * s + 5 * s * j[4]
                segs.append(
                    (sp(t - 12 * s, -w0), sp(t + 10 * s, 0.3 * w0), 4.5 * s, 1.6 * s * (1 - 0.2 * k), 0.0)
                )
            tc = g.t_end - g.style.cuff * s
            for k in range(3):
                t = tc - (14 + 24 * k) * s
                segs.append((sp(t + 6 * s, -w0), sp(t - 6 * s, w0), 5 * s, 1.5 * s, 0.0))
    # Random soft wrinkles over the body below the chest.
    for _ in range(9):
        x = rng.uniform(-0.8, 0.8) * waist[0]
        y = rng.uniform(ap[1] + 40 * s, hem[1] - 60 * s)
        ang = math.radians(90 + rng.uniform(-35, 35))
        half = rng.uniform(40, 90) * s
        dv = np.array([math.cos(ang), math.sin(ang)]) * half
        p = np.array([x, y])
        segs.append((p - dv, p + dv, rng.uniform(6, 12) * s, rng.uniform(-1.6, 1.6) * s, 0.0))
    if g.style.kind == "dress":
        for k in range(11):
            f = (k - 5) / 5.5
            x0 = f * waist[0] * 0.9
            x1 = f * hem[0] * 1.02
            segs.append(
                (
                    np.array([x0, waist[1] + 30 * s]),
                    np.array([x1, hem[1] + 30 * s]),
                    11 * s,
                    11.0 * s * (-1) ** k,
                    1.6,
                )
            )
    for p0, p1, sigma, amp, grow in segs:
        _bump(d, p0, p1, sigma, amp * 1.3, grow)


def _bump(d: Drawing, p0: Pts, p1: Pts, sigma: float, amp: float, grow: float) -> None:
    c = d.c
    reach = sigma * (1 + grow) * 3
    lo = np.minimum(p0, p1) - reach
    hi = np.maximum(p0, p1) + reach
    (x0, y0), (x1, y1) = c.px(lo)[0], c.px(hi)[0]
    xs = slice(max(0, int(x0)), min(c.w, int(x1) + 2))
    ys = slice(max(0, int(y0)), min(c.h, int(y1) + 2))
    if xs.start >= xs.stop or ys.start >= ys.stop:
        return
    X, Y = c.X[ys, xs], c.Y[ys, xs]
    dv = p1 - p0
    length = float(np.linalg.norm(dv))
    dx, dy = dv / length
    along = ((X - p0[0]) * dx + (Y - p0[1]) * dy) / length
    perp = (X - p0[0]) * -dy + (Y - p0[1]) * dx
    sig = sigma * (1 + grow * np.clip(along, 0, 1))
    env = np.sin(np.pi * np.clip(along, 0, 1)) ** 0.8
    d.height[ys, xs] += (amp * env * np.exp(-((perp / sig) ** 2))).astype(np.float32)


def _light(d: Drawing, alpha: F32) -> F32:
    """Linear-light colour: the colour × form shading × relief lighting × detail shading + sheen."""
    c, g, s = d.c, d.g, d.s
    X, Y = c.X, c.Y
    # Form: the torso rounds away towards its sides, each sleeve is a cylinder.
    solid = d.body > 0.5
    half = np.where(solid, np.abs(X), 0).max(axis=1, keepdims=True) + 1e-3
    r = np.clip(np.abs(X) / half, 0, 1)
    form_body = (
        1 - 0.3 * r**3 + 0.05 * (-X / half) - 0.06 * np.clip((Y - g.waist[1]) / (g.hem[1] - g.waist[1]), 0, 1)
    )
    form = form_body * np.clip(d.body, 0, 1)
    cover = np.clip(d.body, 0, 1).copy()
    for sl, (a, t) in zip(d.sleeves, d.sleeve_uv, strict=True):
        w = g.width(np.clip(t, 0, g.t_end)).astype(np.float32)
        an = np.clip(a / w, -1, 1)
        f = 1 - 0.32 * np.abs(an) ** 2.2 - 0.06 * an
        form = form + f * sl
        cover = cover + sl
    form = form / np.maximum(cover, 1e-3)
    # Rounded rim along the outline.
    edge = c.inside(alpha > 0.5)
    form = form * (1 - 0.22 * np.exp(-edge / (5 * s)))
    # Relief lighting.
    hgt = cv2.GaussianBlur(d.height, (0, 0), 0.9)
    gy, gx = np.gradient(hgt)
    gx, gy = gx * c.px_mm, gy * c.px_mm
    inv = 1 / np.sqrt(gx * gx + gy * gy + 1)
    nx, ny, nz = -gx * inv, -gy * inv, inv
    lam = (nx * LIGHT[0] + ny * LIGHT[1] + nz * LIGHT[2]) / LIGHT[2]
    lam = np.clip(lam, 0.35, 1.45)
    # Cavities (creases, the hollows between folds) get less light.
    cavity = cv2.GaussianBlur(d.height, (0, 0), 6 * s * c.px_mm) - d.height
    occl = np.clip(1 - 0.09 * cavity / s, 0.55, 1.12)
    lin = (d.rgb.clip(0, 1) ** 2.2) * (form * lam * occl * d.shade)[..., None]
    # A faint sheen on the slopes of folds, whatever the colour (dark cloth shows its folds so).
    lin = lin + (0.035 * np.clip(lam - 1, -0.4, 0.4) * d.shade)[..., None]
    if d.sheen > 0:
        half_v = LIGHT + np.array([0, 0, 1.0])
        half_v /= np.linalg.norm(half_v)
        spec = np.clip(nx * half_v[0] + ny * half_v[1] + nz * half_v[2], 0, 1) ** 40
        broad = np.clip(nx * half_v[0] + ny * half_v[1] + nz * half_v[2], 0, 1) ** 6
        lin = lin + (d.sheen * (0.5 * spec + 0.08 * broad) * d.shade)[..., None]
    out: F32 = lin.astype(np.float32)
    return out


def draw_garment(
    style: str, colourway: str, size: float = 1.0, fit: str = "regular"
) -> tuple[NDArray[np.uint8], NDArray[np.uint8], Anchors, float]:
    """``(rgba, parts, anchors, width_mm)`` of one garment (see the module's docstring); ``size``
    scales every dimension (0.65: a child's 6-8 years), ``fit`` changes the body's width."""
    if style not in GARMENT_STYLES_TABLE:
        raise InputError(f"garment style: expected one of {', '.join(GARMENT_STYLES)}, got {style!r}")
    if colourway not in PALETTES[style]:
        raise InputError(
            f"{style} colourway: expected one of {', '.join(PALETTES[style])}, got {colourway!r}"
        )
    if fit not in FITS:
        raise InputError(f"fit: expected one of {', '.join(FITS)}, got {fit!r}")
    if not 0.3 <= size <= 1.5:
        raise InputError(f"garment size: expected a factor in [0.3, 1.5], got {size!r}")
    st = GARMENT_STYLES_TABLE[style]
    g = build_geometry(st, size, FITS[fit])
    g.extras = collar_shapes(g)
    c = _canvas(g)
    body = np.clip(c.fill([g.body, *g.extras]), 0, 1)
    right, left = c.fill([g.sleeve]), c.fill([mirror(g.sleeve)])
    alpha = np.clip(body + right + left, 0, 1)
    uv_r = g.sleeve_uv(c.X, c.Y)
    uv_l = g.sleeve_uv(-c.X, c.Y)
    d = Drawing(
        f"{style}/{colourway}",
        g,
        c,
        PALETTES[style][colourway],
        _seed(style),
        body,
        (right, left),
        (uv_r, uv_l),
    )
    norm = np.maximum(alpha, 1e-6)
    d.paint(body / norm, d.fabric(c.X, c.Y, sleeve=False))
    for mask, (a, t) in ((right, uv_r), (left, uv_l)):
        d.paint(mask / norm, d.fabric(a, t, sleeve=True, seed=1))
    d.height += (0.25 * s_noise(c, d.seed, size)).astype(np.float32)
    _folds(d)
    details.decorate(d)
    lin = _light(d, alpha)
    for hw in d.after:
        lin = hw(d, lin)
    rgb = np.clip(lin, 0, 1) ** (1 / 2.2)
    a8 = np.round(alpha * 255).astype(np.uint8)
    rgb8 = np.round(rgb * 255).astype(np.uint8)
    rgb8[a8 == 0] = 0
    rgba = np.dstack([rgb8, a8])
    parts = _labels(c, g, a8.astype(np.float32))
    anchors = _anchors(c, g)
    return np.ascontiguousarray(rgba), parts, anchors, c.w / c.px_mm


def s_noise(c: Canvas, seed: int, s: float) -> F32:
    """Low, lumpy unevenness of the cloth (mm)."""
    cell = 25 * s * c.px_mm
    return smooth_noise(c.shape, (cell, cell), seed + 99)


def _anchors(c: Canvas, g: Geometry) -> Anchors:
    named: dict[str, Pts] = {
        "shoulder": g.shoulder,
        "armpit": g.armpit,
        "waist": g.waist,
        "hem": g.hem,
        "cuff": g.cuff,
    }
    if g.elbow is not None:
        named["elbow"] = g.elbow
    out: Anchors = {"neck": _xy(c, np.array([0.0, 0.0]))}
    for name, p in named.items():
        out[f"left_{name}"] = _xy(c, p)
        out[f"right_{name}"] = _xy(c, mirror(p))
    return out


def _xy(c: Canvas, p: Pts) -> tuple[float, float]:
    q = c.px(p)[0]
    return float(q[0]), float(q[1])


__all__ = [
    "FOREARM_MM",
    "GARMENT_COLOURWAYS",
    "GARMENT_FITS",
    "GARMENT_STYLES",
    "GARMENT_STYLES_TABLE",
    "MAX_SIDE_PX",
    "PX_PER_MM",
    "UPPER_ARM_MM",
    "Style",
    "draw_garment",
]
