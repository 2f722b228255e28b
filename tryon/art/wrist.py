"""Procedurally drawn watches and bracelets (the starter catalog's wrist products, and test
material): flat lays of the band laid out straight along the image's x axis.

The band's two ends, ``band_left`` and ``band_right``, are where it closes round the wrist, so
their distance is its worn length; the renderer (:mod:`tryon.render.wrist`) bends the image round
the wrist and joins the ends on the far side, so every pattern along the band repeats a whole
number of times between them. A watch's ``face_centre`` is midway; its 12 o'clock points towards
``band_left`` (the lugs are on the strap's line) and its crown (3 o'clock) to the top of the
image: on the left wrist, back of the hand to the camera, the crown then points to the fingers.

Watches are drawn in colour, one image per colourway (:data:`COLOURWAYS`: a product's variants
name their images); bracelets are grey shading that the variant's metal or stone colour
multiplies, as earrings are. :func:`product_shot` gives the thumbnails' pictures: a watch upright,
a bracelet closed in a ring.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.art.base import F32, hex_rgb, polyline, relief_shading
from tryon.errors import InputError
from tryon.render.masks import fixed_point, fixed_points
from tryon.render.sprite import Sprite

PX_PER_MM = 6.0
MARGIN_MM = 1.5
"""Transparent margin beyond the band's ends."""
WATCH_STYLES = ("diver", "dress", "smart")
BRACELET_STYLES = ("bangle", "beaded", "charm-chain")
STEEL = "#C9CDD3"
Mask = NDArray[np.uint8]


@dataclass(frozen=True)
class Colourway:
    metal: str
    """The case (and a metal bracelet)."""
    dial: str
    """The dial, the diver's bezel insert, the smart watch's screen."""
    strap: str
    """Leather or rubber; ``""``: a link bracelet in the case's metal."""
    marks: str
    """Indices and hands."""


COLOURWAYS: dict[str, dict[str, Colourway]] = {
    "diver": {
        "black": Colourway(STEEL, "#15171B", "", "#EDE6CF"),
        "blue": Colourway(STEEL, "#1B3A78", "", "#EDE6CF"),
        "green": Colourway(STEEL, "#1E4A36", "", "#EDE6CF"),
    },
    "dress": {
        "yellow-gold": Colourway("#D9B15A", "#F2ECDD", "#5B3A22", "#A9822F"),
        "rose-gold": Colourway("#D89C86", "#F4ECE6", "#6E2A33", "#A8695B"),
        "steel": Colourway(STEEL, "#E6E7EA", "#1E1E22", "#3E424A"),
    },
    "smart": {
        "midnight": Colourway("#3A3C43", "#030405", "#1E2026", "#FFFFFF"),
        "starlight": Colourway("#DCCFB8", "#030405", "#CDBA98", "#FFFFFF"),
        "sage": Colourway("#C9CCD1", "#030405", "#8FA58C", "#FFFFFF"),
    },
}
"""Each watch style's colourways, the first its default."""

_WATCH = {  # case (width along the strap, height across it), strap width, worn length, in mm
    "diver": ((42.0, 42.0), 20.0, 172.0),
    "dress": ((38.0, 38.0), 18.0, 168.0),
    "smart": ((44.0, 38.0), 22.0, 165.0),
}


