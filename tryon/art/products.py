"""Writing the starter products: what every ``assets/make_*.py`` script shares.

A script is a table of products (each a :class:`Listing` with its own drawing fields) and a
function ``draw_product(spec, folder)`` that draws the product's images into ``folder`` (with
:func:`write_png`, :func:`thumbnail_on_white`) and returns its ``product.json`` document (with
:func:`product_document`, :func:`image_asset`). :func:`make_products` runs it over the table,
writes each ``product.json`` and checks the result loads as a catalog; :func:`main` is the
scripts' command line (``--root`` writes elsewhere than the repository's ``assets/``, ids pick
products).

Everything here is deterministic: the same code writes the same bytes, which
``tests/test_art_assets.py`` checks against the committed ``assets/products/``.
"""

from __future__ import annotations

import argparse
import functools
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, TypedDict, TypeVar

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.art.base import hex_rgb
from tryon.catalog import check_products, write_product
from tryon.errors import MediaError, UnknownProductError

ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets"
"""The repository's ``assets/`` folder: the scripts' default catalog root."""
PRODUCTS_DIR = "products"
SHOP = "https://shop.example.com"
CURRENCY = "EUR"


class Listing(TypedDict):
    """What the shop says of a product: the ``product.json`` fields a product table gives."""

    id: str
    name: str
    brand: str
    price: float
    description: str
    tags: list[str]


S = TypeVar("S", bound=Listing)
DrawProduct = Callable[[S, Path], dict[str, Any]]
"""``(spec, folder) → product.json document``, having written the product's images in ``folder``."""


# -- images ---------------------------------------------------------------------------------------


def write_png(path: Path, image: NDArray[np.uint8], compression: int | None = None) -> Path:
    """Write an RGB, RGBA or single-channel ``image`` as a PNG; ``compression`` 0-9 (``None``:
    OpenCV's default). :class:`MediaError` if OpenCV cannot write it."""
    pixels: NDArray[np.integer[Any] | np.floating[Any]] = image
    if image.ndim == 3 and image.shape[2] == 4:
        pixels = cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA)
    elif image.ndim == 3:
        pixels = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    params = [] if compression is None else [cv2.IMWRITE_PNG_COMPRESSION, compression]
    if not cv2.imwrite(str(path), pixels, params):
        raise MediaError(f"cannot write {path}")
    return path


