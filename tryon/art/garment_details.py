"""Trims and construction details of the drawn garments (:mod:`tryon.art.garments`):
necklines and collars, seams and topstitching, hems, rib bands and cuffs, plackets, pockets,
buttons and zips, chosen per style by :func:`decorate`. Each works in the garment's mm frame on a
:class:`~tryon.art.garment_drawing.Drawing`: colour before the lighting, relief (mm) and a shading
factor; buttons and zip teeth (:mod:`tryon.art.garment_hardware`) are drawn after the lighting.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from tryon.art import garment_hardware as hardware
from tryon.art.base import bezier, catmull, hex_rgb, mirror, offset, scaled
from tryon.art.garment_drawing import (
    Drawing,
    ellipse_arc,
    layer,
    rib_colour,
    rib_fabric,
    seam,
    shifted,
    sleeve_line,
    stitches,
)

# -- necklines ------------------------------------------------------------------------------------


def _neck_hole(d: Drawing, a: float, b: float, r: float, rib: bool, label: bool) -> None:
    """Crew / boat neck: the rib (or facing) band round the front, and through the opening the
    inside of the back (in shadow) with the back neck band and a woven label."""
    c, s = d.c, d.s
    seam_e, open_e = ellipse_arc(a, b), ellipse_arc(a - r, b - r)
    band = c.fill([np.vstack([seam_e, open_e[::-1]])]) * d.body
    hole = c.fill([np.vstack([open_e, [[-(a - r), -8 * s], [a - r, -8 * s]]])]) * d.body
    xs = np.linspace(-(a - r), a - r, 40)
    top = -3 * s * (1 - (xs / a) ** 2)
    low = top + 0.85 * r + 0.5 * r * (xs / (a - r)) ** 6
    back = c.fill([np.vstack([np.column_stack([xs, top - 4 * s]), np.column_stack([xs, low])[::-1]])]) * hole
    X, Y = c.X, c.Y
    rho = np.sqrt((X / a) ** 2 + (np.maximum(Y, 0) / b) ** 2)
    q = np.clip((1 - rho) / (r / a), 0, 1)
    phi = np.arctan2(np.maximum(Y, 0) / b, X / a)
    colour = rib_colour(d)
    if rib:
        fab = rib_fabric(d, (phi * (a + b) / 2).astype(np.float32), (q * r).astype(np.float32), colour)
    else:
        fab = d.fabric(X, Y, sleeve=False)
        fab.relief = fab.relief * 0
    d.paint(band, fab)
    d.height += (band * 1.3 * s * np.sin(np.pi * q)).astype(np.float32)
    inner = hole * (1 - back)
    d.paint(back, rib_fabric(d, X, Y, colour) if rib else d.fabric(X, Y + 31 * s, sleeve=False))
    edge = c.dist([open_e])
    d.shade *= (1 - 0.45 * back - 0.62 * inner * (0.75 + 0.25 * np.exp(-edge / (6 * s)))).astype(np.float32)
    if label:
        y = float(low[len(low) // 2]) + 4 * s
        lab = scaled([(-17, 0), (17, 0), (17, 15), (-17, 15)], s) + np.array([0, y])
        m = c.fill([lab]) * inner
        d.rgb = d.rgb * (1 - m[..., None]) + hex_rgb("#EFEBE2") * m[..., None]
        d.shade *= (1 + 0.6 * m).astype(np.float32)
        for k in (5.0, 9.5):
            ln = c.stroke([scaled([(-9, k), (9, k)], s) + np.array([0, y])], 0.9 * s) * m
            d.rgb *= (1 - 0.6 * ln)[..., None]
    stitches(d, [ellipse_arc(a + 4 * s, b + 4 * s, 0.05, math.pi - 0.05)])
    if not rib:
        stitches(d, [ellipse_arc(a - r + 9 * s, b - r + 9 * s, 0.05, math.pi - 0.05)])


def _wrap(d: Drawing) -> None:
    """Wrap dress: two crossing fronts (the inside of the back in the V), a tie belt knotted at
    the wearer's right hip with hanging ties, and the wrap skirt's edge."""
    c, g, s = d.c, d.g, d.s
    X, Y = c.X, c.Y
    hx = g.hps[0]
    wy, wx = float(g.waist[1]), float(g.waist[0])
    edge = bezier(g.hps, scaled([(-5, 165)], s)[0], np.array([-wx * 0.82, wy]), 60)  # the upper front
    k = int(np.argmax(edge[:, 0] < 0))
    cross = edge[k]
    hole = c.fill([np.vstack([edge[: k + 1], mirror(edge[: k + 1])[::-1], [[-hx, -6 * s], [hx, -6 * s]]])])
    hole *= d.body
    under = c.fill([np.vstack([edge[k:], [[-400 * s, wy], [-400 * s, cross[1]]]])]) * d.body * (1 - hole)
    d.paint(under, d.fabric(X + 37 * s, Y + 11 * s, sleeve=False))
    dist = c.dist([edge[k:]])
    d.shade *= (1 - 0.4 * under * np.exp(-dist / (5 * s))).astype(np.float32)
    back = d.fabric(X, Y + 40 * s, sleeve=False)
    back.rgb = back.rgb * 0.45 + hex_rgb(d.pal["ground"]) * 0.55  # the print's wrong side
    d.paint(hole, back)
    facing = (
        c.fill([np.vstack([scaled([(-120, -10), (120, -10)], s), scaled([(120, 12), (-120, 12)], s)])]) * hole
    )
    d.paint(facing, d.fabric(X, Y + 40 * s, sleeve=False))
    d.shade *= (1 - 0.7 * hole + 0.25 * facing).astype(np.float32)
    rim = c.dist([edge, mirror(edge[: k + 1])])
    d.height += (1.4 * s * np.exp(-(((rim - 2 * s) / (2.5 * s)) ** 2)) * (1 - hole)).astype(np.float32)
    stitches(d, [offset(edge, -6 * s), offset(mirror(edge[: k + 1]), 6 * s)])
    # Skirt: the outer wrap's edge from the knot down to the hem.
    knot = np.array([-wx * 0.78, wy])
    skirt_edge = bezier(
        knot + np.array([0, 20 * s]),
        knot + scaled([(30, 300)], s)[0],
        scaled([(-70, 1000)], s)[0] + np.array([0, g.style.hem_drop * s]),
        60,
    )
    sk_under = c.fill([np.vstack([skirt_edge, [[-600 * s, 1100 * s], [-600 * s, wy]]])]) * d.body
    d.paint(sk_under, d.fabric(X + 37 * s, Y + 11 * s, sleeve=False))
    dist = c.dist([skirt_edge])
    d.shade *= (1 - 0.35 * sk_under * np.exp(-dist / (6 * s))).astype(np.float32)
    d.height += (1.5 * s * np.exp(-((dist / (4 * s)) ** 2))).astype(np.float32)
    # The belt, the knot and the ties.
    xs = np.linspace(-260 * s, 260 * s, 30)
    belt = np.vstack([np.column_stack([xs, wy - 17 * s + 4 * s * (xs / (200 * s)) ** 2]),
                      np.column_stack([xs, wy + 17 * s + 4 * s * (xs / (200 * s)) ** 2])[::-1]])  # fmt: skip
    bm = c.fill([belt]) * d.body
    layer(d, bm, d.fabric(X * 0.6 + 11 * s, Y * 1.7, sleeve=False), 1.0, 0.35)
    d.height += (bm * 1.6 * s * np.cos((Y - wy) / (17 * s) * math.pi / 2).clip(0, 1)).astype(np.float32)
    ties = [
        np.vstack([knot + scaled([(-10, 6), (8, 6)], s), knot + scaled([(-6, 230), (-34, 224)], s)]),
        np.vstack([knot + scaled([(2, 8), (18, 4)], s), knot + scaled([(44, 196), (20, 204)], s)]),
    ]
    for tie in ties:
        tm = c.fill([catmull(np.vstack([tie, tie[:1]]), 6)])
        layer(d, tm, d.fabric(X * 0.8 + 70 * s, Y, sleeve=False), 1.2, 0.45)
    km = c.fill([ellipse_arc(20 * s, 19 * s, 0, 2 * math.pi) + knot])
    layer(d, km, d.fabric(X + 5 * s, Y, sleeve=False), 2.2, 0.5)
    d.height += (km * 2.0 * s * np.clip(c.inside(km > 0.5) / (8 * s), 0, 1)).astype(np.float32)


def _collar(d: Drawing, fab_shift: float) -> None:
    """Shirt / denim collar: the inside of the back collar, then the two leaves with their shadow."""
    c, g, s = d.c, d.g, d.s
    back, leaf_r, leaf_l = g.extras[0], g.extras[1], g.extras[2]
    bm = c.fill([back])
    d.paint(bm, d.fabric(c.X + fab_shift, c.Y + 50 * s, sleeve=False))
    d.shade *= (1 - 0.42 * bm).astype(np.float32)
    leaves = np.clip(c.fill([leaf_r]) + c.fill([leaf_l]), 0, 1)
    shadow = cv2.GaussianBlur(leaves, (0, 0), 2.5 * s * c.px_mm)
    shadow = np.roll(shadow, (int(4 * s * c.px_mm), int(1.5 * s * c.px_mm)), axis=(0, 1))
    d.shade *= (1 - 0.55 * np.clip(shadow - leaves, 0, 1)).astype(np.float32)
    d.paint(leaves, d.fabric(c.X * 0.98 + 2 * fab_shift, c.Y + 13 * s, sleeve=False))
    inside = c.inside(leaves > 0.5)
    d.height += (leaves * (1.2 + 1.8 * s * (1 - np.exp(-inside / (5 * s))))).astype(np.float32)
    thread = d.pal.get("thread")
    stitches(d, [offset(leaf_r, -4 * s), offset(leaf_l, 4 * s)], thread)
    if d.g.style.neckline == "denim":
        stitches(d, [offset(leaf_r, -8 * s), offset(leaf_l, 8 * s)], thread)


def _placket(d: Drawing, half: float, buttons: list[float], top: float, colour: str, kind: str) -> None:
    c, g, s = d.c, d.g, d.s
    y1 = float(g.hem[1] + g.style.hem_drop * s + 5 * s)
    pm = c.fill([np.array([[-half, top], [half, top], [half, y1], [-half, y1]])])
    pm *= d.body
    layer(d, pm, d.fabric(c.X + 9 * s, c.Y, sleeve=False), 0.6, 0.25)
    thread = d.pal.get("thread")
    for x in (-half + 3 * s, half - 3 * s):
        stitches(d, [np.array([[x, top + 2 * s], [x, y1]])], thread)
    if kind == "shank":
        for x in (-half - 4 * s, half + 4 * s):
            stitches(d, [np.array([[x, top + 2 * s], [x, y1]])], thread)
    d.after.append(
        hardware.buttons([(0.0, y) for y in buttons], (5.5 if kind == "shirt" else 8.5) * s, colour, kind)
    )


def _pocket(d: Drawing, box: tuple[float, float, float, float], flap: float, kind: str) -> None:
    """A patch pocket (both sides, mirrored), its flap pointed at the middle, a button on the flap."""
    c, s = d.c, d.s
    x0, y0, x1, y1 = (v * s for v in box)
    xm = (x0 + x1) / 2
    bag = catmull(np.array([[x0, y0], [x1, y0], [x1, y1 - 12 * s], [xm, y1], [x0, y1 - 12 * s], [x0, y0]]), 4)
    fl = np.array([[x0 - 2 * s, y0 - 8 * s], [x1 + 2 * s, y0 - 8 * s], [x1 + 2 * s, y0 + flap * s],
                   [xm, y0 + (flap + 16) * s], [x0 - 2 * s, y0 + flap * s]])  # fmt: skip
    thread = d.pal.get("thread")
    btns = []
    for side in (1.0, -1.0):
        b, f = (bag, fl) if side > 0 else (mirror(bag), mirror(fl))
        m = c.fill([b]) * d.body
        if kind == "bias":
            u, v = (c.X + c.Y) * 0.7071, (c.Y - c.X) * 0.7071
            layer(d, m, d.fabric(u.astype(np.float32), v.astype(np.float32), sleeve=False), 0.7, 0.3)
        else:
            layer(d, m, d.fabric(c.X + 21 * s, c.Y, sleeve=False), 0.7, 0.3)
        stitches(d, [offset(b, 3 * s * side)], thread)
        fm = c.fill([f]) * d.body
        layer(d, fm, d.fabric(c.X + 5 * s, c.Y + 3 * s, sleeve=False), 1.3, 0.5)
        stitches(d, [offset(f[1:], 3 * s * side)[1:-1]], thread)
        btns.append((side * xm, y0 + (flap + 6) * s))
    metal = d.pal.get("button", d.pal.get("metal", "#333333"))
    shirt = kind == "bias"
    d.after.append(hardware.buttons(btns, (5.0 if shirt else 7.5) * s, metal, "shirt" if shirt else "shank"))


# -- hems, bands and cuffs ------------------------------------------------------------------------


def _hem(d: Drawing) -> None:
    c, g, s = d.c, d.g, d.s
    st = g.style
    depth = st.hem * s
    line = g.hem_line
    dist = c.dist([line])
    band = np.clip((depth - dist) * c.px_mm + 0.5, 0, 1) * d.body * (g.armpit[1] < c.Y)
    thread = d.pal.get("thread")
    if st.hem_kind == "rib":
        d.paint(band, rib_fabric(d, c.X, c.Y, rib_colour(d)))
        above = (1 - band) * d.body * (g.waist[1] < c.Y)
        d.shade *= (1 - 0.28 * above * np.exp(-np.maximum(dist - depth, 0) / (6 * s))).astype(np.float32)
        d.height += (band * 1.0 * s).astype(np.float32)
    elif st.hem_kind == "band":
        layer(d, band, d.fabric(c.X + 17 * s, c.Y, sleeve=False), 0.9, 0.35)
        stitches(d, [shifted(line, -depth + 3 * s), shifted(line, -3 * s)], thread)
        if thread:
            stitches(d, [shifted(line, -depth + 7 * s)], thread)
    else:
        d.height += (band * 0.5 * s).astype(np.float32)
        stitches(d, [shifted(line, -depth * 0.8), shifted(line, -depth * 0.5)])
    d.shade *= (1 - 0.06 * band).astype(np.float32)


def _cuffs(d: Drawing) -> None:
    g, s = d.g, d.s
    st = g.style
    depth = st.cuff * s
    t0 = g.t_end - depth
    thread = d.pal.get("thread")
    btns = []
    for side, (sl, (a, t)) in zip((1.0, -1.0), zip(d.sleeves, d.sleeve_uv, strict=True), strict=True):
        band = sl * np.clip((t - t0) * d.c.px_mm + 0.5, 0, 1)
        if st.cuff_kind == "rib":
            d.paint(band, rib_fabric(d, a, t, rib_colour(d)))
            above = sl * (1 - band)
            d.shade *= (1 - 0.3 * above * np.exp(-np.maximum(t0 - t, 0) / (6 * s))).astype(np.float32)
        elif st.cuff_kind == "band":
            layer(d, band, d.fabric(a + 13 * s, t, sleeve=True, seed=3), 0.9, 0.35)
            stitches(d, [sleeve_line(g, t0 + 3 * s, side), sleeve_line(g, g.t_end - 3 * s, side)], thread)
            w = float(g.width(np.array(g.t_end)))
            btns.append(tuple(g.on_sleeve(g.t_end - depth / 2, 0.55 * w) * [side, 1]))
            slit = np.array([g.on_sleeve(t0 - k * s, 0.5 * w) for k in (0.0, 70.0)]) * [side, 1]
            stitches(d, [slit, slit + g.u1[::-1] * [side * 0, 0] + [side * 4 * s, 0]], thread)
        else:
            d.height += (band * 0.5 * s).astype(np.float32)
            stitches(d, [sleeve_line(g, t0 + depth * 0.2, side), sleeve_line(g, t0 + depth * 0.5, side)])
    if btns:
        kind = "shank" if d.pal.get("metal") else "shirt"
        colour = d.pal.get("metal", d.pal.get("button", "#333333"))
        d.after.append(
            hardware.buttons(
                [(float(x), float(y)) for x, y in btns], (7.0 if kind == "shank" else 5.0) * s, colour, kind
            )
        )


# -- per style ------------------------------------------------------------------------------------


def decorate(d: Drawing) -> None:
    """All the details of ``d``'s style."""
    g, s = d.g, d.s
    st = g.style
    thread = d.pal.get("thread")
    right_sh = [g.shoulder_line, mirror(g.shoulder_line)]
    arms = [g.armhole, mirror(g.armhole)]
    seam(d, right_sh + arms)
    if st.neckline in ("shirt", "denim"):
        stitches(d, [offset(a, 3 * s) for a in arms[:1]] + [offset(arms[1], -3 * s)], thread)
    _hem(d)
    _cuffs(d)
    top_front = float(st.neck_drop * s)
    if st.neckline == "crew":
        _neck_hole(d, st.neck_half * s, st.neck_drop * s, st.collar * s, rib=True, label=True)
    elif st.neckline == "boat":
        _neck_hole(d, st.neck_half * s, st.neck_drop * s, st.collar * s, rib=False, label=True)
    elif st.neckline == "wrap":
        _wrap(d)
    elif st.neckline == "shirt":
        yoke = offset(g.shoulder_line[6:], -24 * s)
        seam(d, [yoke, mirror(yoke)])
        stitches(d, [offset(yoke, -3 * s), offset(mirror(yoke), 3 * s)])
        _pocket(d, (58, 180, 148, 305), 26, "bias")
        _placket(
            d,
            17 * s,
            [float(y * s) for y in (118, 205, 292, 379, 466, 553, 640)],
            30 * s,
            d.pal["button"],
            "shirt",
        )
        _collar(d, 23 * s)
        d.after.append(hardware.buttons([(0.0, 42 * s)], 5.0 * s, d.pal["button"], "shirt"))
    elif st.neckline == "denim":
        _denim(d)
    elif st.neckline == "bomber":
        _bomber(d, top_front)
    if st.fabric == "satin":
        d.sheen = 0.55