class _Canvas:
    """A flat lay being drawn: premultiplied sRGB and coverage, ``s`` pixels per mm, the band's
    line ``mid`` mm from the top, its ends ``MARGIN_MM`` in from either side."""

    def __init__(self, length_mm: float, height_mm: float, mid_mm: float, s: float) -> None:
        self.s = s
        self.w, self.h = round((length_mm + 2 * MARGIN_MM) * s), round(height_mm * s)
        self.left, self.length, self.mid = MARGIN_MM * s, length_mm * s, mid_mm * s
        self.rgb = np.zeros((self.h, self.w, 3), np.float32)
        self.alpha = np.zeros((self.h, self.w), np.float32)

    @property
    def centre(self) -> tuple[float, float]:
        return self.left + self.length / 2, self.mid

    def mask(self) -> Mask:
        return np.zeros((self.h, self.w), np.uint8)

    def paint(self, mask: Mask, colour: str | F32, shading: F32 | None = None, opacity: float = 1.0) -> None:
        """Lay ``colour`` (times ``shading``) over what is drawn, through ``mask``."""
        c = hex_rgb(colour) if isinstance(colour, str) else colour
        a = mask.astype(np.float32) * np.float32(opacity / 255.0)
        rgb = c * shading[..., None] if shading is not None else np.broadcast_to(c, self.rgb.shape)
        self.rgb = self.rgb * (1 - a[..., None]) + rgb * a[..., None]
        self.alpha = self.alpha * (1 - a) + a

    def sprite(self, name: str, face: bool) -> Sprite:
        rgb = self.rgb / np.maximum(self.alpha, 1e-6)[..., None]
        rgba = np.dstack([rgb, self.alpha])
        out = np.round(np.clip(rgba, 0.0, 1.0) * 255).astype(np.uint8)
        out[out[..., 3] == 0] = 0
        anchors = {"band_left": (self.left, self.mid), "band_right": (self.left + self.length, self.mid)}
        if face:
            anchors["face_centre"] = self.centre
        return Sprite(np.ascontiguousarray(out), anchors, self.w / self.s, name)


def _fill(mask: Mask, points: NDArray[np.floating]) -> Mask:
    cv2.fillPoly(mask, [fixed_points(points)], 255, cv2.LINE_AA, shift=4)
    return mask


def _disc(mask: Mask, c: tuple[float, float] | NDArray[np.float64], r: float) -> Mask:
    cv2.circle(mask, fixed_point((float(c[0]), float(c[1]))), round(r * 16), 255, -1, cv2.LINE_AA, shift=4)
    return mask


def _box(cx: float, cy: float, w: float, h: float, r: float, n: int = 8) -> NDArray[np.float64]:
    """A rounded rectangle's outline centred on ``(cx, cy)``."""
    r = min(r, w / 2, h / 2)
    pts = []
    for qx, qy, a0 in ((1, 1, 0.0), (-1, 1, 90.0), (-1, -1, 180.0), (1, -1, 270.0)):
        ox, oy = cx + qx * (w / 2 - r), cy + qy * (h / 2 - r)
        for a in np.radians(np.linspace(a0, a0 + 90.0, n)):
            pts.append((ox + r * math.cos(a), oy + r * math.sin(a)))
    return np.array(pts)


def _dial(c: tuple[float, float], r: float, hours: float) -> NDArray[np.float64]:
    """The point ``r`` from the dial's centre at ``hours`` (12 towards the image's left, 3 up)."""
    a = math.radians(30.0 * hours)
    return np.array([c[0] - r * math.cos(a), c[1] - r * math.sin(a)])


def _hand(mask: Mask, c: tuple[float, float], hours: float, length: float, width: float, tail: float) -> Mask:
    tip, back = _dial(c, length, hours), _dial(c, -tail, hours)
    d = (tip - back) / max(float(np.linalg.norm(tip - back)), 1e-9)
    n = np.array([-d[1], d[0]]) * width / 2
    return _fill(mask, np.array([back - n, tip - 0.35 * n, tip + d * width * 0.4, tip + 0.35 * n, back + n]))


# -- watches ---------------------------------------------------------------------------------------


