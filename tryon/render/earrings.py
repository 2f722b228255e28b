"""Earrings at the ear lobes, hanging under gravity.

The lobes are points of the head frame (see :mod:`tryon.headpose`) just outside and behind the
face oval at the height of the nose base; the head pose projects them into the image, so they
follow turns, nods and tilts. The earring hangs from its ``hook`` anchor straight down the image
(gravity, not the head's roll), at its real size. The subject's right ear wears the mirror image.

An earring is hidden:

- where the face's outline covers it (the ears are behind the cheeks and jaw);
- on the side of the head turned away from the camera: faded out between :data:`HIDE_FROM` and
  :data:`HIDE_TO` degrees of turn;
- behind hair: when the person mask (selfie segmentation) says the lobe is covered by the person
  but its colour is not the face's skin, the hair is in front of the ear, and the earring shows
  only where it hangs below the hair.

Stateless: ``render_earrings(frame, face, sprite, params, person=None) -> frame``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tryon.headpose import HeadPose
from tryon.render.accessory import (
    AccessoryParams,
    accessory_layer,
    facing_away,
    head_pose,
    px_per_mm,
    silhouette,
)
from tryon.render.masks import Box
from tryon.render.registry import Layer, LayerRequest, person_mask, renders
from tryon.render.skin import SkinModel, not_skin, skin_model
from tryon.render.sprite import Sprite, draw_sprite, polygon_mask, scale_about
from tryon.results import Face

LOBE = (0.80, 0.25, 0.80)
"""The subject's left ear lobe in the head frame (|x|, y, z); mirrored on the right."""
HIDE_FROM, HIDE_TO = 22.0, 32.0
"""Degrees of turn away from the camera over which the far earring fades out."""
LOBE_RADIUS_MM = 5.0
"""Radius of the area around a lobe tested for hair."""


@dataclass(frozen=True)
class Lobe:
    side: int
    """``+1``: the subject's left ear; ``-1``: their right."""
    xy: NDArray[np.float64]
    away: float
    """Degrees by which this side faces away from the camera."""


def ear_lobes(pose: HeadPose) -> list[Lobe]:
    """Both lobes in the image: the subject's left (``side=+1``) then right."""
    out = []
    for side in (+1, -1):
        point = pose.project(np.array([[side * LOBE[0], LOBE[1], LOBE[2]]]))[0, :2]
        out.append(Lobe(side, point, facing_away(pose, side)))
    return out


def visibility(away: float) -> float:
    """1 while the side faces the camera, falling to 0 as it turns away past the threshold."""
    t = float(np.clip((away - HIDE_FROM) / (HIDE_TO - HIDE_FROM), 0.0, 1.0))
    return 1.0 - t * t * (3.0 - 2.0 * t)


def hair_cover(
    frame: NDArray[np.uint8],
    person: NDArray[np.float32],
    lobe: NDArray[np.float64],
    radius: float,
    skin: SkinModel,
) -> float:
    """The share of the lobe's surroundings that is person but not skin: hair over the ear."""
    h, w = frame.shape[:2]
    x, y, r = round(lobe[0]), round(lobe[1]), max(2, round(radius))
    x0, y0, x1, y1 = max(x - r, 0), max(y - r, 0), min(x + r + 1, w), min(y + r + 1, h)
    if x1 <= x0 or y1 <= y0:
        return 0.0
    yy, xx = np.mgrid[y0:y1, x0:x1]
    disc = (xx - lobe[0]) ** 2 + (yy - lobe[1]) ** 2 <= r * r
    hair = person[y0:y1, x0:x1] * not_skin(frame[y0:y1, x0:x1], skin)
    return float(hair[disc].mean()) if disc.any() else 0.0


def render_earrings(
    frame: NDArray[np.uint8],
    face: Face,
    sprite: Sprite,
    params: AccessoryParams,
    person: NDArray[np.float32] | None = None,
) -> NDArray[np.uint8]:
    """``frame`` with the earring on both lobes of ``face``; ``person``: the ``(H, W)`` person
    mask in [0, 1] at frame size, for hair in front of the ears (``None``: not checked)."""
    pose = head_pose(face)
    scale = px_per_mm(pose) / sprite.px_per_mm
    hook = sprite.anchor("hook")
    oval = silhouette(face)
    skin = skin_model(frame, face) if person is not None else None
    out = frame
    for lobe in ear_lobes(pose):
        seen = visibility(lobe.away) * params.intensity
        if seen <= 0.0:
            continue
        # The subject's left ear (image right on a frontal face) wears the sprite as drawn.
        m = scale_about(hook, lobe.xy, scale if lobe.side > 0 else -scale, scale)
        cover = 0.0
        if person is not None and skin is not None:
            cover = hair_cover(frame, person, lobe.xy, LOBE_RADIUS_MM * px_per_mm(pose), skin)
            cover = float(np.clip((cover - 0.25) / 0.3, 0.0, 1.0))

        def coverage(box: Box, cover: float = cover) -> NDArray[np.float32]:
            x0, y0, x1, y1 = box
            # The ears are behind the face's outline: the cheek and jaw hide what swings behind
            # them (the far ear on a turned head, an earring under the jaw of a tilted one).
            vis: NDArray[np.float32] = 1.0 - polygon_mask(oval, box)
            if cover > 0.0 and person is not None and skin is not None:
                hair = person[y0:y1, x0:x1] * not_skin(frame[y0:y1, x0:x1], skin)
                vis = vis * (1.0 - cover * hair)
            return vis

        out = draw_sprite(out, sprite, m, tint=params.tint, intensity=seen, coverage=coverage)
    return out


@renders("earrings")
def earrings_layer(request: LayerRequest) -> Layer:
    """The item on both ears of every face, behind hair where the person mask says so."""
    return accessory_layer(
        request, lambda out, face, s, p, r: render_earrings(out, face, s, p, person_mask(r))
    )
