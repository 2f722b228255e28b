"""Watches and bracelets round the wrist, from the hands (and the forearm's line from the pose).

Placement (:func:`wrist_of`): the band is centred on the hand's wrist keypoint (hand landmark 0)
and lies across the forearm, whose direction is the pose's elbow → wrist of the arm whose wrist is
this hand's (the nearest pose wrist within :data:`MATCH` palm widths, both points seen; so a wrong
handedness or a mirrored frame does not matter), otherwise the hand's own wrist → middle-finger
base (0 → 9, the forearm's line continued through the hand). It turns with the forearm in the
image (roll); a bent wrist keeps the band across the arm, not across the hand.

The wrist is an elliptic cylinder along the forearm: its width (thumb side to little-finger side)
:data:`WRIST_WIDTH` times the palm width (landmarks 5-17, in the landmarks' 3D pixel space, so a
hand turned edge-on keeps its size), its depth :data:`WRIST_DEPTH` of that. The cross-section's
width axis follows 5 → 17 and its depth axis the normal out of the back of the hand (oriented by
the handedness, as for nails: :func:`tryon.render.nails.back_normal`), so a wrist turned edge-on
shows its depth, not its width.

The band (:func:`band_on`) is the flat image bent round that cylinder: an ellipse scaled from the
wrist's so that its perimeter is the band's worn length (``band_left`` to ``band_right``), at least
:data:`EASE` ``[0]`` of the wrist (a strap sits on the skin) and at most ``[1]`` (a loose bangle).
Each image pixel across the forearm is taken back to the point of the band's front half that
projects there, and from it to the arc length along the band, so the flat image is compressed
towards the silhouette's edges as the cosine of the surface's slope, and nothing of the far half
is ever drawn: the arm hides it. The band's centre (a watch's ``face_centre``, a bracelet's
midpoint between its ends) sits on the side of the wrist nearer the camera: on the back of the
wrist when the back of the hand faces the camera, on the inside when the palm does. The band is
shaded darker as its surface turns away from the camera.

A watch's image is turned, never mirrored, so its dial reads the right way: its ``band_left``
end (12 o'clock) goes round the little-finger side of a wrist seen from the back, and its crown
points to the fingers on the left wrist and to the elbow on the right, as a watch does. A
bracelet's may be mirrored: its image's bottom edge (where charms hang) always lies towards the
elbow, down the arm of a raised hand.

Size is real: pixels per millimetre from the palm width (:data:`PALM_MM` between the index and
little-finger knuckles' joint centres on an average adult: a hand breadth of ~84 mm across the
knuckles' outer edges less ~11 mm either side) and the image's ``size_mm.width``.

Every visible hand wears the item (a watch on both wrists is fine for a try-on: the shopper sees it
on whichever hand they raise). A hand whose wrist keypoint is outside the frame, or smaller than
:data:`MIN_PALM_PX`, gets nothing.

Stateless: ``render_band(frame, hand, sprite, params, poses=()) -> frame``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.frame import Frame
from tryon.render.accessory import AccessoryParams, product_sprite
from tryon.render.color import to_linear, to_srgb
from tryon.render.masks import Box
from tryon.render.nails import back_normal
from tryon.render.registry import Layer, LayerRequest, renders
from tryon.render.sprite import Sprite
from tryon.results import FrameResult, Hand, Pose

Vec = NDArray[np.float64]

PALM_MM = 62.0
"""Millimetres between hand landmarks 5 and 17 (index and little-finger knuckles) on an adult."""
WRIST_WIDTH = 0.95
"""The wrist's width (at the wrist keypoint) over the palm width 5-17 (~59 mm)."""
WRIST_DEPTH = 0.7
"""The wrist's depth (back to palm) over its width."""
EASE = (1.03, 1.3)
"""The band's cross-section over the wrist's: at least (a strap on the skin), at most (a bangle)."""
MIN_PALM_PX = 16.0
"""Hands whose palm is narrower than this (pixels) wear nothing: too small to see a band."""
MATCH = 0.75
"""A pose wrist within this many palm widths of the hand's wrist keypoint is this hand's."""
MIN_VISIBILITY = 0.5
ARMS = ((13, 15), (14, 16))
"""Pose (elbow, wrist) of the left and right arms."""
WRIST, INDEX_BASE, MIDDLE_BASE, PINKY_BASE = 0, 5, 9, 17
SHADE = 0.55
"""The band's brightness at the silhouette's edge (seen edge-on) relative to facing the camera."""
SAMPLES = 360
"""Samples of the band's ellipse per half turn."""


