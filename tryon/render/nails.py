"""Nail polish on each visible fingernail, from the 21 hand landmarks.

Geometry (:func:`nail_quads`): each nail is a plate on the back of the last finger segment (DIP →
tip; IP → tip on the thumb), from a cuticle about 0.4 of the way along it to a free edge set back
a little from the tip landmark (which lies at the end of the fingertip pad). It is built in the
landmarks' 3D pixel space (x, y and the model's relative depth z) and projected, so its length
shrinks with the segment's foreshortening while its width comes from the hand's size (the spacing
of the knuckles 5–9–13–17, per-finger factors, the thumb's the widest).

Visibility: nails are on the back of the hand. The palm's normal from the wrist and knuckles
(0, 5, 9, 13, 17), oriented by the handedness (the person's own hand, the frame not mirrored),
points out of the back of the hand; each nail's normal is that normal turned with the finger's
flexion (made perpendicular to its last segment; the thumb's turned 45° further to the radial
side), and a nail fades out as its normal turns away from the camera (a palm towards the camera,
a finger pointing at it, a hand seen edge-on).

Rendering (:func:`render_nails`): like lipstick (:func:`tryon.render.makeup.paint`) in linear light,
in each nail's box only: the shade's colour at a luminance following the light on the nail, the
nail's transverse curvature, a specular streak along its long axis (strong for gloss), and for
shimmer and glitter sparkles fixed in the nail's own coordinates, so they move with the finger.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.errors import InputError
from tryon.frame import Frame, validate_frame
from tryon.render.color import check_rgb, linear_color, luminance, to_linear, to_srgb
from tryon.render.finish import FINISHES, Finish, seed_of, smoothstep
from tryon.render.masks import Box, feather, feather_margin, fill_polygons
from tryon.render.registry import Layer, LayerRequest, renders
from tryon.results import FrameResult, Hand

RGB = tuple[int, int, int]

NAIL_FINISHES = ("cream", "gloss", "shimmer", "glitter")
FINGERS = ("thumb", "index", "middle", "ring", "pinky")
TIPS = (4, 8, 12, 16, 20)
DIPS = (3, 7, 11, 15, 19)
"""The joint before each tip: the thumb's IP joint, the fingers' DIP joints."""
PALM = (0, 5, 9, 13, 17)
"""Wrist and the four knuckles (MCP joints), in order around the palm."""
NAIL_WIDTH = (0.7, 0.54, 0.57, 0.52, 0.44)
"""Nail width over the mean knuckle spacing, per finger."""
CUTICLE = (0.42, 0.38, 0.38, 0.38, 0.4)
FREE_EDGE = (0.96, 0.97, 0.97, 0.97, 0.96)
"""Where the nail begins and ends along the last segment (0: the joint, 1: the tip landmark)."""
THUMB_TURN = math.radians(45.0)
"""The thumbnail faces this far from the fingernails, towards the radial side."""
FACING = (0.1, 0.35)
"""A nail fades in between these cosines of the angle between its normal and the view direction."""
RAISE = 0.3
"""How far the nail sits out of the finger's axis along its normal, in nail widths."""
NAIL_Y = 0.4
"""Luminance (linear) of a nail under the light a shade's swatch colour is given for: the shade
shows as its swatch there, and darker or lighter with the light on the nail (see :data:`FOLLOW`)."""
SHINE = 1.6
"""Lacquer is harder and smoother than lips: its highlights are this much stronger than the
finish table's (set for lips)."""
FOLLOW = 0.75
"""How much of a change in the light (relative to :data:`NAIL_Y`, in log) carries into the polish:
less than all, as a camera's auto-exposure already evens the picture out."""
LIGHT = (-0.35, -0.94)
"""Where the highlight leans in the image (up and a little left)."""
SPARKLES = {"shimmer": (36, 0.02, 0.55), "glitter": (24, 0.05, 1.0)}
"""Finish: (particles per nail, their blur in nail widths, their strength over the finish's)."""


