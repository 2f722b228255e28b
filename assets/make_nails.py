"""Writes the starter nail polishes (drawn procedurally, no outside images): for each product a
folder under assets/products/ with thumbnail.png (the first shade: a bottle and a painted nail)
and product.json. Nails need no anchors: the renderer places the polish from the hand landmarks.

    .venv/bin/python assets/make_nails.py
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2

from tryon.art.nails import draw_swatch
from tryon.catalog import check_products, write_product
from tryon.catalog.schema import parse_color
from tryon.render.finish import seed_of

ROOT = Path(__file__).resolve().parent / "products"
BRAND = "Lacquer Lab"

PRODUCTS: list[dict[str, Any]] = [
    {
        "id": "lacquer-lab-cream-polish",
        "name": "Cream Nail Lacquer",
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


def main() -> int:
    for spec in PRODUCTS:
        folder = ROOT / spec["id"]
        folder.mkdir(parents=True, exist_ok=True)
        variants = []
        for v in spec["variants"]:
            vid, name, color, finish = v[:4]
            item = {"id": vid, "name": name, "color": color, "finish": finish}
            if len(v) > 4:
                item["shimmer_color"] = v[4]
            variants.append(item)
        first = variants[0]
        shimmer = parse_color(first["shimmer_color"]) if "shimmer_color" in first else None
        thumb = draw_swatch(
            parse_color(first["color"]), first["finish"], shimmer, seed=seed_of(spec["id"], first["id"])
        )
        cv2.imwrite(str(folder / "thumbnail.png"), cv2.cvtColor(thumb, cv2.COLOR_RGB2BGR))
        doc = {
            "id": spec["id"],
            "name": spec["name"],
            "brand": BRAND,
            "kind": "nails",
            "price": spec["price"],
            "currency": "EUR",
            "buy_url": f"https://shop.example.com/nails/{spec['id']}",
            "description": spec["description"],
            "tags": spec["tags"],
            "variants": variants,
            "assets": {"thumbnail": {"file": "thumbnail.png", "anchors": {}}},
        }
        write_product(folder, doc)
    check_products(spec["id"] for spec in PRODUCTS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
