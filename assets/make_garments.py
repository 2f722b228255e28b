"""Writes the starter garments (tops, a dress, jackets), drawn procedurally by
tryon.art.garments (no outside images; the images are the project's own work, under its
Apache-2.0 licence): for each product a folder under assets/products/ with

- front.png: the first colourway, RGBA, full colour, seen from the front with the sleeves hanging;
- front-<colourway>.png: every other colourway, the same geometry, parts and anchors;
- parts.png: the part labels (0 outside, 1 body, 2 the wearer's left sleeve = image right,
  3 the wearer's right sleeve = image left);
- thumbnail.png: the first colourway on white, 256×256;
- product.json: the anchors (neck, shoulders, armpits, elbows on long sleeves, cuffs, waist,
  hems) and real width on ``front``, the fit, and the size chart (``sizes``).

    .venv/bin/python assets/make_garments.py [--root DIR] [ID ...]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tryon.art import products as art
from tryon.art.garments import GARMENT_STYLES_TABLE, draw_garment
from tryon.errors import CatalogError


class Garment(art.Listing):
    # size, body chest (or bust) cm, garment length cm[, body waist cm]
    sizes: list[tuple[str, float, float] | tuple[str, float, float, float]]
    draw: tuple[str, float, str]  # style, size factor, fit
    variants: list[tuple[str, str]]  # colourway, name


PNG_COMPRESSION = 9
QUANTUM = {"jersey": 2, "breton": 2, "satin": 2}
"""RGB is stored in steps of 2 levels for smooth fabrics, 4 for textured ones (knits, prints,
twills: the texture hides the steps), for files a fifth to a third smaller."""

PRODUCTS: list[Garment] = [
    {
        "id": "everyday-crew-tee",
        "name": "Everyday Crew Tee",
        "brand": "Loom & Line",
        "price": 19.0,
        "description": "A midweight cotton-jersey tee with a ribbed crew neck and twin-needle hems; "
        "regular fit.",
        "sizes": [("S", 96, 70), ("M", 104, 72), ("L", 112, 74), ("XL", 120, 76)],
        "tags": ["t-shirt", "basics", "cotton"],
        "draw": ("crew-tee", 1.0, "regular"),
        "variants": [("white", "White"), ("heather-grey", "Heather Grey"), ("navy", "Navy")],
    },
    {
        "id": "mariner-breton-top",
        "name": "Mariner Breton Top",
        "brand": "Loom & Line",
        "price": 39.0,
        "description": "Striped cotton jersey with a wide boat neck and long sleeves; slim fit.",
        "sizes": [("XS", 82, 64), ("S", 88, 65), ("M", 94, 66), ("L", 100, 67), ("XL", 106, 68)],
        "tags": ["stripes", "breton", "long sleeves"],
        "draw": ("breton-top", 1.0, "slim"),
        "variants": [("navy", "Navy Stripe"), ("red", "Red Stripe")],
    },
    {
        "id": "aran-cable-sweater",
        "name": "Aran Cable Sweater",
        "brand": "North Stitch",
        "price": 89.0,
        "description": "A chunky wool-blend Aran knit: a honeycomb panel between rope cables, with "
        "ribbed collar, cuffs and hem; loose fit.",
        "sizes": [("S", 108, 66), ("M", 116, 68), ("L", 124, 70), ("XL", 132, 72)],
        "tags": ["knitwear", "cable knit", "wool"],
        "draw": ("cable-sweater", 1.0, "loose"),
        "variants": [("oatmeal", "Oatmeal"), ("forest", "Forest Green")],
    },
    {
        "id": "timber-flannel-shirt",
        "name": "Timber Flannel Shirt",
        "brand": "Timberline Supply",
        "price": 49.0,
        "description": "Brushed cotton flannel in a tartan check: point collar, button front, two "
        "flap chest pockets cut on the bias, buttoned cuffs and a curved hem; regular fit.",
        "sizes": [("S", 100, 74), ("M", 108, 76), ("L", 116, 78), ("XL", 124, 80)],
        "tags": ["shirt", "flannel", "plaid"],
        "draw": ("flannel-shirt", 1.0, "regular"),
        "variants": [("red", "Red Tartan"), ("blue", "Blue Tartan")],
    },
    {
        "id": "garden-floral-wrap-dress",
        "name": "Garden Floral Wrap Dress",
        "brand": "Maison Fleur",
        "price": 79.0,
        "description": "A floral crêpe wrap dress with flutter sleeves, a V neck and a tie at the "
        "waist; the skirt flares to the knee.",
        "sizes": [
            ("XS", 80, 100, 62),
            ("S", 86, 101, 68),
            ("M", 92, 102, 74),
            ("L", 98, 103, 80),
            ("XL", 104, 104, 86),
        ],
        "tags": ["dress", "floral", "wrap"],
        "draw": ("wrap-dress", 1.0, "regular"),
        "variants": [("navy", "Midnight Garden"), ("blush", "Blush Garden")],
    },
    {
        "id": "classic-denim-jacket",
        "name": "Classic Denim Jacket",
        "brand": "Timberline Supply",
        "price": 89.0,
        "description": "A trucker jacket in 12 oz cotton denim: pointed yoke, flap chest pockets, "
        "metal shank buttons and gold topstitching; regular fit.",
        "sizes": [("S", 100, 60), ("M", 108, 62), ("L", 116, 64), ("XL", 124, 66)],
        "tags": ["jacket", "denim"],
        "draw": ("denim-jacket", 1.0, "regular"),
        "variants": [("mid-wash", "Mid Wash")],
    },
    {
        "id": "flight-bomber-jacket",
        "name": "Flight Bomber Jacket",
        "brand": "Hangar Nine",
        "price": 119.0,
        "description": "A lightly padded flight jacket in satin-finish nylon: ribbed collar, cuffs "
        "and hem with contrast tipping, a metal zip, slanted welt pockets and a sleeve pocket; "
        "loose fit.",
        "sizes": [("S", 108, 64), ("M", 116, 66), ("L", 124, 68), ("XL", 132, 70)],
        "tags": ["jacket", "bomber"],
        "draw": ("bomber-jacket", 1.0, "loose"),
        "variants": [("olive", "Olive")],
    },
    {
        "id": "holiday-fair-isle-pyjama-top-adult",
        "name": "Holiday Fair Isle Pyjama Top (Adult)",
        "brand": "Cosy Cabin",
        "price": 35.0,
        "description": "A soft cotton-knit pyjama top in a festive fair isle of reindeer, "
        "snowflakes and Christmas trees, with ribbed crew neck, cuffs and hem; regular fit. "
        "Matches the child's top.",
        "sizes": [("XS", 88, 66), ("S", 96, 68), ("M", 104, 70), ("L", 112, 72), ("XL", 120, 74)],
        "tags": ["pyjamas", "christmas", "fair isle", "matching family"],
        "draw": ("fair-isle-pyjama", 1.0, "regular"),
        "variants": [("red", "Red"), ("green", "Green")],
    },
    {
        "id": "holiday-fair-isle-pyjama-top-child",
        "name": "Holiday Fair Isle Pyjama Top (Child)",
        "brand": "Cosy Cabin",
        "price": 25.0,
        "description": "The child's pyjama top matching the adult's: the same fair isle of "
        "reindeer, snowflakes and Christmas trees (shown: 6-8 years); regular fit.",
        "sizes": [("4-5y", 62, 42), ("6-8y", 68, 45), ("9-11y", 76, 50), ("12-13y", 82, 55)],
        "tags": ["pyjamas", "christmas", "fair isle", "matching family", "kids"],
        "draw": ("fair-isle-pyjama", 0.65, "regular"),
        "variants": [("red", "Red"), ("green", "Green")],
    },
]


def size_row(size: str, chest: float, length: float, waist: float | None = None) -> dict[str, Any]:
    """A size chart row: body chest (or bust) and waist, garment length, in cm."""
    row: dict[str, Any] = {"id": size, "chest_cm": chest, "length_cm": length}
    if waist is not None:
        row["waist_cm"] = waist
    return row


def draw_product(spec: Garment, folder: Path) -> dict[str, Any]:
    style, size, fit = spec["draw"]
    cut = GARMENT_STYLES_TABLE[style]
    assets: dict[str, Any] = {}
    variants = []
    first: tuple[NDArray[np.uint8], dict[str, tuple[float, float]], float] | None = None
    for i, (vid, name) in enumerate(spec["variants"]):
        rgba, parts, anchors, width_mm = draw_garment(style, vid, size, fit)
        if first is None:
            first = (parts, anchors, width_mm)
            art.write_png(folder / "parts.png", parts, PNG_COMPRESSION)
            art.write_png(folder / "thumbnail.png", art.thumbnail_on_white(rgba, fill=0.9), PNG_COMPRESSION)
        elif not (np.array_equal(first[0], parts) and first[1] == anchors and first[2] == width_mm):
            raise CatalogError(f"{spec['id']}: colourway {vid!r} does not match the first one's geometry")
        asset = "front" if i == 0 else f"front-{vid}"
        front = art.quantise(rgba, QUANTUM.get(cut.fabric, 4))
        art.write_png(folder / f"{asset}.png", front, PNG_COMPRESSION)
        assets[asset] = art.image_asset(
            f"{asset}.png", dict(sorted(anchors.items())), width_mm, width_digits=3
        )
        variants.append({"id": vid, "name": name, **({"asset": asset} if i else {})})
    assets["parts"] = art.image_asset("parts.png")
    assets["thumbnail"] = art.image_asset("thumbnail.png")
    return art.product_document(
        spec,
        kind=cut.kind,
        sizes=[size_row(*row) for row in spec["sizes"]],
        params={"fit": fit},
        variants=variants,
        assets=assets,
    )


if __name__ == "__main__":
    raise SystemExit(art.main(PRODUCTS, draw_product, doc=__doc__))
