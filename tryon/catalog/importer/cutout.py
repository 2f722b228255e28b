"""A product photo → the product cut out (RGBA, cropped with a margin), its anchors, and for eyewear
its lens mask and lens colour. Pure computation: nothing is read or written here."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.catalog.importer import anchors as anc
from tryon.catalog.importer.alpha import extract, solve_alpha
from tryon.catalog.importer.matte import Matte, Segmentation
from tryon.catalog.schema import REQUIRED_ANCHORS, format_color
from tryon.errors import InputError

logger = logging.getLogger(__name__)

IMPORT_KINDS = ("glasses", "sunglasses", "earrings", "hat", "necklace")
"""Kinds a product photo can be imported as."""
MAX_SIDE = 2048
"""Photos are reduced to at most this many pixels on their longer side first."""
MARGIN = 0.04
"""The crop's margin around the product, as a share of its larger side."""
CLEAR_LENS = "#E8EEF2"
CLEAR_OPACITY = 0.08
DARK_OPACITY = 0.8
TINTED_OPACITY = 0.35


@dataclass(frozen=True)
class Cutout:
    """The product cut out of a photo; all coordinates in the cropped image's pixels."""

    kind: str
    rgba: NDArray[np.uint8]
    """``(h, w, 4)`` RGBA: the product's own colours, background removed from its edges."""
    anchors: dict[str, tuple[float, float]]
    box: tuple[int, int, int, int]
    """The crop in the (reduced) photo: x0, y0, x1, y1 (exclusive)."""
    scale: float
    """Photo pixels per cut-out pixel (> 1 when the photo was reduced to :data:`MAX_SIDE`)."""
    product_width: float
    """The opaque extent of the product, left to right, in cut-out pixels."""
    lenses: NDArray[np.uint8] | None = None
    """Eyewear: ``(h, w)`` the lens openings (255 inside)."""
    lens_color: str | None = None
    lens_opacity: float | None = None
    notes: list[str] = field(default_factory=list)
    """What was found, in words (for the command line)."""

    def to_photo(self, point: tuple[float, float]) -> tuple[float, float]:
        """A cut-out pixel position in the photo's pixels."""
        x, y = point
        return (x + self.box[0]) * self.scale, (y + self.box[1]) * self.scale


def _reduce(photo: NDArray[np.uint8]) -> tuple[NDArray[np.float32], float]:
    h, w = photo.shape[:2]
    scale = max(h, w) / MAX_SIDE
    image = photo
    if scale > 1:
        size = (round(w / scale), round(h / scale))
        image = np.asarray(cv2.resize(photo, size, interpolation=cv2.INTER_AREA), np.uint8)
    return image.astype(np.float32) / 255.0, max(scale, 1.0)


def _lens_look(seg: Segmentation, pair: anc.LensPair) -> tuple[str, float, str]:
    """The lens colour and opacity for the renderer (which tints what is behind the lens: the
    transmission is ``1 - opacity + opacity * colour``), and a word for it."""
    if pair.clear:
        return CLEAR_LENS, CLEAR_OPACITY, "clear"
    transmission = (seg.ratio[pair.right.label] + seg.ratio[pair.left.label]) / 2
    dark = float(transmission.mean()) < anc.DARK_LENS
    opacity = DARK_OPACITY if dark else TINTED_OPACITY
    tint = np.clip((transmission - (1.0 - opacity)) / opacity, 0.0, 1.0)
    r, g, b = (round(float(c) * 255) for c in tint)
    color = format_color((r, g, b))
    return color, opacity, "dark" if dark else "tinted"