@dataclass(frozen=True)
class Wrist:
    """A wrist in the image: a cylinder along the forearm, its cross-section in ``(across, depth)``
    coordinates (``across``: pixels along :attr:`across`; ``depth``: away from the camera)."""

    centre: Vec
    """The wrist keypoint (pixels); the cylinder's axis passes through it."""
    along: Vec
    """Unit image vector along the forearm, from the elbow towards the hand."""
    width_axis: Vec
    """Unit ``(across, depth)`` vector from the thumb side towards the little-finger side."""
    depth_axis: Vec
    """Unit ``(across, depth)`` vector out of the back of the wrist."""
    half_width: float
    half_depth: float
    px_per_mm: float

    @property
    def across(self) -> Vec:
        """Unit image vector across the forearm (``along`` turned a quarter clockwise on screen)."""
        return np.array([-self.along[1], self.along[0]])


@dataclass(frozen=True)
class Band:
    """The band's front half, sampled: for ``across`` (increasing, pixels from the axis), the arc
    length ``s`` from the band's centre (pixels, positive towards the image's ``band_right``) and
    how squarely the surface there faces the camera (``facing``: 1 square on, 0 edge-on)."""

    wrist: Wrist
    across: Vec
    s: Vec
    facing: Vec
    turn: float
    """``+1``: the image's x runs along ``wrist.across`` at the band's centre; ``-1``: against it."""
    rows: float
    """``+1``: the image's y runs towards the elbow; ``-1``: towards the hand. A watch's is
    ``turn`` (the image turned, never mirrored: its dial reads right); a bracelet's is ``+1``
    (what hangs from it lies towards the elbow, down the arm of a raised hand)."""

    @property
    def extent(self) -> tuple[float, float]:
        """The band's silhouette across the forearm: ``(min, max)`` pixels from the axis."""
        return float(self.across[0]), float(self.across[-1])


def palm_width(hand: Hand) -> float:
    """Pixels between landmarks 5 and 17 in the landmarks' 3D pixel space."""
    lm = hand.landmarks.astype(np.float64)
    return float(np.linalg.norm(lm[INDEX_BASE] - lm[PINKY_BASE]))


def forearm(hand: Hand, poses: Sequence[Pose], palm: float) -> Vec | None:
    """Unit image vector from the elbow towards the hand: the matching pose arm's, else the hand's
    wrist → middle-finger base; ``None`` if neither has a direction."""
    wrist = hand.landmarks[WRIST, :2].astype(np.float64)
    best: tuple[float, Vec] | None = None
    for pose in poses:
        for elbow, joint in ARMS:
            if min(pose.visibility[elbow], pose.visibility[joint]) < MIN_VISIBILITY:
                continue
            arm = pose.xy[joint].astype(np.float64) - pose.xy[elbow]
            d = float(np.linalg.norm(pose.xy[joint] - wrist))
            if d < MATCH * palm and np.linalg.norm(arm) > 0.5 * palm and (best is None or d < best[0]):
                best = (d, arm)
    direction = best[1] if best is not None else hand.landmarks[MIDDLE_BASE, :2].astype(np.float64) - wrist
    n = float(np.linalg.norm(direction))
    return direction / n if n > 1e-6 else None


def _unit2(v: Vec, fallback: Vec) -> Vec:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-6 else fallback


