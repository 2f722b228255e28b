"""Fabrics of the procedurally drawn garments (:mod:`tryon.art.garments`): colourways, and
per-pixel colour (sRGB in [0, 1]) plus a relief height (mm) for jersey, Breton stripes, tartan
flannel, cable knit, a Christmas fair-isle knit chart, a floral print, denim twill and satin.

Every fabric is a function of the fabric coordinates ``(u, v)`` in mm (``u`` across the grain,
``v`` along it, downwards), so a pattern follows the body and each sleeve; ``s`` scales the
pattern (the child's pyjama is the adult's chart at 65 %).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.art.base import F32, hex_rgb

PALETTES: Mapping[str, Mapping[str, Mapping[str, str]]] = {
    "crew-tee": {
        "white": {"ground": "#F1F0EB"},
        "heather-grey": {"ground": "#A2A3A5", "fleck": "#6E6F72"},
        "navy": {"ground": "#26324D"},
    },
    "breton-top": {
        "navy": {"ground": "#EFE8DA", "stripe": "#1E2A4A"},
        "red": {"ground": "#EFE8DA", "stripe": "#B1262F"},
    },
    "cable-sweater": {
        "oatmeal": {"ground": "#DCCFB5", "fleck": "#A8977A"},
        "forest": {"ground": "#36533F", "fleck": "#1F3326"},
    },
    "flannel-shirt": {
        "red": {"a": "#A8232C", "b": "#1D1A1E", "c": "#E9D8AE", "d": "#2E4A34", "button": "#2A2220"},
        "blue": {"a": "#27406A", "b": "#16202F", "c": "#E6E6E0", "d": "#3C6B52", "button": "#D8D2C4"},
    },
    "wrap-dress": {
        "navy": {
            "ground": "#1F2642",
            "petal": "#E7868E",
            "petal2": "#F4E7D4",
            "centre": "#E6B447",
            "leaf": "#5C8A5F",
        },
        "blush": {
            "ground": "#F2D6CD",
            "petal": "#A5304A",
            "petal2": "#FFFDF8",
            "centre": "#D9A33A",
            "leaf": "#6D8E69",
        },
    },
    "denim-jacket": {
        "mid-wash": {"ground": "#34517F", "thread": "#C8893C", "metal": "#8C6A44"},
        "light-wash": {"ground": "#7D9BC2", "thread": "#C8893C", "metal": "#A7A9AE"},
    },
    "bomber-jacket": {
        "olive": {"ground": "#5B5F3B", "rib": "#41452A", "tip": "#C9772F", "metal": "#B5B2A6"},
        "black": {"ground": "#26272B", "rib": "#1C1D20", "tip": "#9C9EA3", "metal": "#B5B7BC"},
    },
    "fair-isle-pyjama": {
        "red": {"ground": "#B3232F", "motif": "#F2E8D5", "accent": "#2C5A3C"},
        "green": {"ground": "#275440", "motif": "#F2E8D5", "accent": "#B3232F"},
    },
}
"""Per style, per colourway: named colours (``ground`` is the main fabric colour)."""


@dataclass
class Fabric:
    """A fabric evaluated on a grid: ``rgb`` (H, W, 3) sRGB in [0, 1] and ``relief`` (H, W) in mm."""

    rgb: F32
    relief: F32


def smooth_noise(shape: tuple[int, int], cell: tuple[float, float], seed: int) -> F32:
    """Band-limited noise of unit spread, features ``cell`` = (rows, cols) pixels in size."""
    rng = np.random.default_rng(seed)
    h, w = shape
    small = rng.standard_normal((max(2, int(h / cell[0]) + 2), max(2, int(w / cell[1]) + 2)))
    big = cv2.resize(small.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    out: F32 = (big / max(float(big.std()), 1e-6)).astype(np.float32)
    return out


def _smoothstep(e0: float, e1: float, x: F32) -> F32:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    out: F32 = (t * t * (3.0 - 2.0 * t)).astype(np.float32)
    return out


def _solid(colour: F32, shape: tuple[int, int]) -> F32:
    return np.broadcast_to(colour, (*shape, 3)).astype(np.float32)


def knit_relief(u: F32, v: F32, sw: float, sh: float) -> F32:
    """Stockinette: a column of V-shaped stitches ``sw`` × ``sh`` mm, height in [0, 1]."""
    fu = (u / sw) % 1.0
    fv = (v / sh) % 1.0
    out = np.zeros_like(u)
    for side in (-1.0, 1.0):
        # Each leg is an oval leaning in towards the bottom centre of the stitch.
        cx, ang = 0.5 + side * 0.22, side * 0.5
        du, dv = (fu - cx) * (sw / sh), fv - 0.5
        a = du * math.cos(ang) - dv * math.sin(ang)
        b = du * math.sin(ang) + dv * math.cos(ang)
        leg = 1.0 - (a / 0.3) ** 2 - (b / 0.62) ** 2
        out = np.maximum(out, leg)
    res: F32 = np.sqrt(np.clip(out, 0.0, 1.0)).astype(np.float32)
    return res


def purl_relief(u: F32, v: F32, sw: float, sh: float) -> F32:
    """Reverse stockinette: rows of small horizontal bumps, offset every other row."""
    row = np.floor(v / sh)
    fu = ((u / sw) + 0.5 * (row % 2)) % 1.0
    fv = (v / sh) % 1.0
    bump = 1.0 - ((fu - 0.5) / 0.55) ** 2 - ((fv - 0.5) / 0.38) ** 2
    out: F32 = np.sqrt(np.clip(bump, 0.0, 1.0)).astype(np.float32)
    return out


def rib_relief(u: F32, v: F32, pitch: float) -> F32:
    """1×1 rib: raised knit columns between sunken purl ones, ``pitch`` mm per pair."""
    ridge = np.clip(np.cos(u * (2 * math.pi / pitch)), 0.0, 1.0) ** 0.6
    out: F32 = (ridge * (0.75 + 0.25 * knit_relief(u, v, pitch / 2, pitch * 0.55))).astype(np.float32)
    return out


def jersey(u: F32, v: F32, pal: Mapping[str, str], seed: int) -> Fabric:
    shape = u.shape
    rgb = _solid(hex_rgb(pal["ground"]), shape)
    relief = np.zeros(shape, np.float32)
    if "fleck" in pal:  # marl: short light and dark fibres along the knit rows
        streak = smooth_noise(shape, (2.5, 9.0), seed)
        mix = np.clip(0.5 + 0.25 * streak, 0.0, 1.0)[..., None]
        rgb = rgb * (1.0 - 0.5 * mix) + hex_rgb(pal["fleck"]) * (0.5 * mix)
    return Fabric(rgb.astype(np.float32), relief)


def breton(u: F32, v: F32, pal: Mapping[str, str], s: float, start: float, px_mm: float) -> Fabric:
    """Breton jersey: ``stripe`` bands 9 mm every 22 mm from ``v = start`` down (plain above)."""
    period, width = 22.0 * s, 9.0 * s
    phase = (v - start) % period
    edge = 0.5 / px_mm
    inside = _smoothstep(-edge, edge, phase - 0.0) * (1.0 - _smoothstep(width - edge, width + edge, phase))
    inside = inside * _smoothstep(start - edge, start + edge, v)
    g, st = hex_rgb(pal["ground"]), hex_rgb(pal["stripe"])
    rgb = g * (1.0 - inside[..., None]) + st * inside[..., None]
    return Fabric(rgb.astype(np.float32), np.zeros(u.shape, np.float32))


# Tartan sett: (colour key, width mm), mirrored about its end (a symmetric sett).
SETT: Sequence[tuple[str, float]] = (
    ("a", 26.0),
    ("b", 12.0),
    ("a", 2.5),
    ("b", 2.5),
    ("c", 1.5),
    ("b", 2.5),
    ("a", 2.5),
    ("b", 12.0),
    ("a", 14.0),
    ("d", 9.0),
    ("a", 3.0),
    ("c", 1.2),
)


def _sett_lookup(pal: Mapping[str, str], s: float, step: float) -> tuple[F32, float]:
    half = [(k, w * s) for k, w in SETT]
    full = half + half[::-1]
    period = sum(w for _, w in full)
    n = math.ceil(period / step)
    table = np.zeros((n, 3), np.float32)
    pos = (np.arange(n) + 0.5) * step
    acc = 0.0
    for key, w in full:
        table[(pos >= acc) & (pos < acc + w)] = hex_rgb(pal[key])
        acc += w
    return table, period


def tartan(u: F32, v: F32, pal: Mapping[str, str], s: float, seed: int) -> Fabric:
    """Brushed cotton flannel in a twill tartan (warp along ``v``, weft along ``u``)."""
    step = 0.25
    table, period = _sett_lookup(pal, s, step)
    n = len(table)
    warp = table[((u % period) / step).astype(np.int32) % n]
    weft = table[((v % period) / step).astype(np.int32) % n]
    twill = 0.5 + 0.5 * np.sin((u + v) * (2 * math.pi / 2.2))
    k = (0.35 + 0.3 * twill)[..., None]
    rgb = warp * k + weft * (1.0 - k)
    rgb = cv2.GaussianBlur(rgb, (0, 0), 0.8)
    fuzz = smooth_noise(u.shape, (12.0, 12.0), seed)
    rgb = rgb * (1.0 + 0.03 * fuzz)[..., None]
    return Fabric(rgb.astype(np.float32), (0.05 * twill).astype(np.float32))


def cable_knit(u: F32, v: F32, pal: Mapping[str, str], s: float, seed: int, sleeve: bool) -> Fabric:
    """Aran knit: a honeycomb panel in the middle of the body, rope cables either side, moss
    stitch between (on a sleeve: one rope cable down the middle of moss stitch)."""
    sw, sh = 5.0 * s, 4.4 * s
    au = np.abs(u)
    moss_cell = (np.floor(u / sw) + np.floor(v / sh)) % 2
    base = np.where(moss_cell == 0, knit_relief(u, v, sw, sh), purl_relief(u, v, sw, sh)) * 0.55
    height = base.astype(np.float32)
    ropes: list[tuple[float, float]] = [(0.0, 40.0)] if sleeve else [(62.0, 40.0), (-62.0, 40.0)]
    if not sleeve:
        ropes += [(150.0, 34.0), (-150.0, 34.0)]
    for centre, width in ropes:
        c, w = centre * s, width * s
        local = u - c
        inside = np.abs(local) < w / 2 + 2.5 * s
        gutter = (np.abs(local) >= w / 2) & inside
        height = np.where(gutter, purl_relief(u, v, sw, sh) * 0.25, height)
        r = w / 4
        period = 2.2 * w
        phase = (v / period) % 1.0
        tri = (2.0 * np.abs(2.0 * phase - 1.0) - 1.0) * (w / 4)  # ±w/4: the strands swap sides
        rope = np.zeros_like(u)
        for k, sign in enumerate((1.0, -1.0)):
            d = local - sign * tri
            tube = np.sqrt(np.clip(1.0 - (d / r) ** 2, 0.0, 1.0))
            on_top = (np.floor(v / (period / 2)) % 2 == k).astype(np.float32)
            stitches = knit_relief(d, v - sign * tri * 0.6, r, sh)
            rope = np.maximum(rope, tube * (0.85 + 0.35 * on_top) * (0.8 + 0.2 * stitches))
        core = np.abs(local) < w / 2
        height = np.where(core, 0.35 + rope * 1.6, height)
    if not sleeve:  # honeycomb: travelling stitches in a diamond lattice
        hw = 40.0 * s
        core = au < hw
        p = 32.0 * s
        lattice = np.zeros_like(u)
        for sign in (1.0, -1.0):
            d = np.abs(((u + sign * v * 0.8) % p) - p / 2)
            lattice = np.maximum(lattice, np.clip(1.0 - (d / (4.0 * s)) ** 2, 0.0, 1.0))
        moss = np.where(moss_cell == 0, knit_relief(u, v, sw, sh), purl_relief(u, v, sw, sh)) * 0.35
        height = np.where(core, np.maximum(moss, 0.25 + lattice * 1.1), height)
        edge = (au >= hw) & (au < hw + 3.0 * s)
        height = np.where(edge, purl_relief(u, v, sw, sh) * 0.2, height)
    fleck = smooth_noise(u.shape, (8.0, 8.0), seed)
    g, f = hex_rgb(pal["ground"]), hex_rgb(pal["fleck"])
    mix = np.clip(0.12 + 0.1 * fleck, 0.0, 1.0)[..., None]
    rgb = g * (1.0 - mix) + f * mix
    return Fabric(rgb.astype(np.float32), (height * 2.2 * s).astype(np.float32))


# -- the Christmas fair-isle chart: '.' ground, 'x' motif (cream), 'o' accent ----------------------

_SNOWFLAKE = (
    "....x....",
    ".x..x..x.",
    "..x.x.x..",
    "...xxx...",
    "xxxxoxxxx",
    "...xxx...",
    "..x.x.x..",
    ".x..x..x.",
    "....x....",
)
_TREE = (
    ".....x.....",
    "....xxx....",
    "...xxoxx...",
    "....xxx....",
    "...xxxxx...",
    "..xxoxxox..",
    "...xxxxx...",
    "..xxxxxxx..",
    ".xxoxxxxox.",
    "xxxxxxxxxxx",
    ".....o.....",
    ".....o.....",
)
_REINDEER = (
    "x.x..........",
    ".x.x.........",
    "..xx.........",
    ".xxx.........",
    "xxxx.........",
    "..xx.........",
    "..xxxxxxxx.x.",
    "..xxxxxxxxx..",
    "...xxxxxxxx..",
    "...xxxxxxx...",
    "...x.x..x.x..",
    "...x.x..x.x..",
    "..x..x.x..x..",
)
_PEERIE = (
    "x.x.x.x.",
    ".o...o..",
    "ooo.ooo.",
    ".o...o..",
    "x.x.x.x.",
)
_DOTS = ("x...", "....", "..x.", "....")
_BORDER = ("xx..", "xx..", "..xx", "..xx")


def _band(motif: Sequence[str], gap: int) -> list[str]:
    """A motif repeated across, ``gap`` ground stitches between repeats."""
    return [row + "." * gap for row in motif]


BODY_CHART: Sequence[tuple[float, Sequence[str]]] = (
    (80.0, _band(_PEERIE, 0)),
    (130.0, _band(_BORDER, 0)),
    (160.0, _band(_REINDEER, 5)),
    (235.0, _band(_BORDER, 0)),
    (270.0, _band(_SNOWFLAKE, 7)),
    (335.0, _band(_DOTS * 6, 0)),
    (470.0, _band(_PEERIE, 0)),
    (510.0, _band(_TREE, 5)),
    (575.0, _band(_BORDER, 0)),
)
SLEEVE_CHART: Sequence[tuple[float, Sequence[str]]] = (
    (150.0, _band(_PEERIE, 0)),
    (190.0, _band(_SNOWFLAKE, 4)),
    (250.0, _band(_PEERIE, 0)),
    (300.0, _band(_DOTS * 5, 0)),
    (420.0, _band(_BORDER, 0)),
    (450.0, _band(_TREE, 3)),
)
"""(top of the band in adult mm down the body / the sleeve, rows): bands on the ground colour."""

_CODES = {".": 0, "x": 1, "o": 2}


def _chart_codes(
    u: F32, v: F32, chart: Sequence[tuple[float, Sequence[str]]], s: float, sw: float, sh: float
) -> NDArray[np.int32]:
    col = np.floor(u / sw).astype(np.int32)
    row = np.floor(v / sh).astype(np.int32)
    codes = np.zeros(u.shape, np.int32)
    for top, rows in chart:
        r0 = round(top * s / sh)
        grid = np.array([[_CODES[c] for c in line] for line in rows], np.int32)
        rr = row - r0
        inside = (rr >= 0) & (rr < grid.shape[0])
        # The motif is centred on u = 0 (the body's centre, the sleeve's axis).
        cc = (col + grid.shape[1] // 2) % grid.shape[1]
        codes = np.where(inside, grid[np.clip(rr, 0, grid.shape[0] - 1), cc], codes)
    return codes


def fair_isle(
    u: F32, v: F32, pal: Mapping[str, str], s: float, seed: int, sleeve: bool, v0: float = 0.0
) -> Fabric:
    """Knitted fair-isle bands (reindeer, snowflakes, trees, peerie borders) on the ground colour;
    stitches ``6 × 5 mm`` × ``s``; ``v0``: where the chart's 0 lies in ``v``."""
    sw, sh = 6.0 * s, 5.0 * s
    codes = _chart_codes(u + sw / 2, v - v0, SLEEVE_CHART if sleeve else BODY_CHART, s, sw, sh)
    colours = np.stack([hex_rgb(pal[k]) for k in ("ground", "motif", "accent")])
    rgb = colours[codes]
    relief = knit_relief(u + sw / 2, v - v0, sw, sh)
    fuzz = smooth_noise(u.shape, (10.0, 10.0), seed)
    rgb = rgb * (0.94 + 0.06 * relief + 0.02 * fuzz)[..., None]
    return Fabric(rgb.astype(np.float32), (relief * 0.9 * s).astype(np.float32))


