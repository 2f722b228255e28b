"""What the accessory renderers (earrings, hats, necklaces) share: their parameters, the product
sprites (loaded through :mod:`tryon.render.asset_cache`), the head pose and real-world scale of a
face, and the face's silhouette.

Sizes are real: a face's pixels per millimetre come from its head pose (the canonical unit, the
distance between the outer eye corners, is :data:`MM_PER_UNIT` mm on an average adult), and a
sprite's from its ``size_mm.width``; so a 28 mm hoop is drawn 28 mm wide on any face.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tryon.catalog.schema import Product, Variant
from tryon.errors import InputError
from tryon.frame import Frame
from tryon.headpose import HeadPose, estimate_head_pose
from tryon.media.assets import read_rgba
from tryon.render.asset_cache import asset_cache, frozen
from tryon.render.color import linear_color
from tryon.render.regions import SILHOUETTE
from tryon.render.registry import Layer, LayerRequest, per_face
from tryon.render.sprite import Sprite
from tryon.results import Face, FrameResult

MM_PER_UNIT = 90.0
"""Millimetres between the outer eye corners (the canonical unit) on an average adult."""


@dataclass(frozen=True)
class AccessoryParams:
    color: tuple[int, int, int] | None = None
    """The variant's colour: the sprite's RGB is shading to tint; ``None``: draw it as it is."""
    intensity: float = 1.0
    sit: float = 0.4
    """Hats: how far down the forehead the hat sits (0: at the top of the forehead, 1: the brows)."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.intensity <= 1.0:
            raise InputError(f"intensity: expected a number in [0, 1], got {self.intensity!r}")
        if not 0.0 <= self.sit <= 1.0:
            raise InputError(f"sit: expected a number in [0, 1], got {self.sit!r}")

    @property
    def tint(self) -> NDArray[np.float32] | None:
        return None if self.color is None else linear_color(self.color)


def accessory_params(product: Product, variant: Variant, intensity: float = 1.0) -> AccessoryParams:
    sit = product.params.get("sit", 0.4)
    return AccessoryParams(color=variant.rgb, intensity=intensity, sit=float(sit))


def head_pose(face: Face) -> HeadPose:
    return face.head_pose if face.head_pose is not None else estimate_head_pose(face.landmarks)


def px_per_mm(pose: HeadPose) -> float:
    return pose.scale / MM_PER_UNIT


def silhouette(face: Face) -> NDArray[np.float32]:
    """The face oval in the image, ``(36, 2)``."""
    out: NDArray[np.float32] = face.landmarks[list(SILHOUETTE), :2]
    return out


def facing_away(pose: HeadPose, side: int) -> float:
    """Degrees by which the side of the head (``+1`` the subject's left, ``-1`` their right) faces
    away from the camera: 0 on a frontal face, positive once it turns away."""
    normal = pose.rotation @ np.array([float(side), 0.0, 0.0])
    return float(np.degrees(np.arcsin(np.clip(normal[2], -1.0, 1.0))))


def load_sprite(
    path: str, anchors: tuple[tuple[str, float, float], ...], width_mm: float, name: str
) -> Sprite:
    """The RGBA image at ``path`` as a sprite, read-only, its pyramid computed (not cached)."""
    sprite = Sprite(frozen(read_rgba(path)), {key: (x, y) for key, x, y in anchors}, width_mm, name)
    sprite.pyramid  # noqa: B018 -- now, so the cache counts its bytes
    return sprite


def product_sprite(product: Product, name: str = "front") -> Sprite:
    """The product's RGBA asset ``name`` as a sprite, through the asset cache."""
    asset = product.assets.get(name)
    if asset is None:
        raise InputError(f"product {product.id!r}: expected a {name!r} asset for {product.kind}, got none")
    width = asset.size_mm.get("width")
    if width is None:
        raise InputError(
            f"product {product.id!r}: assets.{name}.size_mm.width: expected the image's width in mm, got none"
        )
    anchors = tuple(sorted((key, x, y) for key, (x, y) in asset.anchors.items()))
    args = (str(asset.path), anchors, float(width), f"{product.id} {name}")
    return asset_cache().get_or_load(("sprite", *args), lambda: load_sprite(*args))


Draw = Callable[[Frame, Face, Sprite, AccessoryParams, FrameResult], Frame]


def accessory_layer(request: LayerRequest, draw: Draw) -> Layer:
    """The layer of a sprite accessory: its sprite and parameters loaded now (a bad asset fails
    when the look is set), then ``draw(frame, face, sprite, params, result)`` on every face."""
    item = request.item
    sprite = product_sprite(item.product)
    params = accessory_params(item.product, item.variant, item.intensity)
    return per_face(lambda out, face, r: draw(out, face, sprite, params, r))
