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
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.art import garment_details as details
from tryon.art.garment_details import bezier as _bezier
from tryon.art.garment_details import catmull as _catmull
from tryon.art.garment_details import mirror
from tryon.art.garment_fabrics import (
    F32,
    PALETTES,
    Fabric,
    breton,
    cable_knit,
    denim,
    fair_isle,
    floral,
    hex_rgb,
    jersey,
    satin,
    smooth_noise,
    tartan,
)
from tryon.errors import InputError

Pts = NDArray[np.float64]
Anchors = dict[str, tuple[float, float]]

PX_PER_MM = 2.0
MAX_SIDE_PX = 1280
UPPER_ARM_MM = 330.0
FOREARM_MM = 250.0
LIGHT = np.array([-0.35, -0.55, 1.0]) / np.linalg.norm([-0.35, -0.55, 1.0])


@dataclass(frozen=True)
class _Fit:
    shoulder_x: float  # half the shoulder width (mm)
    theta: float  # the upper sleeve's angle from vertical (degrees)
    armpit_x: float  # half the body's width at the underarm
    body: float  # factor on the body's width below the underarm


FITS: Mapping[str, _Fit] = {
    "slim": _Fit(210.0, 17.0, 172.0, 0.91),
    "regular": _Fit(220.0, 20.0, 190.0, 1.0),
    "loose": _Fit(236.0, 23.0, 212.0, 1.12),
}
GARMENT_FITS: tuple[str, ...] = tuple(FITS)


@dataclass(frozen=True)
class Style:
    """A garment's cut (adult mm at regular fit) and trims."""

    kind: str  # catalog kind: top | dress | jacket
    neckline: str  # crew | boat | wrap | shirt | denim | bomber
    neck_half: float  # half the distance between the neck-shoulder points
    neck_drop: float  # front neck seam below the neck-shoulder points
    collar: float  # rib / facing width at the neck
    sleeve: str  # short | long
    sleeve_len: float  # short sleeves: length along the sleeve's axis
    cuff: float  # depth of the cuff (long) or of the sleeve hem (short)
    cuff_kind: str  # hem | rib | band
    side: tuple[tuple[float, float], ...]  # side seam points below the underarm: waist first, hem corner last
    hem_drop: float  # the hem's centre this much below its corners
    hem: float  # hem / band depth
    hem_kind: str  # hem | rib | band
    fabric: str
    fullness: float = 1.0  # sleeve width factor below the underarm (bloused sleeves)
    flare: float = 1.06  # short sleeves: width at the end / at the top


GARMENT_STYLES_TABLE: Mapping[str, Style] = {
    "crew-tee": Style(
        "top", "crew", 85, 80, 16, "short", 225, 22, "hem", ((178, 420), (186, 680)), 6, 22, "hem", "jersey"
    ),
    "breton-top": Style(
        "top", "boat", 118, 36, 14, "long", 0, 18, "hem", ((166, 420), (172, 660)), 4, 20, "hem", "breton"
    ),
    "cable-sweater": Style(
        "top",
        "crew",
        88,
        84,
        28,
        "long",
        0,
        62,
        "rib",
        ((184, 420), (188, 600), (172, 670)),
        0,
        62,
        "rib",
        "cable",
        fullness=1.12,
    ),
    "flannel-shirt": Style(
        "top", "shirt", 78, 60, 0, "long", 0, 60, "band", ((182, 420), (190, 690)), 45, 8, "hem", "tartan"
    ),
    "wrap-dress": Style(
        "dress",
        "wrap",
        80,
        165,
        10,
        "short",
        190,
        12,
        "hem",
        ((148, 400), (215, 560), (318, 1000)),
        26,
        14,
        "hem",
        "floral",
        flare=1.25,
    ),
    "denim-jacket": Style(
        "jacket",
        "denim",
        82,
        60,
        0,
        "long",
        0,
        55,
        "band",
        ((194, 420), (196, 610)),
        0,
        50,
        "band",
        "denim",
        fullness=1.08,
    ),
    "bomber-jacket": Style(
        "jacket",
        "bomber",
        88,
        72,
        45,
        "long",
        0,
        65,
        "rib",
        ((196, 420), (200, 575), (180, 650)),
        0,
        65,
        "rib",
        "satin",
        fullness=1.14,
    ),
    "fair-isle-pyjama": Style(
        "top", "crew", 85, 78, 20, "long", 0, 50, "rib", ((180, 420), (184, 690)), 0, 45, "rib", "fair-isle"
    ),
}
GARMENT_STYLES: tuple[str, ...] = tuple(GARMENT_STYLES_TABLE)
GARMENT_COLOURWAYS: Mapping[str, tuple[str, ...]] = {k: tuple(PALETTES[k]) for k in GARMENT_STYLES}


# -- geometry -------------------------------------------------------------------------------------