def floral_tile(pal: Mapping[str, str], size_mm: float, px_mm: float, seed: int) -> F32:
    """A seamless square tile of a floral print: blossoms of three sizes placed at random (not
    closer than their sizes allow), leafy sprigs under them, and small dots between."""
    n = max(8, round(size_mm * px_mm))
    k = n / size_mm
    tile = np.zeros((n, n, 3), np.float32)
    tile[:] = hex_rgb(pal["ground"])
    rng = np.random.default_rng(seed)

    def fix(x: float, y: float) -> tuple[int, int]:
        return round(x * k * 16), round(y * k * 16)

    def blob(cx: float, cy: float, a: float, b: float, ang: float, colour: F32) -> None:
        for ox in (-size_mm, 0.0, size_mm):
            for oy in (-size_mm, 0.0, size_mm):
                x, y = cx + ox, cy + oy
                if -a - b < x < size_mm + a + b and -a - b < y < size_mm + a + b:
                    cv2.ellipse(tile, fix(x, y), fix(a, b), ang, 0, 360, colour.tolist(), -1, cv2.LINE_AA, 4)

    scale = size_mm / 180.0
    flowers: list[tuple[float, float, float, float]] = []
    for radius, count in ((15.0, 7), (10.0, 12), (6.0, 16)):
        r = radius * scale
        for _ in range(count):
            for _try in range(60):
                x, y = rng.uniform(0, size_mm, 2)
                ok = True
                for fx, fy, fr, _a in flowers:
                    dx = min(abs(x - fx), size_mm - abs(x - fx))
                    dy = min(abs(y - fy), size_mm - abs(y - fy))
                    if dx * dx + dy * dy < (1.9 * (r + fr)) ** 2:
                        ok = False
                        break
                if ok:
                    flowers.append((x, y, r * rng.uniform(0.85, 1.15), rng.uniform(0, 72)))
                    break
    leaf = hex_rgb(pal["leaf"])
    for cx, cy, r, rot in flowers:  # sprigs of two or three leaves, under the blossoms
        for j in range(2 + int(r > 8 * scale)):
            a = rot * 5 + j * 130 + rng.uniform(-25, 25)
            ar = math.radians(a)
            lx, ly = cx + math.cos(ar) * r * 1.45, cy + math.sin(ar) * r * 1.45
            blob(lx, ly, r * 0.8, r * 0.32, a, leaf)
            blob(lx, ly, r * 0.6, r * 0.05, a, leaf * 0.7)
    for idx, (cx, cy, r, rot) in enumerate(flowers):
        petal = hex_rgb(pal["petal"] if idx % 3 else pal["petal2"])
        for p in range(5):
            a = rot + p * 72
            ar = math.radians(a)
            blob(cx + math.cos(ar) * r * 0.55, cy + math.sin(ar) * r * 0.55, r * 0.55, r * 0.42, a, petal)
        for p in range(5):
            a = rot + p * 72
            ar = math.radians(a)
            blob(
                cx + math.cos(ar) * r * 0.3, cy + math.sin(ar) * r * 0.3, r * 0.28, r * 0.07, a, petal * 0.78
            )
        blob(cx, cy, r * 0.2, r * 0.2, 0, hex_rgb(pal["centre"]))
        for p in range(6):
            ar = math.radians(rot + p * 60)
            blob(cx + math.cos(ar) * r * 0.2, cy + math.sin(ar) * r * 0.2, r * 0.05, r * 0.05, 0,
                 hex_rgb(pal["centre"]) * 0.7)  # fmt: skip
    dots = 0
    while dots < 40:
        x, y = rng.uniform(0, size_mm, 2)
        if all(min(abs(x - fx), size_mm - abs(x - fx)) ** 2 + min(abs(y - fy), size_mm - abs(y - fy)) ** 2
               > (fr * 2.2) ** 2 for fx, fy, fr, _a in flowers):  # fmt: skip
            blob(x, y, 1.3 * scale, 1.3 * scale, 0, hex_rgb(pal["petal2"]))
            dots += 1
    return tile


