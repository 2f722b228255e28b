"""Glasses and sunglasses on a face, placed in 3D by the head pose.

The front of the frame is a plane in the head frame (see :mod:`tryon.headpose`), just in front of
the nose bridge: the asset's ``bridge`` anchor sits on the nose bridge (mesh vertex 168) and its
lens centres over the eye centres, so the frame is sized by the person's eye distance. The plane
is projected with the head's rotation and scale (weak perspective, so a turned head foreshortens
the frame) and the asset warped onto it. Temples run from the asset's hinges back to the ears;
the one on the side turned away from the camera is hidden where the face covers it. Lenses tint
what is behind them in linear light (``lens_opacity``: 0.05–0.15 for clear lenses, 0.6–0.85 for
sunglasses) and add a faint reflection, so the eyes show through.

Stateless: ``render_glasses(frame, face, glasses) -> frame``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.catalog.schema import Product, Variant
from tryon.errors import InputError
from tryon.headpose import HeadPose, estimate_head_pose, load_canonical
from tryon.media.assets import read_mask, read_rgba
from tryon.render.asset_cache import asset_cache, frozen
from tryon.render.color import linear_color, to_linear, to_srgb
from tryon.render.masks import Box, fixed_points
from tryon.render.regions import SILHOUETTE
from tryon.render.registry import Layer, LayerRequest, per_face, renders
from tryon.render.sprite import coarsest_level
from tryon.results import Face

NOSE_BRIDGE = 168
EYE_CORNERS = ((33, 133), (362, 263))
"""(outer, inner) of the subject's right eye, (inner, outer) of their left."""
FRAME_DEPTH = 0.035
"""How far in front of the nose bridge the frame's plane is, in eye spans."""
EAR = (0.78, -0.2, 0.95)
"""Where a temple ends on the subject's left, in the head frame (|x|, y, z); mirrored on the right."""
TEMPLE_WIDTH = 0.035
"""Temple thickness in eye spans (about 3 mm)."""
REFLECTION = 0.05
"""Strength of the lens reflection (linear light)."""


@dataclass(frozen=True)
class GlassesAsset:
    """A frame front and its lens mask, in the same pixel grid, with anchors in that grid."""

    front: NDArray[np.uint8]
    """``(H, W, 4)`` RGBA: the frame, its RGB the shading to colour (white = the frame colour)."""
    lenses: NDArray[np.uint8]
    """``(H, W)`` the lens area (255 inside)."""
    left_lens: tuple[float, float]
    """Centre of the lens in front of the subject's left eye (the image's right on a frontal face)."""
    right_lens: tuple[float, float]
    bridge: tuple[float, float]
    left_hinge: tuple[float, float]
    right_hinge: tuple[float, float]

    @functools.cached_property
    def pyramid(self) -> list[tuple[float, NDArray[np.float32], NDArray[np.float32]]]:
        """``(scale, front, lenses)`` at 1, 1/2, 1/4, ... as floats in [0, 1] (area-filtered),
        so a frame a few hundred pixels wide is not warped down from thousands."""
        front: NDArray[np.float32] = self.front.astype(np.float32) / np.float32(255.0)
        # Premultiplied: the colour of transparent pixels must not bleed into the edges.
        front[..., :3] *= front[..., 3:4]
        lenses: NDArray[np.float32] = self.lenses.astype(np.float32) / np.float32(255.0)
        levels = [(1.0, front, lenses)]
        while min(front.shape[:2]) > 64:
            front = np.asarray(cv2.pyrDown(front), np.float32)
            lenses = np.asarray(cv2.pyrDown(lenses), np.float32)
            levels.append((levels[-1][0] / 2, front, lenses))
        for _, f, m in levels:  # shared by every session drawing these glasses
            f.setflags(write=False)
            m.setflags(write=False)
        return levels

    @property
    def nbytes(self) -> int:
        """Bytes held: the images and their pyramid (computed now if it was not yet)."""
        pyramid = sum(int(f.nbytes) + int(m.nbytes) for _, f, m in self.pyramid)
        return int(self.front.nbytes) + int(self.lenses.nbytes) + pyramid

    @functools.cached_property
    def placement(self) -> tuple[float, NDArray[np.float64]]:
        """``(k, origin)``: asset pixel ``(u, v)`` → head frame ``origin + k (u, v, 0)``: the lens
        centres over the canonical eye centres, the bridge anchor on the nose bridge."""
        shape = load_canonical().shape
        eyes = [shape[list(pair)].mean(0) for pair in EYE_CORNERS]
        k = float(np.linalg.norm(eyes[1][:2] - eyes[0][:2])) / (self.left_lens[0] - self.right_lens[0])
        bridge = shape[NOSE_BRIDGE]
        z = bridge[2] - FRAME_DEPTH
        origin = np.array([bridge[0] - k * self.bridge[0], bridge[1] - k * self.bridge[1], z])
        origin.setflags(write=False)
        return k, origin

    def level(self, scale: float) -> tuple[float, NDArray[np.float32], NDArray[np.float32]]:
        """The coarsest level still at least ``scale`` (target pixels per asset pixel)."""
        return coarsest_level(self.pyramid, scale)

    def __post_init__(self) -> None:
        h, w = self.front.shape[:2]
        if self.front.ndim != 3 or self.front.shape[2] != 4 or self.front.dtype != np.uint8:
            raise InputError(
                f"glasses front: expected (H, W, 4) uint8 RGBA, got {self.front.shape} {self.front.dtype}"
            )
        if self.lenses.shape != (h, w):
            raise InputError(f"glasses lenses: expected {(h, w)} like the front, got {self.lenses.shape}")
        if self.left_lens[0] <= self.right_lens[0]:
            raise InputError(
                "glasses anchors: expected left_lens to the right of right_lens in the image "
                f"(the subject's left), got {self.left_lens} and {self.right_lens}"
            )


