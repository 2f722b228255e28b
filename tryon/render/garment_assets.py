"""Garment assets: a flat lay split into its parts (body, sleeves), read-only and cached, and the
product's fit. What :mod:`tryon.render.garments` warps onto a body."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tryon.catalog.schema import Product, Variant
from tryon.errors import InputError
from tryon.media.assets import read_mask, read_rgba
from tryon.render.asset_cache import asset_cache
from tryon.render.sprite import Sprite

FIT = {"slim": 1.0, "regular": 1.06, "loose": 1.14}
"""Garment width over the body's, by fit."""


@dataclass(frozen=True)
class GarmentParams:
    fit: str = "regular"
    intensity: float = 1.0
    shading: float = 0.85
    """How much of the person's light the garment takes (0: flat)."""

    def __post_init__(self) -> None:
        if self.fit not in FIT:
            raise InputError(f"garment fit: expected one of {', '.join(FIT)}, got {self.fit!r}")
        if not 0.0 <= self.intensity <= 1.0:
            raise InputError(f"intensity: expected a number in [0, 1], got {self.intensity!r}")


@dataclass(frozen=True)
class Piece:
    """One warped part of the garment, cropped to what it covers: ``sprite`` pixel ``(u, v)`` is
    garment pixel ``(u + offset[0], v + offset[1])``."""

    sprite: Sprite
    offset: tuple[int, int]

    def matrix(self, m: NDArray[np.float64]) -> NDArray[np.float64]:
        """``m`` (garment → frame) for this piece's own pixels."""
        shift = np.array([[1.0, 0.0, self.offset[0]], [0.0, 1.0, self.offset[1]], [0.0, 0.0, 1.0]])
        out: NDArray[np.float64] = m @ shift
        return out


@dataclass(frozen=True)
class GarmentAsset:
    body: Piece
    sleeves: dict[int, list[Piece]]
    """Per side (+1: the wearer's left, the image's right; -1: their right), upper then lower."""
    anchors: dict[str, tuple[float, float]]
    width_mm: float

    def point(self, name: str) -> NDArray[np.float64]:
        if name.endswith("root"):
            side = name.split("_")[0]
            return (self.point(f"{side}_shoulder") + self.point(f"{side}_armpit")) / 2
        try:
            return np.asarray(self.anchors[name], np.float64)
        except KeyError:
            raise InputError(
                f"garment: expected an anchor {name!r}, got {', '.join(sorted(self.anchors))}"
            ) from None

    @property
    def long_sleeves(self) -> bool:
        return "left_elbow" in self.anchors and "right_elbow" in self.anchors

    @property
    def nbytes(self) -> int:
        """Bytes held by the pieces' images and pyramids (computed now if they were not yet)."""
        pieces = [self.body, *(p for side in self.sleeves.values() for p in side)]
        return sum(p.sprite.nbytes for p in pieces)


def _part(
    rgba: NDArray[np.uint8],
    keep: NDArray[np.bool_],
    anchors: dict[str, tuple[float, float]],
    mm: float,
    name: str,
) -> Piece:
    ys, xs = np.nonzero(keep & (rgba[..., 3] > 0))
    if len(xs) == 0:
        raise InputError(f"garment {name}: expected some pixels of it in the parts image, got none")
    x0, y0 = max(int(xs.min()) - 2, 0), max(int(ys.min()) - 2, 0)
    x1, y1 = int(xs.max()) + 3, int(ys.max()) + 3
    out = rgba[y0:y1, x0:x1].copy()
    inside = keep[y0:y1, x0:x1]
    out[..., 3] = np.where(inside, out[..., 3], 0)
    out[~inside, :3] = 0
    out.setflags(write=False)  # a piece is shared by every session drawing the garment
    width = mm * out.shape[1] / rgba.shape[1]
    return Piece(Sprite(out, {}, width, name), (x0, y0))  # the anchors are the asset's


def split_garment(
    rgba: NDArray[np.uint8],
    parts: NDArray[np.uint8],
    anchors: dict[str, tuple[float, float]],
    width_mm: float,
) -> GarmentAsset:
    """The flat lay cut into its warped pieces: the body, and each sleeve (cut at the elbow)."""
    if parts.shape != rgba.shape[:2]:
        raise InputError(f"garment parts: expected {rgba.shape[:2]} like the image, got {parts.shape}")
    body = _part(rgba, parts == 1, anchors, width_mm, "garment body")
    asset = GarmentAsset(body, {}, dict(anchors), width_mm)
    h, w = parts.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    for side, label, prefix in ((+1, 2, "left"), (-1, 3, "right")):
        sleeve = parts == label
        if asset.long_sleeves:
            root, elbow, cuff = (asset.point(f"{prefix}_{k}") for k in ("root", "elbow", "cuff"))
            d1, d2 = elbow - root, cuff - elbow
            bisector = d1 / np.linalg.norm(d1) + d2 / np.linalg.norm(d2)
            lower = (xx - elbow[0]) * bisector[0] + (yy - elbow[1]) * bisector[1] > 0
            pieces = [
                _part(rgba, sleeve & ~lower, anchors, width_mm, f"{prefix} upper sleeve"),
                _part(rgba, sleeve & lower, anchors, width_mm, f"{prefix} lower sleeve"),
            ]
        else:
            pieces = [_part(rgba, sleeve, anchors, width_mm, f"{prefix} sleeve")]
        asset.sleeves[side] = pieces
    return asset


# -- loading -------------------------------------------------------------------------------------------


def load_garment(
    front: str, parts: str, anchors: tuple[tuple[str, float, float], ...], width_mm: float
) -> GarmentAsset:
    """The flat lay and part labels at these paths, split, read-only, the pyramids computed (not
    cached: :func:`garment_asset` is)."""
    rgba = read_rgba(front)
    labels = read_mask(parts, "a PNG of part labels (0 none, 1 body, 2 left sleeve, 3 right)", labels=True)
    asset = split_garment(rgba, labels, {k: (x, y) for k, x, y in anchors}, width_mm)
    asset.nbytes  # noqa: B018 -- the pyramids now, so the cache counts their bytes
    return asset


def garment_asset(product: Product, variant: Variant | None = None) -> GarmentAsset:
    """The garment of this colourway (its own image when the variant names one), through the
    asset cache."""
    front = product.assets.get("front")
    parts = product.assets.get("parts")
    if front is None or parts is None:
        raise InputError(f"product {product.id!r}: expected 'front' and 'parts' assets for {product.kind}")
    image = front
    if variant is not None and variant.asset is not None:
        image = product.assets[variant.asset]
    anchors = tuple(sorted((k, x, y) for k, (x, y) in front.anchors.items()))
    width = front.size_mm.get("width")
    if width is None:
        raise InputError(
            f"product {product.id!r}: assets.front.size_mm.width: expected the image's width in mm, got none"
        )
    args = (str(image.path), str(parts.path), anchors, float(width))
    return asset_cache().get_or_load(("garment", *args), lambda: load_garment(*args))


def garment_params(product: Product, intensity: float = 1.0) -> GarmentParams:
    return GarmentParams(fit=str(product.params.get("fit", "regular")), intensity=intensity)