def cut_out(photo: NDArray[np.uint8], kind: str) -> Cutout:
    """Separate the product from the background and find its anchors (see the package doc).

    :class:`InputError` saying why when the photo has no plain light background, no product, or
    (for the kind) not the parts its anchors need."""
    if kind not in IMPORT_KINDS:
        raise InputError(f"kind: expected one of {', '.join(IMPORT_KINDS)}, got {kind!r}")
    if photo.ndim != 3 or photo.shape[2] != 3 or photo.dtype != np.uint8:
        raise InputError(f"photo: expected an (H, W, 3) uint8 RGB array, got {photo.shape} {photo.dtype}")
    if min(photo.shape[:2]) < 32:
        raise InputError(f"photo: expected at least 32x32 pixels, got {photo.shape[1]}x{photo.shape[0]}")
    image, scale = _reduce(photo)
    seg, matte = extract(image)
    notes: list[str] = []
    lenses = None
    lens_color = lens_opacity = None
    if kind in ("glasses", "sunglasses"):
        pair = anc.find_lenses(seg, matte.alpha)
        inside = anc.lens_regions(seg, pair)
        if (inside & ~seg.is_bg).any():  # dark lenses: the frame's alpha against the lens colour
            matte = solve_alpha(seg, seg.is_bg | inside)
        lenses_full = anc.lens_mask(seg, pair, matte.alpha)
        points = anc.glasses_anchors(matte.alpha, pair)
        lens_color, lens_opacity, look = _lens_look(seg, pair)
        notes.append(f"lenses: {look} (colour {lens_color}, opacity {lens_opacity})")
        if (kind == "sunglasses") == (look == "clear"):
            logger.warning("imported as %s, but the lenses look %s", kind, look)
    elif kind == "earrings":
        points = anc.earring_anchors(matte.alpha)
    elif kind == "hat":
        points = anc.hat_anchors(matte.alpha, matte.color)
    else:
        points = anc.necklace_anchors(matte.alpha)
    missing = [a for a in REQUIRED_ANCHORS[kind] if a not in points]
    if missing:  # a guard: every branch above returns the kind's anchors
        raise InputError(f"expected the anchors {', '.join(missing)} for {kind}, found none")

    solid = matte.alpha > 0.5
    x0, y0, x1, y1 = anc.bounding_box(matte.alpha > 0.02)
    sx0, _, sx1, _ = anc.bounding_box(solid)
    margin = max(4, round(MARGIN * max(x1 - x0, y1 - y0)))
    h, w = matte.alpha.shape
    box = (max(0, x0 - margin), max(0, y0 - margin), min(w, x1 + margin), min(h, y1 + margin))
    bx0, by0, bx1, by1 = box
    rgba = _rgba(matte, box)
    if kind in ("glasses", "sunglasses"):
        lenses = np.ascontiguousarray(lenses_full[by0:by1, bx0:bx1])
    shifted = {name: (x - bx0, y - by0) for name, (x, y) in points.items()}
    for name, (x, y) in shifted.items():
        if not (0 <= x < bx1 - bx0 and 0 <= y < by1 - by0):
            raise InputError(f"anchor {name} at ({x:.0f}, {y:.0f}) fell outside the product's image")
    logger.info(
        "cut out a %s: %dx%d pixels from a %dx%d photo; anchors %s",
        kind,
        bx1 - bx0,
        by1 - by0,
        photo.shape[1],
        photo.shape[0],
        {k: (round(x, 1), round(y, 1)) for k, (x, y) in shifted.items()},
    )
    return Cutout(
        kind=kind,
        rgba=rgba,
        anchors=shifted,
        box=box,
        scale=scale,
        product_width=float(sx1 - sx0),
        lenses=lenses,
        lens_color=lens_color,
        lens_opacity=lens_opacity,
        notes=notes,
    )


def _rgba(matte: Matte, box: tuple[int, int, int, int]) -> NDArray[np.uint8]:
    x0, y0, x1, y1 = box
    alpha = matte.alpha[y0:y1, x0:x1]
    color = matte.color[y0:y1, x0:x1]
    color = np.where(alpha[..., None] > 0, color, 0.0)  # no colour where there is no product
    out = np.dstack([color, alpha])
    return np.ascontiguousarray(np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8))