@dataclass(frozen=True)
class GlassesParams:
    frame_color: tuple[int, int, int] | None
    """The colour the asset's grey shading takes; ``None``: the asset's own colours (a photo)."""
    lens_color: tuple[int, int, int] = (128, 128, 128)
    lens_opacity: float = 0.1
    intensity: float = 1.0


def _head(face: Face) -> HeadPose:
    return face.head_pose if face.head_pose is not None else estimate_head_pose(face.landmarks)


def asset_to_image(asset: GlassesAsset, pose: HeadPose, points: NDArray[np.floating]) -> NDArray[np.float64]:
    """Asset pixels ``(N, 2)`` to image ``(N, 3)`` (x, y, depth) on a face with this head pose."""
    k, origin = asset.placement
    p = np.asarray(points, np.float64)
    head = origin + k * np.column_stack([p, np.zeros(len(p))])
    return pose.project(head)


def _warp(image: NDArray[np.float32], m: NDArray[np.float64], box: Box) -> NDArray[np.float32]:
    x0, y0, x1, y1 = box
    shift = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], np.float64)
    out = cv2.warpPerspective(
        image, shift @ m, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
    )
    return np.asarray(out, np.float32)


def _temple_polygon(
    pose: HeadPose, hinge: NDArray[np.float64], ear: NDArray[np.float64], width: float
) -> NDArray[np.float64]:
    """A tapered bar from hinge to ear (head frame), projected: ``(4, 2)``."""
    up = np.array([0.0, -width / 2, 0.0])
    quad = np.array([hinge + up, ear + 0.6 * up, ear - 0.6 * up, hinge - up])
    return pose.project(quad)[:, :2]


