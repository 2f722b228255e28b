"""Writes the starter earrings, hats and necklaces (drawn procedurally by tryon.art.jewelry and
tryon.art.hats, no outside images): for each product a folder under assets/products/ with
front.png (RGBA; its RGB the shading the variant's colour multiplies, or the colours themselves for
a product whose variants have none), thumbnail.png (the first variant on white) and product.json
with the anchors and real width.

    .venv/bin/python assets/make_accessories.py [--root DIR] [ID ...]
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, NotRequired

from tryon.art import products as art
from tryon.art.hats import draw_hat
from tryon.art.jewelry import draw_earring, draw_necklace
from tryon.render.sprite import Sprite


class Accessory(art.Listing):
    kind: str  # earrings | necklace | hat
    draw: tuple[str, str]  # (earring | necklace | hat, style)
    variants: Sequence[tuple[str, str, str | None]]  # id, name, colour (None: drawn in colour)
    params: NotRequired[dict[str, float]]


METALS = [
    ("yellow-gold", "Yellow Gold", "#D9B15A"),
    ("silver", "Silver", "#CDD0D6"),
    ("rose-gold", "Rose Gold", "#D89C86"),
]

PRODUCTS: list[Accessory] = [
    {
        "id": "aurora-hoop-earrings",
        "name": "Aurora Hoops",
        "brand": "Maison Halo",
        "kind": "earrings",
        "price": 59.0,
        "description": "Classic 28 mm hoops in a rounded 2.4 mm tube; light enough for all day.",
        "tags": ["hoops", "everyday"],
        "draw": ("earring", "hoop"),
        "variants": METALS,
    },
    {
        "id": "dewdrop-teardrop-earrings",
        "name": "Dewdrop Teardrops",
        "brand": "Maison Halo",
        "kind": "earrings",
        "price": 74.0,
        "description": "An open teardrop on a short wire; catches the light as you move.",
        "tags": ["drops", "statement"],
        "draw": ("earring", "teardrop"),
        "variants": METALS,
    },
    {
        "id": "orbit-ball-studs",
        "name": "Orbit Ball Studs",
        "brand": "Maison Halo",
        "kind": "earrings",
        "price": 39.0,
        "description": "Polished 7 mm ball studs.",
        "tags": ["studs", "minimal"],
        "draw": ("earring", "ball-stud"),
        "variants": METALS,
    },
    {
        "id": "cascade-line-drops",
        "name": "Cascade Line Drops",
        "brand": "Oro Studio",
        "kind": "earrings",
        "price": 89.0,
        "description": "A 42 mm line of graduated links that sways with every turn of the head.",
        "tags": ["drops", "linear"],
        "draw": ("earring", "bar-drop"),
        "variants": METALS[:2],
    },
    {
        "id": "azure-halo-studs",
        "name": "Azure Halo Studs",
        "brand": "Oro Studio",
        "kind": "earrings",
        "price": 129.0,
        "description": "A 9 mm blue stone in a ring of white metal.",
        "tags": ["studs", "stone"],
        "draw": ("earring", "halo-stud"),
        "variants": [("sapphire-silver", "Sapphire & Silver", None)],
    },
    {
        "id": "amour-heart-pendant",
        "name": "Amour Heart Pendant",
        "brand": "Maison Halo",
        "kind": "necklace",
        "price": 69.0,
        "description": "A fine 45 cm chain with a puffed heart that rests below the collarbones.",
        "tags": ["pendant", "chain"],
        "draw": ("necklace", "pendant-chain"),
        "variants": METALS,
    },
    {
        "id": "riviera-pearl-strand",
        "name": "Riviera Pearl Strand",
        "brand": "Oro Studio",
        "kind": "necklace",
        "price": 149.0,
        "description": "7 mm cultured-look pearls on a short strand.",
        "tags": ["pearls", "classic"],
        "draw": ("necklace", "pearl-strand"),
        "variants": [
            ("white", "White", "#F3EFE6"),
            ("champagne", "Champagne", "#E9D3B4"),
            ("tahitian", "Tahitian", "#6A6A78"),
        ],
    },
    {
        "id": "arc-collar-necklace",
        "name": "Arc Collar",
        "brand": "Oro Studio",
        "kind": "necklace",
        "price": 95.0,
        "description": "A sculpted collar that sits close at the base of the neck.",
        "tags": ["collar", "statement"],
        "draw": ("necklace", "collar"),
        "variants": METALS[:2],
    },
    {
        "id": "bowery-felt-fedora",
        "name": "Bowery Felt Fedora",
        "brand": "Hatter & Row",
        "kind": "hat",
        "price": 119.0,
        "description": "A wool-felt fedora with a pinched crown, a grosgrain band and a 6 cm brim.",
        "tags": ["fedora", "felt"],
        "params": {"sit": 0.4},
        "draw": ("hat", "fedora"),
        "variants": [
            ("camel", "Camel", "#A8794E"),
            ("charcoal", "Charcoal", "#55555B"),
            ("black", "Black", "#26262A"),
            ("bordeaux", "Bordeaux", "#6E2333"),
        ],
    },
    {
        "id": "north-rib-beanie",
        "name": "North Rib Beanie",
        "brand": "Hatter & Row",
        "kind": "hat",
        "price": 35.0,
        "description": "A soft knit beanie with a folded ribbed cuff.",
        "tags": ["beanie", "knit"],
        "params": {"sit": 0.6},
        "draw": ("hat", "beanie"),
        "variants": [
            ("oatmeal", "Oatmeal", "#D8CBB3"),
            ("forest", "Forest", "#335243"),
            ("cherry", "Cherry", "#A02A3A"),
            ("navy", "Navy", "#2A3656"),
        ],
    },
    {
        "id": "solstice-straw-sun-hat",
        "name": "Solstice Straw Sun Hat",
        "brand": "Hatter & Row",
        "kind": "hat",
        "price": 79.0,
        "description": "A wide-brimmed woven straw hat with a black ribbon.",
        "tags": ["sun hat", "straw", "summer"],
        "params": {"sit": 0.35},
        "draw": ("hat", "sun-hat"),
        "variants": [("natural", "Natural Straw", "#DCC08A"), ("bleached", "Bleached", "#EFE5CE")],
    },
]


def draw(what: tuple[str, str]) -> Sprite:
    family, style = what
    if family == "earring":
        return draw_earring(style)
    if family == "necklace":
        return draw_necklace(style)
    return draw_hat(style)


def draw_product(spec: Accessory, folder: Path) -> dict[str, Any]:
    sprite = draw(spec["draw"])
    art.write_png(folder / "front.png", sprite.rgba)
    thumb = art.thumbnail_on_white(sprite.rgba, colour=spec["variants"][0][2])
    art.write_png(folder / "thumbnail.png", thumb)
    variants = [
        {"id": vid, "name": name, **({"color": color} if color else {})}
        for vid, name, color in spec["variants"]
    ]
    assets = {
        "front": art.image_asset("front.png", dict(sorted(sprite.anchors.items())), sprite.width_mm),
        "thumbnail": art.image_asset("thumbnail.png"),
    }
    return art.product_document(
        spec, kind=spec["kind"], params=spec.get("params", {}), variants=variants, assets=assets
    )


if __name__ == "__main__":
    raise SystemExit(art.main(PRODUCTS, draw_product, doc=__doc__))
