"""Hats on the top of the head, placed in 3D by the head pose.

The hat is a plane of the head frame (see :mod:`tryon.headpose`) through the middle of the head:
the midpoint of its brim anchors sits on the head's vertical midline, on the forehead between its
top (mesh vertex 10) and the brows (``sit`` of the way down), and the brim line runs along the
head's left-right axis. The hat is drawn at its real width from the face's real scale, so it is
scaled by the face's width, and the projection by the head's rotation follows roll and pitch (a
nod foreshortens it, a turn narrows it). The brim and crown are drawn in front of the forehead and
over the hair, which they cover from the hairline up.

Stateless: ``render_hat(frame, face, sprite, params) -> frame``.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import NDArray

from tryon.headpose import HeadPose, load_canonical
from tryon.render.accessory import MM_PER_UNIT, AccessoryParams, accessory_params, head_pose, product_sprite
from tryon.render.registry import Layer, LayerRequest, per_face, renders
from tryon.render.sprite import Sprite, draw_sprite
from tryon.results import Face

FOREHEAD_TOP = 10
BROWS = (105, 334, 66, 296)
DEPTH = 0.3
"""Depth of the hat's plane behind the forehead, in canonical units (the middle of the head)."""
HAIR = 1.08
"""A hat sits on hair, not on the bare skull: it is drawn this much wider than its size."""


@functools.cache
def _forehead() -> tuple[float, float, float]:
    """``(top y, brows y, forehead z)`` of the canonical face."""
    shape = load_canonical().shape
    return float(shape[FOREHEAD_TOP, 1]), float(shape[list(BROWS), 1].mean()), float(shape[FOREHEAD_TOP, 2])


def brim_centre(sit: float) -> NDArray[np.float64]:
    """Where the middle of the brim line is in the head frame."""
    top, brows, z = _forehead()
    return np.array([0.0, top + sit * (brows - top), z + DEPTH])


def hat_matrix(sprite: Sprite, pose: HeadPose, sit: float) -> NDArray[np.float64]:
    """The 3x3 affine matrix taking sprite pixels to the image (weak perspective)."""
    left, right = sprite.anchor("brim_left"), sprite.anchor("brim_right")
    mid = (left + right) / 2
    k = HAIR / (sprite.px_per_mm * MM_PER_UNIT)  # head units per sprite pixel
    linear = pose.scale * k * pose.rotation[:2, :2]
    m = np.eye(3)
    m[:2, :2] = linear
    m[:2, 2] = pose.project(brim_centre(sit)[None])[0, :2] - linear @ mid
    return m


def render_hat(
    frame: NDArray[np.uint8], face: Face, sprite: Sprite, params: AccessoryParams
) -> NDArray[np.uint8]:
    m = hat_matrix(sprite, head_pose(face), params.sit)
    return draw_sprite(frame, sprite, m, tint=params.tint, intensity=params.intensity)


@renders("hat")
def hat_layer(request: LayerRequest) -> Layer:
    """The item on every head."""
    item = request.item
    sprite = product_sprite(item.product)
    params = accessory_params(item.product, item.variant, item.intensity)
    return per_face(lambda out, face, r: render_hat(out, face, sprite, params))