def _strap(cv: _Canvas, cw: Colourway, width: float, leather: bool) -> None:
    """The strap (``leather``: stitched, else smooth rubber) or link bracelet along the whole band
    (the case is drawn over its middle)."""
    s, x0, x1, mid = cv.s, cv.left, cv.left + cv.length, cv.mid
    if not cw.strap:  # a three-row link bracelet in the case's metal, a whole number of links
        cv.paint(
            _fill(cv.mask(), _box((x0 + x1) / 2, mid, x1 - x0, width, 1.0 * s)), hex_rgb(cw.metal) * 0.35
        )
        count = round(cv.length / (5.0 * s))
        pitch, gap = cv.length / count, 0.45 * s
        links = cv.mask()
        for i in range(count + 1):  # the middle row staggered by half a link, cut at the ends
            x = x0 + (i + 0.5) * pitch
            for dy, h in ((-0.36, 0.27), (0.36, 0.27)):
                _fill(links, _box(x, mid + dy * width, pitch - gap, h * width, 0.5 * s))
            _fill(links, _box(x - pitch / 2, mid, pitch - gap, 0.4 * width, 0.6 * s))
        links[:, : round(x0)] = links[:, round(x1) :] = 0
        cv.paint(links, cw.metal, relief_shading(links, 0.9 * s, gloss=30))
        return
    t = np.linspace(0.0, 1.0, 60)
    taper = width * (1.0 - 0.12 * np.abs(2 * t - 1))  # narrower towards the buckle end
    xs = x0 + t * (x1 - x0)
    strap = _fill(
        cv.mask(),
        np.concatenate(
            [np.column_stack([xs, mid - taper / 2]), np.column_stack([xs, mid + taper / 2])[::-1]]
        ),
    )
    grain = np.random.default_rng(7).normal(1.0, 0.05 if leather else 0.015, strap.shape).astype(np.float32)
    shade = (0.55 + 0.5 * relief_shading(strap, (1.4 if leather else 3.0) * s, shine=0.3)) * grain
    cv.paint(strap, cw.strap, shade)
    if leather:  # stitching near both edges
        for side in (-1, 1):
            stitches = cv.mask()
            edge = mid + side * (taper / 2 - 1.1 * s)
            for i in range(0, len(xs) - 1, 2):
                polyline(stitches, np.array([[xs[i], edge[i]], [xs[i + 1], edge[i + 1]]]), 0.35 * s)
            cv.paint(stitches, hex_rgb(cw.strap) * 1.6 + 0.15, opacity=0.8)


def _round_case(cv: _Canvas, cw: Colourway, r: float, strap: float, bezel: float) -> None:
    """Lugs, crown, case and (``bezel`` mm wide, if any) a turning bezel."""
    s, c = cv.s, cv.centre
    lugs = _fill(cv.mask(), _box(c[0], c[1], 2 * r + 9 * s, strap + 3.5 * s, 2.2 * s))
    crown = _fill(cv.mask(), _box(c[0], c[1] - r - 1.0 * s, 6.0 * s, 4.0 * s, 1.0 * s))
    case = _disc(cv.mask(), c, r)
    for part in (lugs, crown, case):
        cv.paint(part, cw.metal, relief_shading(part, 1.6 * s, gloss=35))
    if bezel:
        ring = _disc(cv.mask(), c, r - 0.8 * s)
        cv.paint(ring, hex_rgb(cw.dial) * 1.15 + 0.03)
        ticks = cv.mask()
        for m in range(60):
            inner = r - 0.8 * s - (2.6 if m % 5 == 0 else 1.4) * s
            polyline(
                ticks,
                np.array([_dial(c, r - 1.4 * s, m / 5), _dial(c, inner, m / 5)]),
                (0.7 if m % 5 == 0 else 0.35) * s,
            )
        cv.paint(ticks, "#E9E9E9")
        tip, a, b = _dial(c, r - 4.0 * s, 0), _dial(c, r - 1.2 * s, -0.25), _dial(c, r - 1.2 * s, 0.25)
        cv.paint(_fill(cv.mask(), np.array([tip, a, b])), cw.marks)
        edge = cv.mask()
        cv2.circle(edge, fixed_point(c), round((r - bezel) * 16), 255, round(0.5 * s), cv2.LINE_AA, shift=4)
        cv.paint(edge, cw.metal, opacity=0.9)