def thumbnail_on_white(
    rgba: NDArray[np.uint8], size: int = 256, fill: float = 0.84, colour: str | None = None
) -> NDArray[np.uint8]:
    """An RGB ``size`` × ``size`` picture of the drawn part of ``rgba`` on white, its longer side
    ``fill`` of the picture, blended in linear light; ``colour`` (``"#RRGGBB"``) multiplies the
    RGB first, as the renderer tints a shading sprite."""
    image = rgba.astype(np.float32) / 255.0
    rgb, alpha = image[..., :3] ** 2.2, image[..., 3:]
    if colour is not None:
        rgb = rgb * hex_rgb(colour) ** 2.2
    canvas = (rgb * alpha + (1.0 - alpha)) ** (1 / 2.2)
    ys, xs = np.nonzero(alpha[..., 0] > 0.02)
    crop = canvas[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    h, w = crop.shape[:2]
    k = (size * fill) / max(h, w)
    small = cv2.resize(crop, (max(1, round(w * k)), max(1, round(h * k))), interpolation=cv2.INTER_AREA)
    out = np.ones((size, size, 3), np.float32)
    y0, x0 = (size - small.shape[0]) // 2, (size - small.shape[1]) // 2
    out[y0 : y0 + small.shape[0], x0 : x0 + small.shape[1]] = small
    return np.round(np.clip(out, 0, 1) * 255).astype(np.uint8)


def quantise(rgba: NDArray[np.uint8], step: int) -> NDArray[np.uint8]:
    """``rgba`` with its RGB in steps of ``step`` levels (the middle of each step), and RGBA 0
    where alpha is 0: smaller PNGs where a texture hides the steps."""
    out = rgba.copy()
    rgb = out[..., :3].astype(np.int32)
    out[..., :3] = np.minimum(rgb // step * step + step // 2, 255).astype(np.uint8)
    out[out[..., 3] == 0] = 0
    return out


# -- product.json ---------------------------------------------------------------------------------


def image_asset(
    file: str,
    anchors: Mapping[str, tuple[float, float]] | None = None,
    width_mm: float | None = None,
    digits: int = 2,
    width_digits: int | None = None,
) -> dict[str, Any]:
    """A ``product.json`` asset entry: the file, its anchors (pixels, rounded to ``digits``, in
    the mapping's order) and, if given, its real width (rounded to ``width_digits``, default
    ``digits``)."""
    entry: dict[str, Any] = {
        "file": file,
        "anchors": {k: [round(x, digits), round(y, digits)] for k, (x, y) in (anchors or {}).items()},
    }
    if width_mm is not None:
        entry["size_mm"] = {"width": round(width_mm, digits if width_digits is None else width_digits)}
    return entry


@functools.cache
def product_names() -> dict[str, dict[str, Any]]:
    """``assets/product_names.json``: per product id, its ``names`` (fr, zh) and ``synonyms``."""
    path = ASSETS_DIR / "product_names.json"
    if not path.is_file():
        return {}
    data: dict[str, dict[str, Any]] = json.loads(path.read_text())
    return data


def product_document(
    listing: Listing,
    *,
    kind: str,
    variants: Sequence[Mapping[str, Any]],
    assets: Mapping[str, Any],
    section: str | None = None,
    sizes: Sequence[Mapping[str, Any]] | None = None,
    params: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``product.json`` document: the listing's fields, ``kind``, the price in EUR, the shop
    link ``SHOP/<section>/<id>`` (``section`` defaults to ``kind``), then ``sizes`` and ``params``
    where given (an empty ``params`` is written), the variants and the assets."""
    pid = listing["id"]
    doc: dict[str, Any] = {"id": pid, "name": listing["name"]}
    # The product's names in other languages and the words viewers use for it: one data file for
    # every product, kept by translators (assets/product_names.json).
    doc.update(product_names().get(pid, {}))
    doc.update(
        {
            "brand": listing["brand"],
            "kind": kind,
            "price": listing["price"],
            "currency": CURRENCY,
            "buy_url": f"{SHOP}/{section or kind}/{pid}",
            "description": listing["description"],
            "tags": list(listing["tags"]),
        }
    )
    if sizes is not None:
        doc["sizes"] = [dict(row) for row in sizes]
    if params is not None:
        doc["params"] = dict(params)
    doc["variants"] = [dict(v) for v in variants]
    doc["assets"] = dict(assets)
    return doc


# -- the scripts ----------------------------------------------------------------------------------


def product_folder(root: Path, product_id: str, clean: bool = False) -> Path:
    """``root/products/<id>/``, made if missing; ``clean``: its PNGs removed first (a product
    whose colourways changed leaves no stale image)."""
    folder = Path(root) / PRODUCTS_DIR / product_id
    folder.mkdir(parents=True, exist_ok=True)
    if clean:
        for old in folder.glob("*.png"):
            old.unlink()
    return folder


def make_products(
    products: Sequence[S],
    draw_product: DrawProduct[S],
    root: Path = ASSETS_DIR,
    only: Collection[str] | None = None,
) -> list[Path]:
    """Draw every product of ``products`` (those with an id in ``only``, if given) into
    ``root/products/<id>/`` (its old PNGs removed first), write its ``product.json``, then check
    that they load as a catalog from ``root`` (:class:`~tryon.errors.CatalogError` listing what
    does not); the product folders."""
    if only is not None:
        unknown = sorted(set(only) - {p["id"] for p in products})
        if unknown:
            raise UnknownProductError(f"no such product here: {', '.join(unknown)}")
    chosen = [p for p in products if only is None or p["id"] in only]
    folders = []
    for spec in chosen:
        folder = product_folder(root, spec["id"], clean=True)
        write_product(folder, draw_product(spec, folder))
        folders.append(folder)
    check_products((p["id"] for p in chosen), root)
    return folders


def main(
    products: Sequence[S],
    draw_product: DrawProduct[S],
    argv: Sequence[str] | None = None,
    doc: str | None = None,
) -> int:
    """The command line of an ``assets/make_*.py`` script (``doc``: its description)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--root",
        type=Path,
        default=ASSETS_DIR,
        help="catalog root: the products go to ROOT/products/<id>/ (default: the repository's assets/)",
    )
    parser.add_argument("ids", nargs="*", help="only these products (default: all of the script's)")
    args = parser.parse_args(argv)
    try:
        make_products(products, draw_product, args.root, args.ids or None)
    except UnknownProductError as exc:
        parser.error(str(exc))
    return 0