def _denim(d: Drawing) -> None:
    c, g, s = d.c, d.g, d.s
    thread = d.pal.get("thread")
    yoke = catmull(
        scaled([(float(g.armpit[0] / s) - 8, 150), (150, 152), (106, 176), (62, 152), (22, 148)], s), 12
    )
    hem_top = float(g.hem[1] - g.style.hem * s)
    pleats = [
        np.array([[106 * s, 176 * s], [104 * s, hem_top]]),
        np.array([[158 * s, 158 * s], [160 * s, hem_top]]),
    ]
    lines = [yoke, *pleats]
    lines += [mirror(ln) for ln in lines]
    dist = seam(d, lines, 0.9, 0.7)
    d.rgb *= (1 + 0.22 * np.exp(-(((dist - 2.5) / 1.8) ** 2)))[..., None].astype(np.float32)  # roping
    for ln in lines:
        stitches(d, [offset(ln, 2.5 * s), offset(ln, 6.5 * s)], thread)
    _pocket(d, (64, 168, 146, 262), 26, "flap")
    _placket(
        d, 21 * s, [float(y * s) for y in (40, 138, 236, 334, 432, 530)], 34 * s, d.pal["metal"], "shank"
    )
    _collar(d, 19 * s)
    band_y = hem_top + g.style.hem * s / 2
    tabs = [(0.0, band_y), (-175 * s, hem_top + 25 * s), (175 * s, hem_top + 25 * s)]
    d.after.append(hardware.buttons(tabs, 8.5 * s, d.pal["metal"], "shank"))
    # Wash: lighter where the cloth stands out (folds, seams), darker in the creases.
    lift = np.clip(cv2.GaussianBlur(d.height, (0, 0), 3 * c.px_mm), -2, 2)
    d.rgb *= (1 + 0.045 * lift)[..., None].astype(np.float32)