@dataclass(frozen=True)
class NailParams:
    color: RGB
    finish: str
    """One of :data:`NAIL_FINISHES`."""
    intensity: float = 1.0
    seed: int = 0
    """Fixes the sparkle pattern (derive it from the product and shade ids with ``seed_of``)."""
    shimmer_color: RGB | None = None
    """Sparkle tint for shimmer and glitter; ``None``: a light tint of the shade."""

    def __post_init__(self) -> None:
        if self.finish not in NAIL_FINISHES:
            raise InputError(f"nail finish: expected one of {', '.join(NAIL_FINISHES)}, got {self.finish!r}")
        check_rgb(self.color, "nail color")
        if self.shimmer_color is not None:
            check_rgb(self.shimmer_color, "nail shimmer_color")
        value = self.intensity
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
            raise InputError(f"nail intensity: expected a number in [0, 1], got {value!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise InputError(f"nail seed: expected an int, got {self.seed!r}")


@dataclass(frozen=True)
class NailQuad:
    """One nail in frame pixels: the corners of its (parallelogram) frame and how visible it is."""

    finger: int
    """0 thumb, 1 index, 2 middle, 3 ring, 4 pinky."""
    corners: NDArray[np.float64]
    """``(4, 2)``: cuticle side ``-1``, cuticle side ``+1``, free edge side ``+1``, free edge side ``-1``."""
    visibility: float
    """0 (hidden: palm side towards the camera, or seen edge-on) to 1."""

    @property
    def cuticle(self) -> NDArray[np.float64]:
        out: NDArray[np.float64] = (self.corners[0] + self.corners[1]) / 2
        return out

    @property
    def free_edge(self) -> NDArray[np.float64]:
        out: NDArray[np.float64] = (self.corners[2] + self.corners[3]) / 2
        return out

    @property
    def centre(self) -> NDArray[np.float64]:
        out: NDArray[np.float64] = self.corners.mean(axis=0)
        return out

    @property
    def length(self) -> float:
        return float(np.linalg.norm(self.free_edge - self.cuticle))

    @property
    def width(self) -> float:
        return float(np.linalg.norm(self.corners[1] - self.corners[0]))

    def outline(self) -> NDArray[np.float64]:
        """The nail's outline ``(n, 2)``: a squarish cuticle curve, straight sides widening a little
        towards a rounded free edge (see :data:`_SHAPE`)."""
        half = (self.corners[1] - self.corners[0]) / 2
        axis = self.corners[3] - self.corners[0]
        out: NDArray[np.float64] = self.cuticle + _SHAPE[:, :1] * half + _SHAPE[:, 1:] * axis
        return out


def _shape(n: int) -> NDArray[np.float64]:
    """The nail outline in its own frame, ``(n, 2)`` (across in -1..1, along in 0..1): superellipses,
    the free edge rounder than the cuticle, a little wider at the free edge."""
    theta = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    c, s = np.cos(theta), np.sin(theta)
    e = np.where(s > 0, 2.4, 3.4)
    across = np.sign(c) * np.abs(c) ** (2.0 / e)
    along = 0.5 + 0.5 * np.sign(s) * np.abs(s) ** (2.0 / e)
    return np.column_stack([across * (0.88 + 0.12 * along), along])


_SHAPE = _shape(28)


def _cross(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """``np.cross`` of 3-vectors ``(..., 3)``, without its overhead."""
    return np.stack(
        [
            a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1],
            a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2],
            a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0],
        ],
        axis=-1,
    )


def _unit(v: NDArray[np.float64]) -> tuple[NDArray[np.float64], float]:
    n = float(np.linalg.norm(v))
    return (v / n if n > 1e-9 else np.zeros_like(v)), n