def floral(u: F32, v: F32, pal: Mapping[str, str], s: float, px_mm: float, seed: int) -> Fabric:
    """A floral crêpe: the tile repeated on ``(u, v)``, with a faint crêpe grain."""
    size = 180.0 * s
    tile = floral_tile(pal, size, px_mm, seed)
    n = tile.shape[0]
    mx = ((u % size) * (n / size)).astype(np.float32)
    my = ((v % size) * (n / size)).astype(np.float32)
    rgb = cv2.remap(tile, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
    grain = smooth_noise(u.shape, (14.0, 14.0), seed + 5)
    rgb = rgb * (1.0 + 0.02 * grain)[..., None]
    return Fabric(rgb.astype(np.float32), np.zeros(u.shape, np.float32))


def denim(u: F32, v: F32, pal: Mapping[str, str], s: float, seed: int) -> Fabric:
    """Right-hand 3/1 twill in indigo: fine diagonal wales, faint slubby warp streaks, a mottled wash."""
    shape = u.shape
    g = hex_rgb(pal["ground"])
    wale = 0.5 + 0.5 * np.sin((u * 0.7 - v * 0.7) * (2 * math.pi / 1.6))
    slub = smooth_noise(shape, (50.0, 3.0), seed)
    mottle = smooth_noise(shape, (90.0, 90.0), seed + 1)
    light = 1.0 + 0.02 * slub + 0.06 * mottle + 0.06 * (wale - 0.5)
    white = np.clip(0.14 + 0.02 * slub, 0.0, 1.0)[..., None]
    rgb = (g * (1.0 - white) + np.float32(0.9) * white) * light[..., None]
    return Fabric(rgb.astype(np.float32), (0.06 * wale).astype(np.float32))


def satin(u: F32, v: F32, pal: Mapping[str, str], seed: int) -> Fabric:
    """Satin-finish nylon: smooth colour (the sheen comes with the lighting)."""
    return Fabric(_solid(hex_rgb(pal["ground"]), u.shape), np.zeros(u.shape, np.float32))
