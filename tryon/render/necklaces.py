"""Necklaces around the neck and on the collarbones, from the face and (when there is one) the
body's pose.

The neck's base (the notch between the collarbones) is a neck's length below the point the head
turns on, so a lowered chin comes down over the necklace. The necklace lies across the body: its
ends follow the shoulders' line of the pose whose nose is this face's (when it has both
shoulders on either side of the chin), else the head's left-right axis; the neck runs down
half-way between the head's vertical axis and the body's. The shoulder landmarks set directions,
not positions: on a still image their positions jitter by up to an eye span between small shifts
of the frame, the face's by a few pixels.

The necklace's two ends (``left_end``, ``right_end``) go where the chain turns behind the neck,
on either side of the neck a little above its base, and the rest of the necklace follows (a
similarity: it scales with the neck). Where the face (the chin, a lowered head) is in front of
it, it is hidden.

Stateless: ``render_necklace(frame, face, sprite, params, poses=()) -> frame``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tryon.render.accessory import AccessoryParams, accessory_layer, head_pose, silhouette
from tryon.render.masks import Box
from tryon.render.registry import Layer, LayerRequest, renders
from tryon.render.sprite import Sprite, draw_sprite, polygon_mask, similarity
from tryon.results import Face, Pose

CHIN = 152
NOSE_TIP = 1
LEFT_SHOULDER, RIGHT_SHOULDER, POSE_NOSE = 11, 12, 0
NECK_HALF_WIDTH = 0.5
"""Half the neck's width where the chain goes behind it, in canonical units (~45 mm)."""
ENDS_ABOVE_NOTCH = 0.35
"""How far above the neck's base the chain turns behind the neck, in canonical units (~30 mm)."""
NECK_PIVOT = (0.0, 0.6, 1.0)
"""Where the head turns on the neck when it nods, in the head frame (inside the neck, at the
jaw's height: a nod bends the whole neck, not only its top)."""
PIVOT_TO_NOTCH = 1.35
"""From the pivot down to the neck's base (1.1 units, ~100 mm, below the chin of a level head)."""
MIN_VISIBILITY = 0.5


@dataclass(frozen=True)
class Neck:
    base: NDArray[np.float64]
    """The neck's base (between the collarbones) in the image."""
    up: NDArray[np.float64]
    """Unit vector from the base towards the head."""
    across: NDArray[np.float64]
    """Unit vector towards the subject's left (image right on a frontal face)."""
    unit: float
    """Pixels per canonical unit (the face's scale)."""

    def ends(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(left, right)``: where the chain turns behind the neck on the subject's left and right."""
        above = self.base + self.up * ENDS_ABOVE_NOTCH * self.unit
        side = self.across * NECK_HALF_WIDTH * self.unit
        return above + side, above - side


def body_of(face: Face, poses: Sequence[Pose]) -> Pose | None:
    """The pose whose nose is this face's, with both shoulders visible; ``None`` if there is none."""
    best, best_d = None, 0.6 * face.interocular * 2
    for pose in poses:
        if min(pose.visibility[LEFT_SHOULDER], pose.visibility[RIGHT_SHOULDER]) < MIN_VISIBILITY:
            continue
        d = float(np.linalg.norm(pose.xy[POSE_NOSE] - face.landmarks[NOSE_TIP, :2]))
        if d < best_d:
            best, best_d = pose, d
    return best


def neck_of(face: Face, poses: Sequence[Pose] = ()) -> Neck:
    """The neck's base below the point the head turns on (so a lowered chin comes down over the
    necklace); it lies across the body: along the shoulders' line when the pose has it, else
    across the head's vertical axis."""
    hp = head_pose(face)
    chin = face.landmarks[CHIN, :2].astype(np.float64)
    down = hp.rotation[:2, 1]
    down = down / max(float(np.linalg.norm(down)), 1e-6)
    body = body_of(face, poses)
    body_down = down
    if body is not None:
        left, right = body.xy[LEFT_SHOULDER].astype(np.float64), body.xy[RIGHT_SHOULDER].astype(np.float64)
        span = float(np.linalg.norm(left - right))
        reach = np.linalg.norm(np.array([left, right]) - chin, axis=1)
        # Shoulders on either side of the chin (a lopsided pair is a bad estimate, not a pose).
        if span > 1.5 * face.interocular and abs(reach[0] - reach[1]) < 0.35 * span:
            across = (left - right) / span
            body_down = np.array([-across[1], across[0]])
            if float(body_down @ down) < 0:
                body_down = -body_down
    neck = down + body_down
    neck /= max(float(np.linalg.norm(neck)), 1e-6)
    pivot = hp.project(np.array([NECK_PIVOT]))[0, :2]
    base = pivot + neck * PIVOT_TO_NOTCH * hp.scale
    return Neck(base, -body_down, np.array([body_down[1], -body_down[0]]), hp.scale)


def necklace_matrix(sprite: Sprite, neck: Neck) -> NDArray[np.float64]:
    left, right = neck.ends()
    return similarity(
        np.array([sprite.anchor("right_end"), sprite.anchor("left_end")]), np.array([right, left])
    )


def render_necklace(
    frame: NDArray[np.uint8],
    face: Face,
    sprite: Sprite,
    params: AccessoryParams,
    poses: Sequence[Pose] = (),
    neck: Neck | None = None,
) -> NDArray[np.uint8]:
    """``frame`` with the necklace on ``face``'s neck (``neck``: where it is, when already known)."""
    m = necklace_matrix(sprite, neck if neck is not None else neck_of(face, poses))
    oval = silhouette(face)

    def coverage(box: Box) -> NDArray[np.float32]:
        out: NDArray[np.float32] = 1.0 - polygon_mask(oval, box)
        return out

    return draw_sprite(frame, sprite, m, tint=params.tint, intensity=params.intensity, coverage=coverage)


@renders("necklace")
def necklace_layer(request: LayerRequest) -> Layer:
    """The item around every neck, along the shoulders where the pose has them."""
    return accessory_layer(request, lambda out, face, s, p, r: render_necklace(out, face, s, p, r.poses))
