"""The cut of the drawn garments (:mod:`tryon.art.garments`): the styles and fits, and the
:class:`Geometry` of one garment in mm (neck at the origin, x to the image's right, y down): its
right half's body outline, its right sleeve, the sleeve's centre line and width, and the collar
pieces that reach beyond the body's outline.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from tryon.art.base import F32, Pts, bezier, catmull, mirror, scaled

UPPER_ARM_MM = 330.0
FOREARM_MM = 250.0


@dataclass(frozen=True)
class Fit:
    """How wide a garment is cut, in adult mm."""

    shoulder_x: float  # half the shoulder width (mm)
    theta: float  # the upper sleeve's angle from vertical (degrees)
    armpit_x: float  # half the body's width at the underarm
    body: float  # factor on the body's width below the underarm


FITS: Mapping[str, Fit] = {
    "slim": Fit(210.0, 17.0, 172.0, 0.91),
    "regular": Fit(220.0, 20.0, 190.0, 1.0),
    "loose": Fit(236.0, 23.0, 212.0, 1.12),
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


def build_geometry(style: Style, s: float, fit: Fit) -> Geometry:
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
    back = bezier(np.array([0.0, -3.0 * s]), np.array([hps[0] * 0.6, -3.0 * s]), hps, 16)
    g.shoulder_line = bezier(hps, (hps + sh) / 2 + np.array([0.0, -4.0 * s]), sh, 30)
    g.armhole = bezier(sh, np.array([min(sh[0], ap[0]) - 6 * s, sh[1] + 0.55 * (ap[1] - sh[1])]), ap, 40)
    side_curve = catmull(np.vstack([ap, side]), 40)
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
    cap = bezier(sh, ctrl, outer[k], 20)
    t_in = ts[ts >= t_a][::-1]
    inner = g.centre(t_in) - g.width(t_in)[:, None] * g.normal(t_in)
    g.sleeve = np.vstack([cap, outer[k + 1 :], inner, g.armhole[::-1][1:-1]])
    return g


# -- collar pieces that reach beyond the body's outline -------------------------------------------

_SHIRT_LEAF = [(4, 38), (22, 16), (40, -4), (56, -18), (70, -27), (86, -22), (101, -8), (110, 8),
               (99, 34), (82, 62), (64, 92), (45, 74), (24, 56)]  # fmt: skip
_DENIM_LEAF = [(6, 40), (26, 16), (46, -6), (62, -21), (78, -30), (98, -24), (118, -6), (130, 16),
               (114, 46), (94, 80), (74, 112), (52, 88), (28, 62)]  # fmt: skip


def _leaf(g: Geometry) -> Pts:
    pts = _SHIRT_LEAF if g.style.neckline == "shirt" else _DENIM_LEAF
    return catmull(scaled([*pts, pts[0]], g.s), 8)


def _back_collar(g: Geometry) -> Pts:
    s = g.s
    if g.style.neckline == "bomber":
        return catmull(
            scaled([(-88, 0), (-84, -26), (-56, -39), (0, -43), (56, -39), (84, -26), (88, 0)], s), 10
        )
    top = -36.0 if g.style.neckline == "shirt" else -42.0
    leaf = _SHIRT_LEAF if g.style.neckline == "shirt" else _DENIM_LEAF
    inner = [p for p in leaf[:5]][::-1]  # the leaf's roll line, from the back down to the front
    pts = [(-inner[0][0], inner[0][1]), (0, top), *inner, (-inner[-1][0], inner[-1][1])]
    pts += [(-x, y) for x, y in inner[-2:0:-1]]
    return scaled(pts, s)


def collar_shapes(g: Geometry) -> list[Pts]:
    """Collar pieces (mm), part of the body, drawn over it (back piece first)."""
    if g.style.neckline in ("shirt", "denim"):
        leaf = _leaf(g)
        return [_back_collar(g), leaf, mirror(leaf)]
    if g.style.neckline == "bomber":
        return [_back_collar(g)]
    return []