def _dial_face(cv: _Canvas, cw: Colourway, style: str, r: float) -> None:
    """The dial, its indices, the hands at ten past ten and the glass's reflection."""
    s, c = cv.s, cv.centre
    dial = _disc(cv.mask(), c, r)
    yy, xx = np.mgrid[0 : cv.h, 0 : cv.w].astype(np.float32)
    sheen = 0.88 + 0.14 * np.cos(2 * np.arctan2(yy - c[1], xx - c[0]) + 0.8).astype(np.float32)
    cv.paint(dial, cw.dial, sheen)
    marks = cv.mask()
    for hour in range(12):
        if style == "diver":
            if hour % 3:
                _disc(marks, _dial(c, r - 2.6 * s, hour), 1.5 * s)
            else:
                polyline(marks, np.array([_dial(c, r - 1.2 * s, hour), _dial(c, r - 5.2 * s, hour)]), 2.4 * s)
        else:
            for dx in (-0.8, 0.8) if hour == 0 else (0.0,):
                p0, p1 = _dial(c, r - 1.8 * s, hour), _dial(c, r - 5.0 * s, hour)
                off = np.array([0.0, dx * s])
                polyline(marks, np.array([p0 + off, p1 + off]), 0.9 * s)
    ink = cw.marks if style == "diver" else cw.metal
    cv.paint(marks, ink, relief_shading(marks, 0.6 * s) * 0.35 + 0.75)
    hands = cv.mask()
    _hand(hands, c, 10 + 10 / 60, 0.55 * r, (2.6 if style == "diver" else 1.3) * s, 2.0 * s)
    _hand(hands, c, 2.0, 0.86 * r, (1.9 if style == "diver" else 1.0) * s, 2.5 * s)
    cv.paint(hands, ink, relief_shading(hands, 0.5 * s) * 0.3 + 0.8)
    seconds = cv.mask()
    polyline(seconds, np.array([_dial(c, -4.0 * s, 6.0), _dial(c, 0.92 * r, 6.0)]), 0.35 * s)
    _disc(seconds, c, 1.1 * s)
    cv.paint(seconds, "#C8352B" if style == "diver" else cw.marks)
    _glass(cv, dial, c, r)


def _glass(cv: _Canvas, area: Mask, c: tuple[float, float], r: float) -> None:
    """A soft reflection across the upper left of the glass."""
    yy, xx = np.mgrid[0 : cv.h, 0 : cv.w].astype(np.float32)
    d = np.hypot(xx - (c[0] + 0.35 * r), yy - (c[1] + 0.35 * r)) / r
    glow = np.clip((d - 0.95) / 0.25, 0.0, 1.0) * np.clip((1.45 - d) / 0.2, 0.0, 1.0)
    cv.paint((area.astype(np.float32) * glow).astype(np.uint8), "#FFFFFF", opacity=0.22)


def _smart_face(cv: _Canvas, cw: Colourway, size: tuple[float, float]) -> None:
    """A rounded case with a side button and crown, a black screen with activity rings."""
    s, c = cv.s, cv.centre
    w, h = size[0] * s, size[1] * s
    crown = _fill(cv.mask(), _box(c[0] + 0.22 * w, c[1] - h / 2 - 0.6 * s, 5.0 * s, 3.2 * s, 1.4 * s))
    button = _fill(cv.mask(), _box(c[0] - 0.12 * w, c[1] - h / 2 - 0.3 * s, 8.0 * s, 1.8 * s, 0.9 * s))
    case = _fill(cv.mask(), _box(c[0], c[1], w, h, 10.0 * s, 12))
    for part in (crown, button, case):
        cv.paint(part, cw.metal, relief_shading(part, 3.0 * s, gloss=25))
    screen = _fill(cv.mask(), _box(c[0], c[1], w - 3.6 * s, h - 3.6 * s, 8.5 * s, 12))
    cv.paint(screen, cw.dial)
    for radius, colour, hours in ((12.0, "#FA114F", 9.0), (9.0, "#A6FF00", 6.5), (6.0, "#00D9FF", 10.0)):
        track, arc = cv.mask(), cv.mask()
        steps = np.linspace(0.0, 12.0, 90)
        polyline(track, np.array([_dial(c, radius * s, t) for t in steps]), 2.3 * s, closed=True)
        polyline(arc, np.array([_dial(c, radius * s, t) for t in steps[steps <= hours]]), 2.3 * s)
        cv.paint(track, colour, opacity=0.25)
        cv.paint(arc, colour)
    _glass(cv, screen, c, h / 2)