@dataclass
class Geometry:
    """The garment's right half (x > 0: the wearer's left) in mm; the left is its mirror image."""

    s: float
    style: Style
    hps: Pts
    shoulder: Pts
    armpit: Pts
    waist: Pts
    hem: Pts
    shoulder_line: Pts  # neck-shoulder point → shoulder
    armhole: Pts  # shoulder → underarm
    hem_line: Pts  # right hem corner → left hem corner
    body: Pts  # the closed body outline
    sleeve: Pts  # the closed right sleeve outline
    p0: Pts  # the sleeve's centre line: p0 + t·u1 to the elbow, then along u2
    u1: Pts
    u2: Pts
    t_armpit: float
    t_elbow: float
    t_end: float
    w_keys: tuple[tuple[float, ...], tuple[float, ...]]
    elbow: Pts | None
    cuff: Pts
    extras: list[Pts] = field(default_factory=list)  # collar pieces, part of the body

    def width(self, t: NDArray[np.floating]) -> NDArray[np.float64]:
        out: NDArray[np.float64] = np.interp(t, self.w_keys[0], self.w_keys[1])
        return out

    def centre(self, t: NDArray[np.floating]) -> Pts:
        t = np.asarray(t, np.float64)[..., None]
        upper = self.p0 + t * self.u1
        lower = self.p0 + self.t_elbow * self.u1 + (t - self.t_elbow) * self.u2
        out: Pts = np.where(t <= self.t_elbow, upper, lower)
        return out

    def normal(self, t: NDArray[np.floating]) -> Pts:
        k = np.clip((np.asarray(t, np.float64) - self.t_elbow + 30 * self.s) / (60 * self.s), 0, 1)[..., None]
        n1, n2 = np.array([self.u1[1], -self.u1[0]]), np.array([self.u2[1], -self.u2[0]])
        n = (1 - k) * n1 + k * n2
        out: Pts = n / np.linalg.norm(n, axis=-1, keepdims=True)
        return out

    def on_sleeve(self, t: float, a: float) -> Pts:
        """The point ``a`` mm outwards from the right sleeve's centre line at ``t``."""
        out: Pts = self.centre(np.array(t)) + a * self.normal(np.array(t))
        return out

    def sleeve_uv(self, x: F32, y: F32) -> tuple[F32, F32]:
        """(across, along) sleeve coordinates (mm) of points, for the right sleeve."""
        n1, n2 = np.array([self.u1[1], -self.u1[0]]), np.array([self.u2[1], -self.u2[0]])
        dx, dy = x - self.p0[0], y - self.p0[1]
        t1 = dx * self.u1[0] + dy * self.u1[1]
        a1 = dx * n1[0] + dy * n1[1]
        e = self.centre(np.array(self.t_elbow))
        ex, ey = x - e[0], y - e[1]
        t2 = self.t_elbow + ex * self.u2[0] + ey * self.u2[1]
        a2 = ex * n2[0] + ey * n2[1]
        k = np.clip((t1 - self.t_elbow + 30 * self.s) / (60 * self.s), 0, 1)
        along = (1 - k) * t1 + k * t2
        across = (1 - k) * a1 + k * a2
        return across.astype(np.float32), along.astype(np.float32)


