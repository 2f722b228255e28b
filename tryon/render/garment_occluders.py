"""What stays in front of a garment, as masks over the box the garment is drawn in: the face, the
hair, the neck through the neck opening, the forearms and the hands.

- **The face** is the face mesh's oval (grown by a pixel or two) when a face is paired with the
  pose, else an ellipse from the pose's face keypoints (0-10: nose, eyes, ears, mouth), sized from
  the ears (or the outer eye corners, or the shoulder width) and the eyes-to-mouth distance
  (measured on faces with both: the mesh's oval lies within 1.45 half ear distances across, and
  1.05 eyes-to-mouth distances above the eyes to 1.85 below, turned heads included). It
  is cut out of every layer: whatever the warp does (a sleeve raised over the head, a tilted
  collar), no garment pixel lands on a face. :class:`HeadShape` also gives the chin and the head
  for the hair test (:mod:`tryon.render.hair`).
- **The neck**: the part of the garment above its front neckline (the inside of the back seen
  through the neck opening) is hidden where the wearer's neck is, a column from the chin down to
  the neckline, as wide as the neck in the person mask (0.3-0.6 shoulder widths, 0.45 when the
  mask cannot tell) and ending in a U through the front neckline's centre; beside the neck the
  back of the collar still shows.
- **The forearms** crossing the body are a band along elbow→wrist whose two edges are read off
  the person mask perpendicular to the arm (:func:`tryon.render.garment_fit.limb_profile`) where
  the arm stands out of the silhouette; where it lies over the torso the known half widths are
  carried over (or, with none known, 0.22 shoulder widths). Only the arm: what the hands hold in
  front of the chest (a ball, a phone) is not told from the clothes and is covered by the
  garment's body like the chest behind it.
- **The hair**: the hair test's mask is not believed where it covers more than :data:`HAIR_MOST`
  of the garment below the shoulders (a dark coat taken for dark hair).
- **The hands**: the hand landmarks' hull; without hand landmarks, the pose's hand keypoints'
  hull grown to the fingers, none where the pose does not see the hand (tucked under an arm,
  behind the back), and a disc beyond the wrist where a pose has no usable hand keypoints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.render.garment_fit import limb_profile
from tryon.render.hair import Head, head_of_face, skin_at
from tryon.render.masks import Box, fixed_points
from tryon.render.regions import face_oval, grow
from tryon.results import Face, Hand, Pose

F64 = NDArray[np.float64]
Mask = NDArray[np.float32]

NOSE, L_EYE, L_EYE_OUT, R_EYE, R_EYE_OUT, L_EAR, R_EAR, L_MOUTH, R_MOUTH = 0, 2, 3, 5, 6, 7, 8, 9, 10
FACE_REACH = 0.6
"""Face keypoints farther than this many shoulder widths from the nose are not the face's."""
MIN_VISIBILITY = 0.5
NECK_WIDTH = (0.3, 0.45, 0.6)
"""The neck's width in shoulder widths: the least, when the mask cannot tell, the most."""
NECK_LOW = (-0.12, 0.06)
"""The neck opening's lowest point, along the neck, relative to the shoulder joints' midpoint
(in shoulder widths): however deep the garment's neckline, the neck ends there."""
FOREARM_WIDTH = 0.22
HAIR_MOST = 0.35
"""The most of the garment below the shoulders, within the hair's reach, believed hair."""
HAND_RADIUS = 0.22


@dataclass(frozen=True)
class HeadShape:
    outline: F64
    """``(K, 2)``: the face's outline, frame pixels."""
    chin: F64
    head: Head


def _ellipse(centre: F64, across: F64, down: F64, a: float, b: float, n: int = 40) -> F64:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    out: F64 = centre + np.outer(a * np.cos(t), across) + np.outer(b * np.sin(t), down)
    return out