def wrist_of(hand: Hand, poses: Sequence[Pose] = (), shape: tuple[int, ...] | None = None) -> Wrist | None:
    """The wrist of ``hand``; ``None`` for a tiny hand, or one whose wrist keypoint is outside a
    frame of ``shape``."""
    lm = hand.landmarks.astype(np.float64)
    palm = palm_width(hand)
    if palm < MIN_PALM_PX:
        return None
    if shape is not None and not (0 <= lm[WRIST, 0] < shape[1] and 0 <= lm[WRIST, 1] < shape[0]):
        return None
    along = forearm(hand, poses, palm)
    if along is None:
        return None
    across = np.array([-along[1], along[0]])
    ulnar = lm[PINKY_BASE] - lm[INDEX_BASE]
    width = _unit2(np.array([ulnar[:2] @ across, ulnar[2]]), np.array([1.0, 0.0]))
    depth = np.array([-width[1], width[0]])
    back = back_normal(hand)
    if float(depth @ np.array([back[:2] @ across, back[2]])) < 0:
        depth = -depth
    half = WRIST_WIDTH * palm / 2
    return Wrist(lm[WRIST, :2].copy(), along, width, depth, half, WRIST_DEPTH * half, palm / PALM_MM)


def perimeter(a: float, b: float) -> float:
    """An ellipse's perimeter (Ramanujan)."""
    return math.pi * (3 * (a + b) - math.sqrt((3 * a + b) * (a + 3 * b)))


def band_on(wrist: Wrist, length_mm: float, mirror: bool = False) -> Band:
    """The band of worn length ``length_mm`` round ``wrist``: its front half (see :class:`Band`);
    ``mirror``: the image may be mirrored (a bracelet; not a watch's dial)."""
    ease = length_mm * wrist.px_per_mm / perimeter(wrist.half_width, wrist.half_depth)
    ease = float(np.clip(ease, *EASE))
    a, b = ease * wrist.half_width, ease * wrist.half_depth
    # the band's centre on the side of the wrist nearer the camera (depth < 0 is nearer)
    side = 1.0 if wrist.depth_axis[1] < 0 else -1.0
    ew, ed = side * wrist.width_axis, side * wrist.depth_axis
    phi = np.linspace(-math.pi, math.pi, 2 * SAMPLES + 1)
    c, s = np.cos(phi)[:, None], np.sin(phi)[:, None]
    point = b * c * ed - a * s * ew  # (across, depth); phi = 0 is the band's centre
    normal = c / b * ed - s / a * ew
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    speed = np.hypot(a * np.cos(phi), b * np.sin(phi))
    arc = np.concatenate([[0.0], np.cumsum((speed[1:] + speed[:-1]) / 2 * np.diff(phi))])
    arc -= arc[SAMPLES]
    seen = normal[:, 1] <= 1e-9
    lo = hi = SAMPLES
    while lo > 0 and seen[lo - 1]:
        lo -= 1
    while hi < 2 * SAMPLES and seen[hi + 1]:
        hi += 1
    x, arc, facing = point[lo : hi + 1, 0], arc[lo : hi + 1], -normal[lo : hi + 1, 1]
    turn = 1.0 if x[-1] >= x[0] else -1.0
    if turn < 0:
        x, arc, facing = x[::-1], arc[::-1], facing[::-1]
    return Band(wrist, x, arc, np.clip(facing, 0.0, 1.0), turn, 1.0 if mirror else turn)


def band_centre(sprite: Sprite) -> Vec:
    """Where the band's centre is in the image: a watch's dial, else midway between the ends."""
    if "face_centre" in sprite.anchors:
        return sprite.anchor("face_centre")
    out: Vec = (sprite.anchor("band_left") + sprite.anchor("band_right")) / 2
    return out


def band_length_mm(sprite: Sprite) -> float:
    """The band's worn length: from ``band_left`` to ``band_right``."""
    return float(np.linalg.norm(sprite.anchor("band_right") - sprite.anchor("band_left"))) / sprite.px_per_mm