def back_normal(hand: Hand) -> NDArray[np.float64]:
    """Unit normal out of the back of the hand in the landmarks' (x right, y down, z away from the
    camera) space; its z is negative when the back of the hand faces the camera.

    The wrist → index knuckle → ... → pinky knuckle polygon winds one way on a right hand seen
    from its back and the other on a left hand (mirror images), so the handedness orients it."""
    pts = hand.landmarks[list(PALM)].astype(np.float64)
    pts = pts - pts.mean(axis=0)
    n = _cross(pts, np.roll(pts, -1, axis=0)).sum(axis=0)  # Newell's method
    if hand.handedness == "Right":
        n = -n
    return _unit(n)[0]


def _step(e0: float, e1: float, x: float) -> float:
    t = min(max((x - e0) / (e1 - e0), 0.0), 1.0)
    return t * t * (3.0 - 2.0 * t)


def nail_quads(hand: Hand) -> list[NailQuad]:
    """The five nails of ``hand`` (thumb first), each with its visibility (see the module doc)."""
    lm = hand.landmarks.astype(np.float64)
    back = back_normal(hand)
    spacing = float(np.mean([np.linalg.norm(lm[a] - lm[b]) for a, b in itertools.pairwise(PALM[1:])]))
    out = []
    for f in range(5):
        joint, tip = lm[DIPS[f]], lm[TIPS[f]]
        seg = tip - joint
        d, seg_len = _unit(seg)
        normal = back
        if f == 0:  # the thumbnail is turned towards the radial side (away from the fingers)
            radial = lm[2] - lm[5]
            radial = radial - (radial @ back) * back - (radial @ d) * d
            normal = math.cos(THUMB_TURN) * back + math.sin(THUMB_TURN) * _unit(radial)[0]
        # flexing the finger turns its nail with it: the normal made perpendicular to the segment
        n, n_len = _unit(normal - (normal @ d) * d)
        facing = -n[2] * _step(0.1, 0.3, n_len)
        visible = _step(FACING[0], FACING[1], facing) if seg_len > 1e-6 else 0.0
        width = NAIL_WIDTH[f] * spacing
        across = _cross(d, n) * (width / 2)  # 3D; its projection foreshortens the width
        base = joint + CUTICLE[f] * seg + n * (RAISE * width)
        axis = (FREE_EDGE[f] - CUTICLE[f]) * seg
        corners = np.array([base - across, base + across, base + axis + across, base + axis - across])
        out.append(NailQuad(f, corners[:, :2].copy(), visible))
    return out


def _lacquer(name: str) -> Finish:
    """The finish table's entry for a lacquer: a hard, smooth coat, so even cream shows a faint
    sharp highlight; gloss a strong one."""
    f = FINISHES[name]
    return Finish(**{**f.__dict__, "gloss": max(f.gloss, 0.06)})


def _boxes(polys: list[NDArray[np.float64]], margin: int, w: int, h: int) -> list[Box]:
    """One box size for all nails (so they are shaded together), each placed over its nail and
    shifted inside the frame."""
    lo = np.floor(np.array([pl.min(axis=0) for pl in polys]) - margin).astype(np.int64)
    hi = np.ceil(np.array([pl.max(axis=0) for pl in polys]) + margin).astype(np.int64) + 1
    bw, bh = min(int((hi - lo)[:, 0].max()), w), min(int((hi - lo)[:, 1].max()), h)
    x0, y0 = np.clip(lo[:, 0], 0, w - bw), np.clip(lo[:, 1], 0, h - bh)
    return [Box(int(x), int(y), int(x) + bw, int(y) + bh) for x, y in zip(x0, y0, strict=True)]