def head_shape(frame: NDArray[np.uint8], pose: Pose, face: Face | None, shoulders: F64) -> HeadShape | None:
    """The face of ``pose``: the mesh's when ``face`` is given, else from the pose's face
    keypoints; ``None`` when the nose is not seen (a back, a head out of the frame)."""
    if face is not None:
        lm = face.landmarks[:, :2].astype(np.float64)
        return HeadShape(
            grow(face_oval(lm), 0.02 * face.interocular + 1.5), lm[152], head_of_face(frame, face)
        )
    xy, vis = pose.xy.astype(np.float64), pose.visibility
    width = float(np.linalg.norm(shoulders[0] - shoulders[1]))
    nose = xy[NOSE]
    mid = shoulders.mean(0)
    if vis[NOSE] < MIN_VISIBILITY or width < 1 or np.linalg.norm(nose - mid) > 2.5 * width:
        return None

    def seen(*idx: int) -> bool:
        return all(
            vis[i] >= MIN_VISIBILITY and np.linalg.norm(xy[i] - nose) < FACE_REACH * width for i in idx
        )

    # The face's scale: half the ears' distance (the face oval reaches 1.15-1.3 of it across).
    if seen(L_EAR, R_EAR):
        line, unit = xy[L_EAR] - xy[R_EAR], float(np.linalg.norm(xy[L_EAR] - xy[R_EAR])) / 2
    elif seen(L_EYE_OUT, R_EYE_OUT):
        line, unit = (
            xy[L_EYE_OUT] - xy[R_EYE_OUT],
            0.65 * float(np.linalg.norm(xy[L_EYE_OUT] - xy[R_EYE_OUT])),
        )
    else:
        line, unit = shoulders[0] - shoulders[1], 0.2 * width
    unit = max(unit, 0.1 * width)
    across = line / max(float(np.linalg.norm(line)), 1e-9)
    down = np.array([-across[1], across[0]])
    if float((mid - nose) @ down) < 0:
        down = -down
    eyes = (xy[L_EYE] + xy[R_EYE]) / 2 if seen(L_EYE, R_EYE) else None
    mouth = (xy[L_MOUTH] + xy[R_MOUTH]) / 2 if seen(L_MOUTH, R_MOUTH) else None
    m = float((mouth - eyes) @ down) if eyes is not None and mouth is not None else 0.0
    m = m if m > 0.5 * unit else 1.1 * unit  # eyes to mouth
    if eyes is None:
        eyes = nose - down * 0.6 * m
    # The oval spans about 1.0 m above the eyes to 1.5-1.8 m below (the chin).
    outline = _ellipse(eyes + down * 0.4 * m, across, down, 1.45 * unit, 1.45 * m)
    chin = eyes + down * 1.75 * m
    span = 2.0 * unit
    cheek = eyes + down * 0.55 * m
    cheeks = np.array([nose, cheek + across * 0.5 * unit, cheek - across * 0.5 * unit])
    skin = skin_at(frame, cheeks, max(2, round(0.05 * span)))
    return HeadShape(outline, chin, Head(eyes - down * 0.95 * m, chin, span, skin))


def with_face_box(
    shape: HeadShape | None, nose: F64, boxes: Sequence[tuple[float, float, float, float]]
) -> HeadShape | None:
    """``shape`` grown to cover the detector's box of this face (a face the mesh did not confirm:
    a profile, a wide-open mouth, where the pose's face keypoints fall short): the convex hull of
    both outlines; the box is the one holding the pose's nose (grown by a quarter)."""
    if shape is None:
        return None
    for x0, y0, x1, y1 in boxes:
        gx, gy = 0.25 * (x1 - x0), 0.25 * (y1 - y0)
        if not (x0 - gx <= nose[0] <= x1 + gx and y0 - gy <= nose[1] <= y1 + gy):
            continue
        centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
        box = _ellipse(centre, np.array([1.0, 0.0]), np.array([0.0, 1.0]), 0.55 * (x1 - x0), 0.55 * (y1 - y0))
        hull = cv2.convexHull(np.concatenate([shape.outline, box]).astype(np.float32))[:, 0]
        chin = shape.chin if shape.chin[1] >= centre[1] + 0.5 * (y1 - y0) else np.array([centre[0], y1])
        return HeadShape(hull.astype(np.float64), chin, shape.head)
    return shape


Patch = tuple[Box, Mask]
"""A mask over a box of the frame: ``(box, (y1-y0, x1-x0) in [0, 1])``."""


def _around(points: F64, within: Box, pad: float) -> Box | None:
    """The box around ``points`` grown by ``pad``, inside ``within``; ``None`` if empty."""
    lo, hi = np.floor(points.min(axis=0) - pad), np.ceil(points.max(axis=0) + pad) + 1
    out = Box(
        max(within.x0, int(lo[0])),
        max(within.y0, int(lo[1])),
        min(within.x1, int(hi[0])),
        min(within.y1, int(hi[1])),
    )
    return None if out.empty else out