def band_box(band: Band, sprite: Sprite, shape: tuple[int, ...], pad: int = 2) -> Box | None:
    """The frame box the band covers, clipped to the frame; ``None`` if outside it."""
    w = band.wrist
    k = w.px_per_mm / sprite.px_per_mm  # image pixels per image-file pixel
    cy = band_centre(sprite)[1]
    rows = np.array([-cy, sprite.size[1] - cy]) * k
    corners = np.array([w.centre + x * w.across - band.rows * r * w.along for x in band.extent for r in rows])
    x0, y0 = np.floor(corners.min(axis=0)).astype(int) - pad
    x1, y1 = np.ceil(corners.max(axis=0)).astype(int) + pad + 1
    x0, y0, x1, y1 = max(int(x0), 0), max(int(y0), 0), min(int(x1), shape[1]), min(int(y1), shape[0])
    return None if x1 <= x0 or y1 <= y0 else Box(x0, y0, x1, y1)


def warp_band(band: Band, sprite: Sprite, box: Box) -> NDArray[np.float32]:
    """The sprite bent round the wrist over ``box``: premultiplied linear RGBA ``(h, w, 4)``,
    shaded by how the band's surface faces the camera, anti-aliased at the silhouette."""
    w = band.wrist
    x0, y0, x1, y1 = box
    k = sprite.px_per_mm / w.px_per_mm  # image-file pixels per image pixel
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    dx, dy = xs - w.centre[0], ys - w.centre[1]
    across = dx * w.across[0] + dy * w.across[1]
    along = dx * w.along[0] + dy * w.along[1]
    lo, hi = band.extent
    inside = np.clip(np.minimum(across - lo, hi - across) + 0.5, 0.0, 1.0)
    arc = np.interp(across, band.across, band.s)
    facing = np.interp(across, band.across, band.facing)
    left, right = sprite.anchor("band_left")[0], sprite.anchor("band_right")[0]
    centre = band_centre(sprite)
    u = left + np.mod(centre[0] + arc * k - left, right - left)  # the band closes on itself
    v = centre[1] - band.rows * along * k
    scale, level = sprite.level(1.0 / k)
    out = cv2.remap(
        level,
        (u * scale).astype(np.float32),
        (v * scale).astype(np.float32),
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0.0, 0.0, 0.0, 0.0),
    )
    warped = np.asarray(out, np.float32).reshape(y1 - y0, x1 - x0, 4)
    shade = (SHADE + (1.0 - SHADE) * facing).astype(np.float32)
    warped[..., :3] *= (shade * inside).astype(np.float32)[..., None]
    warped[..., 3] *= inside.astype(np.float32)
    return warped


def render_band(
    frame: Frame, hand: Hand, sprite: Sprite, params: AccessoryParams, poses: Sequence[Pose] = ()
) -> Frame:
    """``frame`` with the band round ``hand``'s wrist: a new array when anything is drawn,
    ``frame`` itself otherwise."""
    wrist = wrist_of(hand, poses, frame.shape)
    if wrist is None or params.intensity <= 0.0:
        return frame
    band = band_on(wrist, band_length_mm(sprite), mirror="face_centre" not in sprite.anchors)
    box = band_box(band, sprite, frame.shape)
    if box is None:
        return frame
    x0, y0, x1, y1 = box
    warped = warp_band(band, sprite, box)
    alpha = warped[..., 3] * np.float32(params.intensity)
    if float(alpha.max(initial=0.0)) < 1.0 / 512:
        return frame
    colour = warped[..., :3] * np.float32(params.intensity)
    tint = params.tint
    if tint is not None:
        colour = colour * tint
    region = to_linear(np.ascontiguousarray(frame[y0:y1, x0:x1]))
    out = frame.copy()
    out[y0:y1, x0:x1] = to_srgb(region * (1.0 - alpha[..., None]) + colour)
    return out


@renders("watch", "bracelet")
def wrist_layer(request: LayerRequest) -> Layer:
    """The item round every visible wrist. A variant that names its own image (a watch's
    colourway) is drawn as it is; otherwise the variant's colour tints the shading image."""
    item = request.item
    variant = item.variant
    sprite = product_sprite(item.product, variant.asset or "front")
    params = AccessoryParams(None if variant.asset else variant.rgb, item.intensity)

    def wrist(out: Frame, r: FrameResult) -> Frame:
        for hand in r.hands:
            out = render_band(out, hand, sprite, params, r.poses)
        return out

    return wrist