def draw_watch(style: str, colourway: str | None = None, px_per_mm: float = PX_PER_MM) -> Sprite:
    """A watch's flat lay in colour (anchors ``band_left``, ``band_right``, ``face_centre``)."""
    if style not in WATCH_STYLES:
        raise InputError(f"watch style: expected one of {', '.join(WATCH_STYLES)}, got {style!r}")
    ways = COLOURWAYS[style]
    name = colourway or next(iter(ways))
    if name not in ways:
        raise InputError(f"{style} watch colourway: expected one of {', '.join(ways)}, got {name!r}")
    cw, s = ways[name], px_per_mm
    (case_w, case_h), strap, length = _WATCH[style]
    cv = _Canvas(length, case_h + 8.0, case_h / 2 + 5.0, s)
    _strap(cv, cw, strap * s, leather=style == "dress")
    if style == "smart":
        _smart_face(cv, cw, (case_w, case_h))
    else:
        r = case_w / 2 * s
        _round_case(cv, cw, r, strap * s, 4.0 * s if style == "diver" else 0.0)
        _dial_face(cv, cw, style, r - (4.6 if style == "diver" else 1.2) * s)
    return cv.sprite(f"watch {style} {name}", face=True)


# -- bracelets -------------------------------------------------------------------------------------


def _bracelet_canvas(style: str, s: float) -> _Canvas:
    length, height, mid = {"bangle": (195.0, 8.0, 4.0), "beaded": (176.0, 10.0, 5.0)}.get(
        style, (180.0, 22.0, 3.5)
    )
    return _Canvas(length, height, mid, s)


def draw_bracelet(style: str, px_per_mm: float = PX_PER_MM) -> Sprite:
    """A bracelet's flat lay: grey shading the variant's colour multiplies (anchors ``band_left``,
    ``band_right``)."""
    if style not in BRACELET_STYLES:
        raise InputError(f"bracelet style: expected one of {', '.join(BRACELET_STYLES)}, got {style!r}")
    s = px_per_mm
    cv = _bracelet_canvas(style, s)
    x0, x1, mid = cv.left, cv.left + cv.length, cv.mid
    mask = cv.mask()
    if style == "bangle":  # a polished 6 mm band with two fine engraved lines
        mask[round(mid - 3.0 * s) : round(mid + 3.0 * s)] = 255  # on past the ends: no seam
        shading = relief_shading(mask, 3.0 * s, gloss=45)
        lines = cv.mask()
        for dy in (-1.6, 1.6):
            polyline(lines, np.array([[0, mid + dy * s], [cv.w, mid + dy * s]]), 0.3 * s)
        shading = (shading * (1.0 - 0.35 * lines.astype(np.float32) / 255)).astype(np.float32)
    elif style == "beaded":  # 8 mm round beads, a whole number of them round the band
        count = round(cv.length / (8.3 * s))
        pitch, r = cv.length / count, 4.0 * s
        shading = np.zeros(mask.shape, np.float32)
        for i in range(count):
            bead = _disc(cv.mask(), (x0 + (i + 0.5) * pitch, mid), r)
            inside = bead > 0
            shading[inside] = 0.2 + 0.8 * relief_shading(bead, r, shine=0.9, gloss=35)[inside]
            mask = np.maximum(mask, bead)
    else:  # charm-chain: a curb chain with three charms hanging from its middle
        count = round(cv.length / (3.0 * s))
        pitch = cv.length / count
        for i in range(count):
            cx, tilt = x0 + (i + 0.5) * pitch, 25.0 if i % 2 else -25.0
            cv2.ellipse(
                mask, fixed_point((cx, mid)), fixed_point((1.9 * s, 1.3 * s)), tilt, 0, 360, 255,
                round(0.7 * s), cv2.LINE_AA, shift=4,
            )  # fmt: skip
        shading = relief_shading(mask, 0.45 * s, gloss=30)
        charms = _charms(cv, (x0 + x1) / 2, mid)
        shading = np.where(charms > 0, relief_shading(charms, 1.6 * s, gloss=40), shading).astype(np.float32)
        mask = np.maximum(mask, charms)
    cv.paint(mask, np.ones(3, np.float32), shading.astype(np.float32))
    return cv.sprite(f"bracelet {style}", face=False)


