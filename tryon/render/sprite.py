"""Sprites: RGBA product images with named anchors and a real-world width, warped onto a frame.

An accessory (earring, hat, necklace) is a :class:`Sprite`; its renderer decides where the anchors
go and builds the sprite-to-frame matrix, and :func:`draw_sprite` does the rest: it picks the
pyramid level nearest the target size (so a 2000-pixel drawing shrunk to 60 pixels is
area-filtered, not aliased), warps the premultiplied sprite into the frame's box around it, tints
it (when the variant has a colour the sprite's RGB is shading: white takes the colour) and
composites it in linear light, times a per-pixel coverage (what occludes it) and the intensity.

Stateless; the sprite's pyramid is computed once per sprite and cached, its levels read-only (a
loaded sprite is shared by every session: see :mod:`tryon.render.asset_cache`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.errors import InputError
from tryon.render.color import to_linear, to_srgb
from tryon.render.masks import Box, fixed_points
from tryon.timing import step

Coverage = Callable[[Box], NDArray[np.float32] | None]
"""Given the frame box ``(x0, y0, x1, y1)`` being drawn, ``(y1-y0, x1-x0)`` in [0, 1] (1: visible)."""


Level = TypeVar("Level", bound=tuple[Any, ...])


def coarsest_level(pyramid: Sequence[Level], scale: float) -> Level:
    """Of mip levels ``(level scale, ...)`` from the finest down, the coarsest whose scale is
    still at least ``scale`` (target pixels per original pixel); the finest if none is."""
    chosen = pyramid[0]
    for level in pyramid:
        if level[0] >= scale:
            chosen = level
    return chosen


@dataclass(frozen=True)
class Sprite:
    rgba: NDArray[np.uint8]
    """``(H, W, 4)`` RGBA, straight (not premultiplied) alpha."""
    anchors: Mapping[str, tuple[float, float]]
    """Named points in the sprite's pixels."""
    width_mm: float
    """The real width of the whole image in millimetres."""
    name: str = "sprite"

    def __post_init__(self) -> None:
        a = self.rgba
        if not isinstance(a, np.ndarray) or a.ndim != 3 or a.shape[2] != 4 or a.dtype != np.uint8:
            got = f"{a.shape} {a.dtype}" if isinstance(a, np.ndarray) else type(a).__name__
            raise InputError(f"{self.name}: expected (H, W, 4) uint8 RGBA, got {got}")
        if not self.width_mm > 0:
            raise InputError(f"{self.name}: expected a positive width in mm, got {self.width_mm!r}")
        h, w = a.shape[:2]
        for key, (x, y) in self.anchors.items():
            if not (-0.5 <= x <= w + 0.5 and -0.5 <= y <= h + 0.5):
                raise InputError(
                    f"{self.name}: anchor {key!r} expected inside the {w}x{h} image, got ({x}, {y})"
                )

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels."""
        return int(self.rgba.shape[1]), int(self.rgba.shape[0])

    @property
    def px_per_mm(self) -> float:
        return float(self.rgba.shape[1]) / float(self.width_mm)

    def anchor(self, name: str) -> NDArray[np.float64]:
        try:
            return np.asarray(self.anchors[name], np.float64)
        except KeyError:
            have = ", ".join(sorted(self.anchors)) or "none"
            raise InputError(f"{self.name}: expected an anchor {name!r}, got {have}") from None

    @functools.cached_property
    def pyramid(self) -> list[tuple[float, NDArray[np.float32]]]:
        """``(scale, premultiplied linear RGBA)`` at 1, 1/2, 1/4, ... (area-filtered), read-only."""
        alpha = self.rgba[..., 3:4].astype(np.float32) / np.float32(255.0)
        level: NDArray[np.float32] = np.concatenate([to_linear(self.rgba[..., :3]) * alpha, alpha], axis=2)
        levels = [(1.0, level)]
        while min(level.shape[:2]) > 16:
            level = np.asarray(cv2.pyrDown(level), np.float32)
            levels.append((levels[-1][0] / 2, level))
        for _, a in levels:
            a.setflags(write=False)
        return levels

    @property
    def nbytes(self) -> int:
        """Bytes held: the image and its pyramid (computed now if it was not yet)."""
        return int(self.rgba.nbytes) + sum(int(a.nbytes) for _, a in self.pyramid)

    def level(self, scale: float) -> tuple[float, NDArray[np.float32]]:
        """The coarsest level still at least ``scale`` (target pixels per sprite pixel)."""
        return coarsest_level(self.pyramid, scale)

    def mirrored(self) -> Sprite:
        """The sprite flipped left-right, its anchors with it."""
        w = self.rgba.shape[1]
        anchors = {k: (w - x, y) for k, (x, y) in self.anchors.items()}
        return Sprite(
            np.ascontiguousarray(self.rgba[:, ::-1]), anchors, self.width_mm, self.name + " (mirrored)"
        )


def similarity(
    src: NDArray[np.floating], dst: NDArray[np.floating], flip: bool = False
) -> NDArray[np.float64]:
    """The 3x3 similarity (rotation, uniform scale, shift; a mirror first if ``flip``) taking the
    two points ``src`` onto ``dst``."""
    s0, s1 = np.asarray(src, np.float64)
    d0, d1 = np.asarray(dst, np.float64)
    f = np.diag([-1.0 if flip else 1.0, 1.0, 1.0])
    s0, s1 = (f[:2, :2] @ s0), (f[:2, :2] @ s1)
    a, b = s1 - s0, d1 - d0
    na = float(np.hypot(*a))
    if na < 1e-9:
        raise InputError("similarity: expected two distinct source points, got one")
    za, zb = complex(*a), complex(*b)
    z = zb / za
    m = np.array([[z.real, -z.imag, 0.0], [z.imag, z.real, 0.0], [0.0, 0.0, 1.0]])
    m[:2, 2] = d0 - m[:2, :2] @ s0
    out: NDArray[np.float64] = m @ f
    return out


def scale_about(
    anchor: NDArray[np.floating], target: NDArray[np.floating], sx: float, sy: float
) -> NDArray[np.float64]:
    """The 3x3 matrix scaling by ``(sx, sy)`` about the sprite point ``anchor`` placed at ``target``."""
    a, t = np.asarray(anchor, np.float64), np.asarray(target, np.float64)
    return np.array([[sx, 0.0, t[0] - sx * a[0]], [0.0, sy, t[1] - sy * a[1]], [0.0, 0.0, 1.0]])


def sprite_box(sprite: Sprite, m: NDArray[np.float64], shape: tuple[int, ...], pad: int = 2) -> Box | None:
    """The frame box covered by the warped sprite, clipped to the frame; ``None`` if outside it."""
    w, h = sprite.size
    corners = np.array([[0, 0, 1], [w, 0, 1], [w, h, 1], [0, h, 1]], np.float64) @ m.T
    return clipped_box(corners[:, :2] / corners[:, 2:3], shape, pad)


def clipped_box(xy: NDArray[np.floating], shape: tuple[int, ...], pad: int = 2) -> Box | None:
    """The pixel box around the points ``(N, 2)`` grown by ``pad``, clipped to a frame of
    ``shape``; ``None`` when nothing of it is in the frame."""
    x0, y0 = np.floor(xy.min(0)).astype(int) - pad
    x1, y1 = np.ceil(xy.max(0)).astype(int) + pad
    x0, y0, x1, y1 = max(int(x0), 0), max(int(y0), 0), min(int(x1), shape[1]), min(int(y1), shape[0])
    if x1 <= x0 or y1 <= y0:
        return None
    return Box(x0, y0, x1, y1)


def warp_sprite(sprite: Sprite, m: NDArray[np.float64], box: Box) -> NDArray[np.float32]:
    """The premultiplied linear RGBA sprite warped by ``m`` (sprite pixels → frame pixels) into
    ``box``: ``(y1-y0, x1-x0, 4)``."""
    x0, y0, x1, y1 = box
    scale = float(np.sqrt(abs(np.linalg.det(m[:2, :2]))))
    s, level = sprite.level(scale)
    to_level = np.diag([1.0 / s, 1.0 / s, 1.0])
    shift = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], np.float64)
    mm = shift @ m @ to_level
    size = (x1 - x0, y1 - y0)
    if np.allclose(mm[2], [0.0, 0.0, 1.0]):
        out = cv2.warpAffine(level, mm[:2], size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    else:
        out = cv2.warpPerspective(level, mm, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return np.asarray(out, np.float32).reshape(size[1], size[0], 4)


def draw_sprite(
    frame: NDArray[np.uint8],
    sprite: Sprite,
    m: NDArray[np.float64],
    *,
    tint: NDArray[np.float32] | None = None,
    intensity: float = 1.0,
    coverage: Coverage | None = None,
) -> NDArray[np.uint8]:
    """``frame`` with the sprite composited through ``m`` (3x3, sprite → frame pixels); a new
    array when anything is drawn, ``frame`` itself otherwise."""
    box = sprite_box(sprite, m, frame.shape)
    if box is None or intensity <= 0.0:
        return frame
    x0, y0, x1, y1 = box
    warped = warp_sprite(sprite, m, box)
    alpha = warped[..., 3] * np.float32(intensity)
    colour = warped[..., :3] * np.float32(intensity)
    if coverage is not None:
        cov = coverage(box)
        if cov is not None:
            alpha = alpha * cov
            colour = colour * cov[..., None]
    if float(alpha.max(initial=0.0)) < 1.0 / 512:
        return frame
    if tint is not None:
        colour = colour * tint
    region = to_linear(np.ascontiguousarray(frame[y0:y1, x0:x1]))
    with step("composite"):
        region = region * (1.0 - alpha[..., None]) + colour
    encoded = to_srgb(region)
    with step("composite"):
        out = frame.copy()
        out[y0:y1, x0:x1] = encoded
    return out


def polygon_mask(points: NDArray[np.floating], box: Box) -> NDArray[np.float32]:
    """An anti-aliased filled polygon (frame pixels) over ``box``: ``(y1-y0, x1-x0)`` in [0, 1]."""
    x0, y0, x1, y1 = box
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    pts = fixed_points(np.asarray(points, np.float64)[:, :2] - [x0, y0])
    cv2.fillPoly(mask, [pts], 255, cv2.LINE_AA, shift=4)
    out: NDArray[np.float32] = mask.astype(np.float32) / np.float32(255.0)
    return out
