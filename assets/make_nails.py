"""Writes the starter nail polishes (drawn procedurally by tryon.art.nails, no outside images): for
each product a folder under assets/products/ with thumbnail.png (the first shade: a bottle and a
painted nail) and product.json. Nails need no anchors: the renderer places the polish from the
hand landmarks.

    .venv/bin/python assets/make_nails.py [--root DIR] [ID ...]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tryon.art import products as art
from tryon.art.nails import draw_swatch
from tryon.catalog import parse_color
from tryon.render.finish import seed_of

BRAND = "Lacquer Lab"


class Polish(art.Listing):
    # id, name, colour, finish[, shimmer colour]
    variants: list[tuple[str, str, str, str] | tuple[str, str, str, str, str]]


PRODUCTS: list[Polish] = [
    {
        "id": "lacquer-lab-cream-polish",
        "name": "Cream Nail Lacquer",
        "brand": BRAND,
        "price": 12.0,
        "description": "A full-coverage cream lacquer: opaque in two coats, with a soft shine.",
        "tags": ["cream", "opaque", "classic"],
        "variants": [
            ("cherry-red", "Cherry Red", "#B0122B", "cream"),
            ("ballet-slipper", "Ballet Slipper", "#E8B9B5", "cream"),
            ("nude-beige", "Nude Beige", "#C99C86", "cream"),
            ("berry-wine", "Berry Wine", "#6B1730", "cream"),
            ("coral-crush", "Coral Crush", "#E5534B", "cream"),
        ],
    },
    {
        "id": "lacquer-lab-gel-shine-polish",
        "name": "Gel Shine Nail Lacquer",
        "brand": BRAND,
        "price": 15.0,
        "description": "A high-shine, gel-effect lacquer with a glassy top coat built in; no lamp needed.",
        "tags": ["gloss", "gel-effect", "long-wear"],
        "variants": [
            ("fire-engine", "Fire Engine", "#C8102E", "gloss"),
            ("hot-pink", "Hot Pink", "#E0457B", "gloss"),
            ("midnight-navy", "Midnight Navy", "#1D2A4D", "gloss"),
            ("onyx", "Onyx", "#141416", "gloss"),
            ("lilac-haze", "Lilac Haze", "#B7A3D6", "gloss"),
        ],
    },
    {
        "id": "lacquer-lab-pearl-shimmer-polish",
        "name": "Pearl Shimmer Nail Lacquer",
        "brand": BRAND,
        "price": 13.0,
        "description": "A sheer-to-buildable lacquer with fine pearl shimmer that catches the light.",
        "tags": ["shimmer", "pearl"],
        "variants": [
            ("rose-gold", "Rose Gold", "#C98B7A", "shimmer", "#F3D3C4"),
            ("champagne", "Champagne", "#D8C3A5", "shimmer", "#FFF1D6"),
            ("plum-pearl", "Plum Pearl", "#7B3F6E", "shimmer", "#E7B8E0"),
            ("ocean-pearl", "Ocean Pearl", "#3F7F9A", "shimmer", "#CDEFFF"),
        ],
    },
    {
        "id": "lacquer-lab-stardust-glitter-polish",
        "name": "Stardust Glitter Nail Lacquer",
        "brand": BRAND,
        "price": 14.0,
        "description": "Dense holographic flakes in a tinted base; one coat for a party-ready sparkle.",
        "tags": ["glitter", "party", "holographic"],
        "variants": [
            ("disco-silver", "Disco Silver", "#9EA3AD", "glitter", "#FFFFFF"),
            ("gold-rush", "Gold Rush", "#B8892F", "glitter", "#FFE7A0"),
            ("galaxy-blue", "Galaxy Blue", "#1E2A6E", "glitter", "#C9D6FF"),
            ("ruby-slipper", "Ruby Slipper", "#8E1026", "glitter", "#FF9AA8"),
        ],
    },
    {
        "id": "lacquer-lab-mini-trio",
        "name": "Mini Lacquer Trio",
        "brand": BRAND,
        "price": 24.0,
        "description": "Three minis, one of each texture: a cream red, a glossy nude and a gold glitter.",
        "tags": ["set", "minis", "gift"],
        "variants": [
            ("red-cream", "Red Cream", "#A3162C", "cream"),
            ("nude-gloss", "Nude Gloss", "#D6A48F", "gloss"),
            ("gold-glitter", "Gold Glitter", "#A87E2E", "glitter", "#FFE7A0"),
        ],
    },
]


def draw_product(spec: Polish, folder: Path) -> dict[str, Any]:
    variants = []
    for vid, name, color, finish, *shimmer in spec["variants"]:
        variants.append(
            {"id": vid, "name": name, "color": color, "finish": finish}
            | ({"shimmer_color": shimmer[0]} if shimmer else {})
        )
    vid, _, color, finish, *shimmer = spec["variants"][0]
    seed = seed_of(spec["id"], vid)
    thumb = draw_swatch(parse_color(color), finish, parse_color(shimmer[0]) if shimmer else None, seed=seed)
    art.write_png(folder / "thumbnail.png", thumb)
    assets = {"thumbnail": art.image_asset("thumbnail.png")}
    return art.product_document(spec, kind="nails", variants=variants, assets=assets)


if __name__ == "__main__":
    raise SystemExit(art.main(PRODUCTS, draw_product, doc=__doc__))