def fill(box: Box, polygons: Sequence[F64]) -> Patch | None:
    """Anti-aliased polygons (frame pixels) over the part of ``box`` they cover; ``None`` if none
    touches it."""
    if not polygons:
        return None
    sub = _around(np.vstack(polygons), box, 2)
    if sub is None:
        return None
    mask = np.zeros((sub.height, sub.width), np.uint8)
    pts = [fixed_points(np.asarray(p, np.float64) - [sub.x0, sub.y0]) for p in polygons]
    cv2.fillPoly(mask, pts, 255, cv2.LINE_AA, shift=4)
    if not mask.any():
        return None
    return sub, mask.astype(np.float32) * np.float32(1.0 / 255.0)


def neck_opening(
    shape: HeadShape, shoulders: F64, neckline: F64, person: NDArray[np.float32] | None
) -> F64 | None:
    """The polygon (frame pixels) of the neck seen through the garment's neck opening: from the
    chin down to a U through the front ``neckline`` (frame pixels), the neck's width across."""
    width = float(np.linalg.norm(shoulders[0] - shoulders[1]))
    mid = shoulders.mean(0)
    axis = mid - shape.chin
    length = float(np.linalg.norm(axis))
    if length < 0.15 * width:
        return None
    axis /= length
    across = np.array([-axis[1], axis[0]])
    least, usual, most = NECK_WIDTH
    half = usual * width / 2
    if person is not None:
        plus, minus = limb_profile(person, shape.chin, mid, most * width / 2, at=(0.45, 0.6, 0.75))
        known = np.concatenate([plus, minus])
        known = known[np.isfinite(known)]
        if len(known) >= 2:
            half = float(np.clip(np.median(known), least * width / 2, most * width / 2))
    depth = float(np.clip((neckline - mid) @ axis, NECK_LOW[0] * width, NECK_LOW[1] * width))
    bottom = mid + axis * depth
    rise = 0.6 * half
    if float((bottom - shape.chin) @ axis) < rise:
        return None
    t = np.linspace(0.0, np.pi, 16)
    u = (bottom - axis * rise) + np.outer(half * np.cos(t), across) + np.outer(rise * np.sin(t), axis)
    top = shape.chin - axis * 0.1 * width
    return np.vstack([top - across * half, top + across * half, u])


# -- arms and hands --------------------------------------------------------------------------------


def forearm_band(
    elbow: F64, wrist: F64, person: NDArray[np.float32] | None, fallback: float, reach: float
) -> tuple[F64, float | None]:
    """The forearm's outline (frame pixels) and its measured width (``None`` if the mask does
    not tell): the person mask's edges across the arm where it stands out of the silhouette, the
    known half widths' median elsewhere, ``fallback`` (a width) when none is known."""
    at = np.array([0.2, 0.35, 0.5, 0.65, 0.8])
    if person is not None:
        plus, minus = limb_profile(person, elbow, wrist, reach, at=tuple(at))
    else:
        plus = minus = np.full(len(at), np.nan)
    known = np.concatenate([plus, minus])
    known = known[np.isfinite(known)]
    usual = float(np.median(known)) if len(known) >= 3 else fallback / 2
    plus = np.clip(np.where(np.isfinite(plus), plus, usual), 0.6 * usual, 1.5 * usual)
    minus = np.clip(np.where(np.isfinite(minus), minus, usual), 0.6 * usual, 1.5 * usual)
    t = np.concatenate([[0.0], at, [1.0]])
    plus, minus = np.r_[plus[0], plus, plus[-1]], np.r_[minus[0], minus, minus[-1]]
    d = wrist - elbow
    d = d / max(float(np.linalg.norm(d)), 1e-9)
    n = np.array([-d[1], d[0]])
    axis = elbow + np.outer(t, wrist - elbow)
    turn = np.linspace(0.0, np.pi, 9)[1:-1]  # round ends, as wide as the arm there
    ends = [
        c + np.outer(r * np.cos(turn), sign * n) + np.outer(r * np.sin(turn), sign * d)
        for c, r, sign in ((wrist, (plus[-1] + minus[-1]) / 2, 1.0), (elbow, (plus[0] + minus[0]) / 2, -1.0))
    ]
    outline = np.vstack([axis + plus[:, None] * n, ends[0], (axis - minus[:, None] * n)[::-1], ends[1]])
    return outline, (2 * usual if len(known) >= 3 else None)


