"""Writes the starter watches and bracelets (drawn procedurally by tryon.art.wrist, no outside
images): for each product a folder under assets/products/ with its flat lays, thumbnail.png (the
first variant, a watch upright or a bracelet closed in a ring, on white) and product.json with the
band's anchors and real width. A watch has one image per colourway (front.png for the first,
front-<variant>.png for the others), which its variants name; a bracelet one shading image that
its variants' metal or stone colours tint.

    .venv/bin/python assets/make_wrist.py [--root DIR] [ID ...]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tryon.art import products as art
from tryon.art.wrist import draw_bracelet, draw_watch, product_shot
from tryon.render.sprite import Sprite


class Wristwear(art.Listing):
    kind: str  # watch | bracelet
    style: str  # a tryon.art.wrist watch or bracelet style
    variants: list[tuple[str, str, str]]  # id (a watch's: its colourway), name, colour


METALS = [
    ("yellow-gold", "Yellow Gold", "#D9B15A"),
    ("silver", "Silver", "#CDD0D6"),
    ("rose-gold", "Rose Gold", "#D89C86"),
]

PRODUCTS: list[Wristwear] = [
    {
        "id": "tidewater-steel-diver",
        "name": "Tidewater Steel Diver",
        "brand": "Meridian & Co",
        "kind": "watch",
        "price": 349.0,
        "description": "A 42 mm steel diver: a turning bezel, luminous indices and a three-row bracelet.",
        "tags": ["diver", "steel", "sport"],
        "style": "diver",
        "variants": [
            ("black", "Black Dial", "#15171B"),
            ("blue", "Blue Dial", "#1B3A78"),
            ("green", "Green Dial", "#1E4A36"),
        ],
    },
    {
        "id": "meridian-dress-watch",
        "name": "Meridian Dress Watch",
        "brand": "Meridian & Co",
        "kind": "watch",
        "price": 279.0,
        "description": "A slim 38 mm dress watch with baton indices on a stitched leather strap.",
        "tags": ["dress", "leather", "classic"],
        "style": "dress",
        "variants": [
            ("yellow-gold", "Gold & Brown Leather", "#D9B15A"),
            ("rose-gold", "Rose Gold & Burgundy", "#D89C86"),
            ("steel", "Steel & Black Leather", "#C9CDD3"),
        ],
    },
    {
        "id": "pulse-smart-watch",
        "name": "Pulse Smart Watch",
        "brand": "Northlight",
        "kind": "watch",
        "price": 229.0,
        "description": "A 44 mm smart watch with an always-on screen and a soft sport band.",
        "tags": ["smart", "sport", "fitness"],
        "style": "smart",
        "variants": [
            ("midnight", "Midnight", "#1E2026"),
            ("starlight", "Starlight", "#CDBA98"),
            ("sage", "Sage", "#8FA58C"),
        ],
    },
    {
        "id": "halo-polished-bangle",
        "name": "Halo Polished Bangle",
        "brand": "Maison Halo",
        "kind": "bracelet",
        "price": 89.0,
        "description": "A 6 mm polished bangle with two fine engraved lines; 62 mm across.",
        "tags": ["bangle", "polished"],
        "style": "bangle",
        "variants": METALS,
    },
    {
        "id": "riverstone-beaded-bracelet",
        "name": "Riverstone Beaded Bracelet",
        "brand": "Oro Studio",
        "kind": "bracelet",
        "price": 45.0,
        "description": "8 mm polished stone beads on a stretch cord.",
        "tags": ["beads", "stone", "stretch"],
        "style": "beaded",
        "variants": [
            ("onyx", "Onyx", "#2A2A2E"),
            ("rose-quartz", "Rose Quartz", "#E8B4BC"),
            ("lapis", "Lapis", "#2F4F95"),
            ("tiger-eye", "Tiger Eye", "#A8702A"),
        ],
    },
    {
        "id": "keepsake-charm-bracelet",
        "name": "Keepsake Charm Bracelet",
        "brand": "Maison Halo",
        "kind": "bracelet",
        "price": 79.0,
        "description": "A fine curb chain with a star, a heart and a disc charm.",
        "tags": ["charms", "chain"],
        "style": "charm-chain",
        "variants": METALS[1::-1],
    },
]


def front_asset(sprite: Sprite, file: str) -> dict[str, Any]:
    return art.image_asset(file, dict(sorted(sprite.anchors.items())), sprite.width_mm)


def draw_product(spec: Wristwear, folder: Path) -> dict[str, Any]:
    variants = [{"id": vid, "name": name, "color": color} for vid, name, color in spec["variants"]]
    assets: dict[str, Any] = {}
    if spec["kind"] == "watch":  # one image per colourway (the variant's id), named by the variant
        sprites = [draw_watch(spec["style"], v["id"]) for v in variants]
        for i, (variant, sprite) in enumerate(zip(variants, sprites, strict=True)):
            variant["asset"] = name = "front" if i == 0 else f"front-{variant['id']}"
            art.write_png(folder / f"{name}.png", sprite.rgba)
            assets[name] = front_asset(sprite, f"{name}.png")
        thumb = art.thumbnail_on_white(product_shot(sprites[0]))
    else:  # one shading image, tinted by the variant's colour
        sprite = draw_bracelet(spec["style"])
        art.write_png(folder / "front.png", sprite.rgba)
        assets["front"] = front_asset(sprite, "front.png")
        thumb = art.thumbnail_on_white(product_shot(sprite), colour=spec["variants"][0][2])
    art.write_png(folder / "thumbnail.png", thumb)
    assets["thumbnail"] = art.image_asset("thumbnail.png")
    return art.product_document(spec, kind=spec["kind"], params={}, variants=variants, assets=assets)


if __name__ == "__main__":
    raise SystemExit(art.main(PRODUCTS, draw_product, doc=__doc__))