def _sparkles(
    boxes: list[Box], nails: list[NailQuad], seed: int, count: int, size: float
) -> NDArray[np.float32]:
    """Sparkle intensity ``(h, w, n)`` over the nails' boxes: ``count`` particles per finger at fixed
    places in the nail's frame (bilinear in its corners) and of fixed brightness, from ``seed``, so
    they stay on the nail as it moves and none pops in or out as it turns."""
    rng = np.random.default_rng(seed)
    u, v = rng.random((2, 5, count))
    bright = 0.35 + 0.65 * rng.random((5, count)) ** 2
    h, w, n = boxes[0].height, boxes[0].width, len(nails)
    fingers = [q.finger for q in nails]
    c = np.array([q.corners - [b.x0, b.y0] for q, b in zip(nails, boxes, strict=True)])[:, :, None]
    uu, vv = u[fingers][..., None], v[fingers][..., None]
    pts = (
        (1 - uu) * (1 - vv) * c[:, 0] + uu * (1 - vv) * c[:, 1] + uu * vv * c[:, 2] + (1 - uu) * vv * c[:, 3]
    )
    x0, y0 = np.floor(pts[..., 0]).astype(np.int64), np.floor(pts[..., 1]).astype(np.int64)
    fx, fy = pts[..., 0] - x0, pts[..., 1] - y0
    b = bright[fingers]
    k = np.broadcast_to(np.arange(n)[:, None], x0.shape)
    field = np.zeros((h, w, n), np.float32)
    for dx, dy, wt in (
        (0, 0, (1 - fx) * (1 - fy)),
        (1, 0, fx * (1 - fy)),
        (0, 1, (1 - fx) * fy),
        (1, 1, fx * fy),
    ):
        xi, yi = x0 + dx, y0 + dy
        ok = (xi >= 0) & (yi >= 0) & (xi < w) & (yi < h)
        np.add.at(field, (yi[ok], xi[ok], k[ok]), (wt * b)[ok].astype(np.float32))
    field = feather(field, size).reshape(h, w, n) * np.float32(2.0 * np.pi * size * size)
    return np.minimum(field, 1.5).astype(np.float32)


