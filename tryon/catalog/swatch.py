"""Every variant's swatch (``GET /api/catalog``): the colour a shopper picks it by, or where the
catalog gives none, the dominant colour of the variant's own image, read once and cached.

- A tinted lens (glasses or sunglasses whose variant gives a lens colour at an opacity of at least
  :data:`TINTED`) is what sunglasses are picked by: the swatch is the lens colour. A clear lens's
  is the frame's ``color``.
- A variant with a ``color``: that colour.
- Otherwise (garments, imported products): the median of the opaque pixels of the variant's image
  (its ``asset``, else ``front``). Where two variants of a product come out the same (a Breton top's
  cream ground in navy and in red stripes), the median of each one's pixels away from that shared
  colour (the stripes). Where that fails too, or no colour can be read, the image's URL.
"""

from __future__ import annotations

import functools
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.catalog.schema import LENS_KINDS, Asset, Product, Variant, format_color, parse_color
from tryon.media.png import without_noisy_chunks

TINTED = 0.5
"""A lens at this opacity or more is tinted: its colour is the variant's swatch."""
OPAQUE = 128
"""Alpha from which a pixel counts as the product's own (not background)."""
APART = 48.0
"""RGB distance from a shared colour beyond which a pixel tells two colourways apart."""


def product_swatches(product: Product) -> dict[str, str]:
    """Each variant's swatch by variant id: ``"#RRGGBB"`` or ``/api/products/<id>/assets/<name>``."""
    out: dict[str, str] = {}
    read: dict[str, Asset] = {}
    for v in product.variants:
        given = given_colour(product, v)
        if given is not None:
            out[v.id] = given
            continue
        asset = product.assets.get(v.asset or "front") or product.assets.get("thumbnail")
        if asset is None:
            out[v.id] = "#FFFFFF"
            continue
        read[v.id] = asset
        out[v.id] = dominant_colour(asset.path, _stamp(asset.path)) or asset_url(product, asset)
    first = dict(out)
    for vid, asset in read.items():
        shared = first[vid]
        if shared.startswith("#") and sum(s == shared for s in first.values()) > 1:
            apart = dominant_colour(asset.path, _stamp(asset.path), shared)
            out[vid] = apart if apart is not None and apart not in out.values() else asset_url(product, asset)
    return out


def given_colour(product: Product, variant: Variant) -> str | None:
    """The swatch the catalog's data gives: a tinted lens's colour, else the variant's colour."""
    if product.kind in LENS_KINDS and variant.lens_color is not None and (variant.opacity or 0.0) >= TINTED:
        return variant.lens_color
    return variant.color


def asset_url(product: Product, asset: Asset) -> str:
    return f"/api/products/{product.id}/assets/{asset.name}"


def _stamp(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


@functools.lru_cache(maxsize=1024)
def dominant_colour(path: Path, mtime_ns: int = 0, away_from: str | None = None) -> str | None:
    """The median colour of the image's opaque pixels (all of them without alpha), those farther
    than :data:`APART` from ``away_from`` if given; ``None`` if unreadable or none are left.
    Cached by path and modification time."""
    pixels = _opaque_pixels(path)
    if pixels is None:
        return None
    if away_from is not None:
        ref = np.array(parse_color(away_from)[::-1], np.float32)  # BGR, as OpenCV reads
        pixels = pixels[np.linalg.norm(pixels.astype(np.float32) - ref, axis=1) > APART]
    if len(pixels) < 16:
        return None
    b, g, r = (int(v) for v in np.median(pixels, axis=0))
    return format_color((r, g, b))


def _opaque_pixels(path: Path) -> NDArray[np.uint8] | None:
    try:
        data = without_noisy_chunks(path.read_bytes())
    except OSError:
        return None
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None or image.ndim != 3 or image.shape[2] not in (3, 4):
        return None
    step = max(1, max(image.shape[:2]) // 256)  # a few tens of thousands of pixels are plenty
    image = image[::step, ::step]
    if image.shape[2] == 3:
        return np.asarray(image.reshape(-1, 3), np.uint8)
    return np.asarray(image[image[..., 3] >= OPAQUE][:, :3], np.uint8)