def _bomber(d: Drawing, top_front: float) -> None:
    c, g, s = d.c, d.g, d.s
    X, Y = c.X, c.Y
    a, b = g.style.neck_half * s, top_front
    ao, bo = a - 36 * s, b - 34 * s
    seam_e, open_e = ellipse_arc(a, b), ellipse_arc(ao, bo)
    band = c.fill([np.vstack([seam_e, open_e[::-1]])]) * d.body
    stand = c.fill([g.extras[0]])
    hole = c.fill([np.vstack([open_e, [[-ao, 0], [ao, 0]]])])
    stand_in = stand * (1 - hole) * (Y < 0.0)
    rho = np.sqrt((X / a) ** 2 + (np.maximum(Y, 0) / b) ** 2)
    q = np.clip((1 - rho) / (1 - ao / a), 0, 1)
    phi = np.arctan2(np.maximum(Y, 0) / b, X / a)
    rib = rib_fabric(d, (phi * (a + b) / 2).astype(np.float32), (q * 36 * s).astype(np.float32), d.pal["rib"])
    tip = ((q > 0.6) & (q < 0.68)) | ((q > 0.76) & (q < 0.84))
    rib.rgb = np.where(
        tip[..., None], hex_rgb(d.pal["tip"]) * (0.9 + 0.1 * rib.relief[..., None] / s), rib.rgb
    )
    d.paint(band, rib)
    d.height += (band * 2.0 * s * np.sin(np.pi * q)).astype(np.float32)
    d.paint(stand_in, rib_fabric(d, X, Y, d.pal["rib"]))
    lining = hole * d.body
    d.rgb = d.rgb * (1 - lining[..., None]) + hex_rgb(d.pal["tip"]) * lining[..., None]
    d.shade *= (1 - 0.5 * stand_in - 0.55 * lining).astype(np.float32)
    hem_bot = float(g.hem[1])
    hardware.zip_fastener(d, 0.0, b - 4 * s, hem_bot)
    for side in (1.0, -1.0):
        welt = np.array([[118, 430], [140, 424], [168, 540], [146, 546]], np.float64) * s
        w = welt if side > 0 else mirror(welt)
        wm = c.fill([w]) * d.body
        layer(d, wm, None, 1.4, 0.45)
        stitches(d, [offset(catmull(np.vstack([w, w[:1]]), 2), -2.5 * s * side)])
        slit = c.stroke([w[[0, 3]] + [[-1.5 * s * side, 0], [-1.5 * s * side, 0]]], 1.0 * s)
        d.shade *= (1 - 0.55 * slit).astype(np.float32)
    # The utility pocket on the left sleeve (image right).
    a_r, t_r = d.sleeve_uv[0]
    box = (a_r > -24 * s) & (a_r < 26 * s) & (t_r > 100 * s) & (t_r < 200 * s)
    pm = (cv2.GaussianBlur(box.astype(np.float32), (0, 0), 0.6) * d.sleeves[0]).astype(np.float32)
    layer(d, pm, None, 1.2, 0.4)
    outline = [
        g.on_sleeve(t, aa)
        for t, aa in (
            (100 * s, -21 * s),
            (100 * s, 23 * s),
            (197 * s, 23 * s),
            (197 * s, -21 * s),
            (100 * s, -21 * s),
        )
    ]
    stitches(d, [np.array(outline)])
    for aa in (-14.0, -7.0):
        stitches(d, [np.array([g.on_sleeve(100 * s, aa * s), g.on_sleeve(150 * s, aa * s)])])
    zl = np.array([g.on_sleeve(110 * s, -16 * s), g.on_sleeve(110 * s, 20 * s)])
    d.shade *= (1 - 0.5 * d.c.stroke([zl], 1.6 * s)).astype(np.float32)
    # Padding: the quilted lining makes the shell pillowy.
    for m in (d.body, *d.sleeves):
        ins = c.inside(m > 0.5)
        d.height += (m * 5.0 * s * (1 - np.exp(-ins / (28 * s)))).astype(np.float32)