def _paint(frame: Frame, nails: list[NailQuad], p: NailParams, f: Finish) -> None:
    """Paint ``nails`` into ``frame`` in place, all at once: boxes of one size stacked on a last axis."""
    nails = [q for q in nails if q.visibility > 0.01 and q.width >= 1.0 and q.length >= 0.5]
    if not nails:
        return
    h, w = frame.shape[:2]
    polys = [q.outline() for q in nails]
    width = float(np.mean([q.width for q in nails]))
    sigma = max(0.35, 0.03 * width)
    boxes = _boxes(polys, feather_margin(sigma), w, h)
    n, bh, bw = len(nails), boxes[0].height, boxes[0].width
    if bh <= 0 or bw <= 0:
        return
    mask = np.stack([fill_polygons(b, [pl]) for b, pl in zip(boxes, polys, strict=True)], axis=-1)
    mask = feather(mask, sigma).reshape(bh, bw, n)
    vis = np.array([q.visibility for q in nails], np.float32)
    alpha = mask * (np.float32(p.intensity) * vis)
    touched = alpha > 0
    # nail coordinates of every pixel: a across (-1 .. 1), t along (0 cuticle .. 1 free edge)
    corners = np.array([q.corners for q in nails])
    half = (corners[:, 1] - corners[:, 0]) / 2
    inv = np.linalg.inv(np.stack([half, corners[:, 3] - corners[:, 0]], axis=-1))
    origin = (corners[:, 0] + corners[:, 1]) / 2 - [[b.x0, b.y0] for b in boxes]
    ys, xs = np.mgrid[0:bh, 0:bw].astype(np.float32)
    dx = xs[..., None] - origin[:, 0].astype(np.float32)
    dy = ys[..., None] - origin[:, 1].astype(np.float32)
    a = inv[:, 0, 0].astype(np.float32) * dx + inv[:, 0, 1].astype(np.float32) * dy
    t = inv[:, 1, 0].astype(np.float32) * dx + inv[:, 1, 1].astype(np.float32) * dy

    src = np.stack([frame[b.slices] for b in boxes], axis=2)
    lin = to_linear(src)
    y = luminance(lin)
    wgt = mask * mask
    y_ref = np.maximum((wgt * y).sum(axis=(0, 1)) / np.maximum(wgt.sum(axis=(0, 1)), 1e-6), 1e-4)
    # the light on the nail without the nail's own texture (white tips, ridges): polish is opaque
    blur = max(0.6, 0.12 * width)
    y_smooth = _blur(y * mask, blur) / np.maximum(_blur(mask, blur), np.float32(1e-3))
    relative = y / y_ref
    smooth = np.clip(y_smooth / y_ref, 0.2, 2.0)
    c = linear_color(p.color)
    light = np.clip(y_ref / NAIL_Y, 0.15, 1.5).astype(np.float32)  # the scene's light on the nail
    curve = 1.0 - 0.28 * np.minimum(a * a, 1.0)  # the plate curves away across its width
    shade = np.power(smooth, np.float32(f.shading)) * curve * np.power(light, np.float32(FOLLOW))
    target = shade[..., None] * c
    # a specular streak along the long axis, leaning to the side towards the light
    lean = np.clip(half @ np.asarray(LIGHT) / np.maximum(np.linalg.norm(half, axis=1), 1e-6), -1, 1)
    along = smoothstep(0.08, 0.3, t) * (1.0 - smoothstep(0.72, 0.95, t))
    off = a - (0.38 * lean).astype(np.float32)
    lit = (0.55 + 0.45 * smoothstep(0.85, 1.3, relative)) * (light * np.float32(SHINE))
    spec = np.float32(f.gloss) * np.exp(-((off * np.float32(1 / 0.16)) ** 2))
    if f.sheen > 0:
        spec = spec + np.float32(f.sheen) * np.exp(-((off * np.float32(1 / 0.3)) ** 2))
    target += (spec * along * lit)[..., None]
    if f.sparkle > 0 and p.finish in SPARKLES:
        count, size, gain = SPARKLES[p.finish]
        field = _sparkles(boxes, nails, seed_of("nails", str(p.seed)), count, max(0.4, size * width))
        tint = linear_color(p.shimmer_color) if p.shimmer_color else 0.5 + 0.5 * c / max(float(c.max()), 1e-4)
        glow = field * (0.4 + 0.6 * smooth) * (np.float32(f.sparkle * gain) * light)
        target += glow[..., None] * tint
    enc = to_srgb(lin + alpha[..., None] * (target - lin))
    for i, b in enumerate(boxes):
        view = frame[b.slices]
        view[touched[..., i]] = enc[:, :, i][touched[..., i]]


def _blur(a: NDArray[np.float32], sigma: float) -> NDArray[np.float32]:
    out = cv2.GaussianBlur(a, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    return np.asarray(out, np.float32).reshape(a.shape)


def render_nails(frame: Frame, hands: Sequence[Hand], params: NailParams) -> Frame:
    """Polish on every visible nail of ``hands``; returns a new frame (the input is not modified).
    Pixels outside the nails are returned byte-identical."""
    out = validate_frame(frame).copy()
    if params.intensity <= 0:
        return out
    nails = [q for hand in hands for q in nail_quads(hand)]
    _paint(out, nails, params, _lacquer(params.finish))
    return out


@renders("nails")
def nails_layer(request: LayerRequest) -> Layer:
    """The item's polish on every visible nail of every hand."""
    item = request.item
    p, v = item.product, item.variant
    if v.rgb is None:
        raise InputError(f"product {p.id!r} shade {v.id!r}: expected a colour, got none")
    polish = NailParams(v.rgb, v.finish or "cream", item.intensity, seed_of(p.id, v.id), v.shimmer_rgb)

    def nails(out: Frame, r: FrameResult) -> Frame:
        return render_nails(out, r.hands, polish) if r.hands else out

    return nails
