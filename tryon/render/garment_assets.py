"""Garment assets: a flat lay split into its parts (body, sleeves), read-only and cached, and the
product's fit. What :mod:`tryon.render.garments` warps onto a body.

Besides the pieces, an asset knows what the fitting needs of its own shape, measured once: the
body's left and right edge on every row (:attr:`GarmentAsset.body_edges`), each sleeve piece's
width across its axis (:meth:`GarmentAsset.sleeve_width`), and its front neckline's centre
(:meth:`GarmentAsset.front_neck`: an anchor, the step from the shaded inside of the back to
the front on the flat lay, or an estimate).
"""

from __future__ import annotations

import functools
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
SPILL = {"slim": 0.03, "regular": 0.06, "loose": 0.12}
"""How far past the person's silhouette the garment may reach, in shoulder widths."""
FRONT_NECK_DROP = 0.12
"""The front neckline's centre below the ``neck`` anchor (the neck-shoulder points' line), in
garment shoulder-seam widths, when the asset gives no ``front_neck`` anchor and its flat lay does
not show one: between a boat neck (about 0.06) and a crew neck (about 0.15)."""
NECK_STEP = 1.18
"""How much lighter the front is than the inside of the back seen above it, at the neckline."""


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

    def front_neck(self) -> NDArray[np.float64]:
        """The front neckline's centre (garment pixels): the ``front_neck`` anchor; or where,
        below ``neck``, the flat lay turns from the inside of the back (in shadow) to the front;
        or an estimate :data:`FRONT_NECK_DROP` seam widths below ``neck``."""
        if "front_neck" in self.anchors:
            return self.point("front_neck")
        neck = self.point("neck")
        if self._neckline is not None:
            return np.array([neck[0], self._neckline])
        seams = float(np.linalg.norm(self.point("left_shoulder") - self.point("right_shoulder")))
        out: NDArray[np.float64] = neck + np.array([0.0, FRONT_NECK_DROP * seams])
        return out

    @functools.cached_property
    def _neckline(self) -> float | None:
        """The garment row where, on both sides of the centre (off the label), the body turns
        from the shaded inside of the back to a front :data:`NECK_STEP` times as light, between
        0.04 and 0.25 seam widths below ``neck``; ``None`` if the two sides do not agree."""
        rgba = self.body.sprite.rgba
        ox, oy = self.body.offset
        neck = self.point("neck")
        seams = float(np.linalg.norm(self.point("left_shoulder") - self.point("right_shoulder")))
        luma = rgba[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        window = max(2, round(0.03 * seams))
        found = []
        for dx in (-0.07, 0.07):
            x = round(float(neck[0]) + dx * seams) - ox
            if not 2 <= x < rgba.shape[1] - 2:
                return None
            column, opaque = luma[:, x - 2 : x + 3].mean(axis=1), rgba[:, x, 3] >= 128
            top = int(np.argmax(opaque))
            start = max(top + window, round(float(neck[1]) + 0.04 * seams) - oy)
            stop = min(round(float(neck[1]) + 0.25 * seams) - oy, len(column) - window)
            rows = [
                y
                for y in range(start, stop)
                if opaque[y : y + window].all()
                and np.median(column[y : y + window]) >= NECK_STEP * np.median(column[top:y])
            ]
            if not rows:
                return None
            found.append(rows[0] + oy)
        if abs(found[0] - found[1]) > 0.03 * seams:
            return None
        return float(max(found))

    @functools.cached_property
    def body_edges(self) -> tuple[int, NDArray[np.float64], NDArray[np.float64]]:
        """``(v0, lo, hi)``: garment row ``v0 + i`` of the body spans garment columns
        ``lo[i]..hi[i]`` (alpha at least half; NaN on rows without any)."""
        alpha = self.body.sprite.rgba[..., 3] >= 128
        rows = alpha.any(axis=1)
        w = alpha.shape[1]
        lo = np.where(rows, alpha.argmax(axis=1), np.nan).astype(np.float64) + self.body.offset[0]
        hi = np.where(rows, w - 1 - alpha[:, ::-1].argmax(axis=1), np.nan).astype(np.float64)
        hi += self.body.offset[0]
        lo.setflags(write=False)
        hi.setflags(write=False)
        return self.body.offset[1], lo, hi

    def half_widths(self, v: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The body's half widths on garment rows ``v`` either side of its centre line (the
        ``neck`` anchor's column): ``(right, left)``, the wearer's right (the image's left) first;
        rows outside the body take the nearest row's."""
        v0, lo, hi = self.body_edges
        seen = np.flatnonzero(np.isfinite(lo))
        i = np.clip(np.round(np.asarray(v) - v0).astype(int), seen[0], seen[-1])
        i = seen[np.clip(np.searchsorted(seen, i), 0, len(seen) - 1)]
        c = float(self.point("neck")[0])
        return np.maximum(c - lo[i], 1.0), np.maximum(hi[i] - c, 1.0)

    @functools.cached_property
    def _sleeve_widths(self) -> dict[tuple[int, int], float]:
        out = {}
        for side, prefix in ((+1, "left"), (-1, "right")):
            names = ("root", "elbow", "cuff") if self.long_sleeves else ("root", "cuff")
            pts = [self.point(f"{prefix}_{k}") for k in names]
            for i, piece in enumerate(self.sleeves.get(side, [])):
                out[side, i] = _width_across(piece, pts[i], pts[i + 1])
        return out

    def sleeve_width(self, side: int, index: int) -> float:
        """Sleeve piece ``index`` of ``side``: its width (garment pixels) across the axis between
        its anchors, at the middle of that axis."""
        return self._sleeve_widths.get((side, index), 0.0)

    @property
    def nbytes(self) -> int:
        """Bytes held by the pieces' images and pyramids (computed now if they were not yet)."""
        pieces = [self.body, *(p for side in self.sleeves.values() for p in side)]
        return sum(p.sprite.nbytes for p in pieces)


def _width_across(piece: Piece, a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    """The piece's opaque width across ``a→b`` (garment pixels) through the segment's middle."""
    d = (b - a) / max(float(np.linalg.norm(b - a)), 1e-9)
    n = np.array([-d[1], d[0]])
    mid = (a + b) / 2 - np.asarray(piece.offset, np.float64)
    reach = float(max(piece.sprite.rgba.shape[:2]))
    t = np.arange(-reach, reach + 1.0)
    xy = np.round(mid + t[:, None] * n).astype(int)
    h, w = piece.sprite.rgba.shape[:2]
    ok = (xy[:, 0] >= 0) & (xy[:, 0] < w) & (xy[:, 1] >= 0) & (xy[:, 1] < h)
    alpha = np.zeros(len(t), bool)
    alpha[ok] = piece.sprite.rgba[xy[ok, 1], xy[ok, 0], 3] >= 128
    return float(alpha.sum())


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