def build_geometry(style: Style, s: float, fit: _Fit) -> Geometry:
    hps = np.array([style.neck_half * s, 0.0])
    sh = np.array([fit.shoulder_x * s, 45.0 * s])
    ap = np.array([fit.armpit_x * s, sh[1] + 180.0 * s])
    side = np.array([[x * fit.body * s, y * s] for x, y in style.side])
    waist, hem = side[0], side[-1]
    th = math.radians(fit.theta)
    u1 = np.array([math.sin(th), math.cos(th)])
    n1 = np.array([math.cos(th), -math.sin(th)])
    w0 = math.cos(th) * ((ap[1] - sh[1]) * math.tan(th) + sh[0] - ap[0]) / 2
    p0 = sh - w0 * n1
    t_a = float((ap - p0) @ u1)
    full = style.fullness
    if style.sleeve == "short":
        t_e = 1e9
        t_end = style.sleeve_len * s
        u2 = u1
        keys = [(0.0, w0), (t_a, w0), (t_end, w0 * style.flare)]
    else:
        t_e = math.sqrt((UPPER_ARM_MM * s) ** 2 - w0**2)
        t_end = t_e + FOREARM_MM * s
        th2 = th - math.radians(6.0)
        u2 = np.array([math.sin(th2), math.cos(th2)])
        c = style.cuff * s
        if style.cuff_kind == "rib":
            keys = [
                (0.0, w0),
                (t_a, w0 * full),
                (t_e, 0.95 * w0 * full),
                (t_end - c - 14 * s, 0.92 * w0 * full),
                (t_end - c + 6 * s, 0.66 * w0),
                (t_end, 0.64 * w0),
            ]
        elif style.cuff_kind == "band":
            keys = [
                (0.0, w0),
                (t_a, w0),
                (t_e, 0.92 * w0 * full),
                (t_end - c - 30 * s, 0.86 * w0 * full),
                (t_end - c, 0.76 * w0),
                (t_end, 0.74 * w0),
            ]
        else:
            keys = [(0.0, w0), (t_a, w0), (t_e, 0.86 * w0), (t_end, 0.74 * w0)]
    kt, kw = zip(*keys, strict=True)
    g = Geometry(
        s,
        style,
        hps,
        sh,
        ap,
        waist,
        hem,
        np.zeros((0, 2)),
        np.zeros((0, 2)),
        np.zeros((0, 2)),
        np.zeros((0, 2)),
        np.zeros((0, 2)),
        p0,
        u1,
        u2,
        t_a,
        min(t_e, 1e9),
        t_end,
        (kt, kw),
        None,
        np.zeros(2),
    )
    g.cuff = g.centre(np.array(t_end))
    g.elbow = None if style.sleeve == "short" else g.centre(np.array(t_e))
    # Body: back neck → neck-shoulder point → shoulder → armhole → side → hem centre (right half).
    back = _bezier(np.array([0.0, -3.0 * s]), np.array([hps[0] * 0.6, -3.0 * s]), hps, 16)
    g.shoulder_line = _bezier(hps, (hps + sh) / 2 + np.array([0.0, -4.0 * s]), sh, 30)
    g.armhole = _bezier(sh, np.array([min(sh[0], ap[0]) - 6 * s, sh[1] + 0.55 * (ap[1] - sh[1])]), ap, 40)
    side_curve = _catmull(np.vstack([ap, side]), 40)
    tau = np.linspace(0.0, 1.0, 40)[:, None]
    hem_half = np.hstack([hem[0] * (1 - tau), hem[1] + style.hem_drop * s * np.sin(tau * math.pi / 2)])
    if style.kind == "dress":  # the flared skirt's hem rises and falls with its flutes (see _folds)
        x = hem_half[:, 0]
        spacing = hem[0] * 1.02 / 5.5
        env = np.clip((hem[0] - x) / (40 * s), 0, 1)
        amp = 9 * s * (1 + 0.35 * np.sin(x / (37 * s) + 1.3))
        hem_half[:, 1] -= amp * np.cos(np.pi * x / spacing) * env
    right = np.vstack([back, g.shoulder_line[1:], g.armhole[1:], side_curve[1:], hem_half[1:]])
    g.body = np.vstack([right, mirror(right[::-1])[1:-1]])
    g.hem_line = np.vstack([hem_half, mirror(hem_half[::-1])[1:]])
    # Sleeve: a rounded cap from the shoulder, the outer edge, the end, the inner edge up to the
    # underarm, and the armhole back up to the shoulder.
    ts = np.linspace(0.0, t_end, max(40, int(t_end / (2 * s))))
    bulge = 8 * s * np.clip(ts / (30 * s), 0, 1) * np.exp(-(((ts - 60 * s) / (50 * s)) ** 2))
    outer = g.centre(ts) + (g.width(ts) + bulge)[:, None] * g.normal(ts)
    t_cap = 45 * s
    k = int(np.searchsorted(ts, t_cap))
    tangent = g.shoulder_line[-1] - g.shoulder_line[-2]
    tangent /= np.linalg.norm(tangent)
    mat = np.column_stack([tangent, u1])
    try:
        a, _ = np.linalg.solve(mat, outer[k] - sh)
        ctrl = sh + max(a, 5 * s) * tangent
    except np.linalg.LinAlgError:
        ctrl = (sh + outer[k]) / 2
    cap = _bezier(sh, ctrl, outer[k], 20)
    t_in = ts[ts >= t_a][::-1]
    inner = g.centre(t_in) - g.width(t_in)[:, None] * g.normal(t_in)
    g.sleeve = np.vstack([cap, outer[k + 1 :], inner, g.armhole[::-1][1:-1]])
    return g


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

    def _fixed(self, pts: Pts) -> NDArray[np.int32]:
        return np.round(self.px(pts) * 16).astype(np.int32)

    def fill(self, polys: list[Pts], aa: bool = True) -> F32:
        mask = np.zeros(self.shape, np.uint8)
        for p in polys:  # one at a time: several in one call would fill their overlap even-odd
            one = np.zeros(self.shape, np.uint8)
            cv2.fillPoly(one, [self._fixed(p)], 255, cv2.LINE_AA if aa else cv2.LINE_8, 4)
            np.maximum(mask, one, out=mask)
        out: F32 = mask.astype(np.float32) / 255.0
        return out

    def stroke(self, lines: list[Pts], width_mm: float, closed: bool = False) -> F32:
        mask = np.zeros(self.shape, np.uint8)
        th = max(1, round(width_mm * self.px_mm))
        cv2.polylines(mask, [self._fixed(p) for p in lines], closed, 255, th, cv2.LINE_AA, 4)
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
    after: list[details.Hardware] = field(default_factory=list)

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
            cv2.fillPoly(labels, [c._fixed(p)], value, cv2.LINE_8, 4)
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
    g.extras = details.collar_shapes(g)
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


__all__ = ["GARMENT_COLOURWAYS", "GARMENT_FITS", "GARMENT_STYLES", "draw_garment", "hex_rgb"]