def pose_hand(pose: Pose, side: int) -> F64 | bool | None:
    """The hand of arm ``side`` (0: the wearer's left) from the pose's hand keypoints (wrist,
    pinky, index and thumb knuckles), the fingers reaching as far again: its outline (frame
    pixels); ``False`` when those keypoints are not seen (the hand is hidden: nothing to keep in
    front); ``None`` when they are not where a hand could be (no hand keypoints to go by)."""
    xy, vis = pose.xy.astype(np.float64), pose.visibility
    wrist = xy[15 + side]
    knuckles = xy[[17 + side, 19 + side, 21 + side]]
    reach = float(np.linalg.norm(xy[13 + side] - wrist))
    if reach < 2 or np.linalg.norm(knuckles - wrist, axis=1).max() > 0.6 * reach:
        return None
    if vis[[15 + side, 17 + side, 19 + side, 21 + side]].min() < MIN_VISIBILITY:
        return False
    fingers = knuckles[:2] + (knuckles[:2] - wrist) * 0.9
    pts = np.vstack([wrist, knuckles, fingers])
    size = float(np.linalg.norm(knuckles[1] - wrist))
    return grow(pts[cv2.convexHull(pts.astype(np.float32), returnPoints=False)[:, 0]], 0.3 * size + 1)


def hands_mask(
    hands: Sequence[Hand], outlines: Sequence[F64], discs: Sequence[tuple[F64, float]], box: Box
) -> Patch | None:
    """The hands over the part of ``box`` they cover: each hand's landmarks' hull (grown by 2
    pixels), or, without hand landmarks, the pose's hand ``outlines`` and the ``discs`` (centre,
    radius) beyond the wrists."""
    if hands:
        shapes = [h.xy.astype(np.float64) for h in hands]
        sub = _around(np.vstack(shapes), box, 4)
    else:
        shapes = list(outlines)
        corners = [c + np.array(s) * r for c, r in discs for s in ((-1.0, -1.0), (1.0, 1.0))]
        sub = _around(np.vstack([*shapes, *corners]), box, 2) if shapes or corners else None
    if sub is None:
        return None
    palms = np.zeros((sub.height, sub.width), np.uint8)
    origin = np.array([sub.x0, sub.y0], np.float64)
    if hands:
        for pts in shapes:
            cv2.fillConvexPoly(
                palms, cv2.convexHull(np.round(pts - origin).astype(np.int32)), 255, cv2.LINE_AA
            )
        palms = np.asarray(cv2.dilate(palms, np.ones((5, 5), np.uint8)), np.uint8)
    else:
        if shapes:
            cv2.fillPoly(palms, [fixed_points(o - origin) for o in shapes], 255, cv2.LINE_AA, shift=4)
        for centre, radius in discs:
            c = np.round(centre - origin).astype(int)
            cv2.circle(palms, (int(c[0]), int(c[1])), max(1, round(radius)), 255, -1, cv2.LINE_AA)
    if not palms.any():
        return None
    return sub, palms.astype(np.float32) * np.float32(1.0 / 255.0)


def believed_hair(
    hair: NDArray[np.float32] | None, where: Box, box: Box, covered: NDArray[np.bool_], shoulders_y: float
) -> NDArray[np.float32] | None:
    """The hair mask, or ``None`` where it covers more than :data:`HAIR_MOST` of the garment
    below the shoulders (a dark coat taken for dark hair: hair falls over the collar and the
    shoulders, not over the whole chest)."""
    if hair is None:
        return None
    below = max(int(shoulders_y) - where.y0, 0)
    under = covered[where.y0 - box.y0 : where.y1 - box.y0, where.x0 - box.x0 : where.x1 - box.x0][below:]
    share = float((hair[below:] > 0.5)[under].mean()) if under.any() else 0.0
    return None if share > HAIR_MOST else hair


__all__ = [
    "FOREARM_WIDTH",
    "HAND_RADIUS",
    "HeadShape",
    "Patch",
    "believed_hair",
    "fill",
    "forearm_band",
    "hands_mask",
    "head_shape",
    "neck_opening",
    "pose_hand",
]