def render_glasses(
    frame: NDArray[np.uint8], face: Face, asset: GlassesAsset, params: GlassesParams
) -> NDArray[np.uint8]:
    h, w = frame.shape[:2]
    pose = _head(face)
    ah, aw = asset.front.shape[:2]
    corners = np.array([[0, 0], [aw, 0], [aw, ah], [0, ah]], np.float64)
    projected = asset_to_image(asset, pose, corners)[:, :2]
    k, origin = asset.placement
    temples = []
    for side, hinge_px in ((+1, asset.left_hinge), (-1, asset.right_hinge)):
        hinge = origin + k * np.array([hinge_px[0], hinge_px[1], 0.0])
        ear = np.array([side * EAR[0], EAR[1], EAR[2]])
        # The side of the head faces away from the camera when its outward normal points away.
        away = float((pose.rotation @ np.array([side, 0.0, 0.0]))[2]) > 0.05
        temples.append((_temple_polygon(pose, hinge, ear, TEMPLE_WIDTH), away))
    pts = np.concatenate([projected] + [poly for poly, _ in temples])
    x0, y0 = np.floor(pts.min(0)).astype(int) - 2
    x1, y1 = np.ceil(pts.max(0)).astype(int) + 2
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 <= x0 or y1 <= y0:
        return frame
    box = Box(int(x0), int(y0), int(x1), int(y1))
    out = frame.copy()
    region = to_linear(np.ascontiguousarray(frame[y0:y1, x0:x1]))
    colour = np.ones(3, np.float32) if params.frame_color is None else linear_color(params.frame_color)
    a = params.intensity

    # Temples: the far one only where the face does not cover it.
    face_mask = None
    if any(away for _, away in temples):
        face_mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        oval = face.landmarks[list(SILHOUETTE), :2] - [x0, y0]
        cv2.fillPoly(face_mask, [fixed_points(oval)], 1, cv2.LINE_AA, shift=4)
    for poly, away in temples:
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillConvexPoly(mask, fixed_points(poly - [x0, y0]), 255, cv2.LINE_AA, shift=4)
        alpha = mask.astype(np.float32) / 255.0
        if away and face_mask is not None:
            alpha *= 1.0 - face_mask.astype(np.float32)
        shade = 0.75  # temples are seen edge-on, a little darker than the front
        region += (a * alpha)[..., None] * (colour * shade - region)

    target = float(np.linalg.norm(projected[1] - projected[0])) / aw
    _, lv_front, lv_lenses = asset.level(target)
    lh_, lw_ = lv_front.shape[:2]
    src = np.array([[0, 0], [lw_, 0], [lw_, lh_], [0, lh_]], np.float32)
    m = cv2.getPerspectiveTransform(src, projected.astype(np.float32)).astype(np.float64)
    front = _warp(lv_front, m, box)
    lenses = _warp(lv_lenses, m, box)

    # Lenses: tint what is behind them, plus a reflection brighter towards the top.
    tint = linear_color(params.lens_color)
    o = params.lens_opacity * a
    ys = np.linspace(1.0, 0.0, y1 - y0, dtype=np.float32)[:, None, None]
    region = region * (1.0 - o * lenses[..., None]) + (region * tint) * (o * lenses[..., None])
    region += (REFLECTION * a) * lenses[..., None] * ys

    # Front: the frame colour modulated by the asset's shading (premultiplied by its alpha).
    cover = front[..., 3:4]
    shading = np.where(cover > 1e-4, front[..., :3] / np.maximum(cover, 1e-4), 0.0) ** 2.2
    alpha = cover * a
    region = region * (1.0 - alpha) + (colour * shading) * alpha
    out[y0:y1, x0:x1] = to_srgb(region)
    return out


DEFAULT_LENS_OPACITY = {"glasses": 0.08, "sunglasses": 0.8}
DEFAULT_LENS = (128, 128, 128)


def load_glasses(front: str, lenses: str, anchors: tuple[tuple[str, float, float], ...]) -> GlassesAsset:
    """The frame front (RGBA) and lens mask at these paths, read-only, the pyramid computed (not
    cached: :func:`glasses_asset` is)."""
    rgba = read_rgba(front)
    mask = read_mask(lenses, "a lens mask (255 inside the lenses)")
    points = {name: (x, y) for name, x, y in anchors}
    asset = GlassesAsset(
        front=frozen(rgba),
        lenses=frozen(mask),
        left_lens=points["left_lens"],
        right_lens=points["right_lens"],
        bridge=points["bridge"],
        left_hinge=points.get("left_hinge", points["left_lens"]),
        right_hinge=points.get("right_hinge", points["right_lens"]),
    )
    asset.pyramid  # noqa: B018 -- now, so the cache counts its bytes
    return asset


def glasses_asset(product: Product) -> GlassesAsset:
    """The product's ``front`` (RGBA) and ``lenses`` (mask) assets, through the asset cache."""
    front = product.assets.get("front")
    lenses = product.assets.get("lenses")
    if front is None or lenses is None:
        kind = product.kind
        raise InputError(f"product {product.id!r}: expected 'front' and 'lenses' assets for {kind}")
    anchors = tuple(sorted((name, x, y) for name, (x, y) in front.anchors.items()))
    args = (str(front.path), str(lenses.path), anchors)
    return asset_cache().get_or_load(("glasses", *args), lambda: load_glasses(*args))


def glasses_params(product: Product, variant: Variant, intensity: float = 1.0) -> GlassesParams:
    opacity = variant.opacity
    if opacity is None:
        opacity = DEFAULT_LENS_OPACITY.get(product.kind, 0.1)
    return GlassesParams(
        frame_color=variant.rgb,
        lens_color=variant.lens_rgb or DEFAULT_LENS,
        lens_opacity=opacity,
        intensity=intensity,
    )


@renders("glasses", "sunglasses")
def glasses_layer(request: LayerRequest) -> Layer:
    """The item's frame and lenses on every face."""
    item = request.item
    asset = glasses_asset(item.product)
    params = glasses_params(item.product, item.variant, item.intensity)
    return per_face(lambda out, face, r: render_glasses(out, face, asset, params))