def _charms(cv: _Canvas, cx: float, mid: float) -> Mask:
    """A star, a heart and a disc on jump rings below the chain."""
    s, out = cv.s, cv.mask()
    t = np.linspace(0, 2 * math.pi, 120)
    for dx, shape in ((-16.0, "star"), (0.0, "heart"), (16.0, "disc")):
        x = cx + dx * s
        cv2.circle(
            out,
            fixed_point((x, mid + 2.6 * s)),
            round(1.3 * s * 16),
            255,
            round(0.6 * s),
            cv2.LINE_AA,
            shift=4,
        )
        c = np.array([x, mid + 9.5 * s])
        if shape == "heart":
            pts = np.column_stack(
                [0.9 * np.sin(t) ** 3, -0.75 * (np.cos(t) - 0.35 * np.cos(2 * t) - 0.2 * np.cos(3 * t))]
            )
        elif shape == "star":
            a = np.linspace(0, 2 * math.pi, 11)[:-1] - math.pi / 2
            rr = np.where(np.arange(10) % 2, 0.42, 1.0)
            pts = np.column_stack([rr * np.cos(a), rr * np.sin(a)])
        else:
            pts = np.column_stack([0.8 * np.cos(t), 0.8 * np.sin(t)])
        _fill(out, c + pts * 6.0 * s)
    return out


# -- thumbnails ------------------------------------------------------------------------------------


def product_shot(sprite: Sprite) -> NDArray[np.uint8]:
    """RGBA picture for a thumbnail: a watch's middle ±32 mm turned upright (12 o'clock up), a
    bracelet closed in a ring as it lies on a table."""
    if "face_centre" in sprite.anchors:
        cx = sprite.anchor("face_centre")[0]
        half = 32.0 * sprite.px_per_mm
        crop = sprite.rgba[:, max(0, round(cx - half)) : round(cx + half)]
        return np.ascontiguousarray(cv2.rotate(crop, cv2.ROTATE_90_CLOCKWISE))
    left, right = sprite.anchor("band_left"), sprite.anchor("band_right")
    span, cy = float(right[0] - left[0]), float(left[1] + right[1]) / 2
    radius = span / (2 * math.pi)
    reach = radius + max(cy, sprite.size[1] - cy) + 2
    n = int(2 * reach) + 1
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float64) - reach
    theta = np.arctan2(yy, xx)
    centre = (left[0] + right[0]) / 2
    u = left[0] + np.mod(centre - (theta - math.pi / 2) * radius - left[0], span)
    v = cy + np.hypot(xx, yy) - radius
    rgba = sprite.rgba.astype(np.float32) / 255
    rgba[..., :3] *= rgba[..., 3:]
    ring = np.asarray(
        cv2.remap(
            rgba, u.astype(np.float32), v.astype(np.float32), cv2.INTER_LINEAR, borderValue=(0, 0, 0, 0)
        ),
        np.float32,
    )
    ring[..., :3] /= np.maximum(ring[..., 3:], 1e-6)
    return np.round(np.clip(ring, 0, 1) * 255).astype(np.uint8)
