"""Writes the starter earrings, hats and necklaces (drawn procedurally, no outside images): for
each product a folder under assets/products/ with front.png (RGBA; its RGB the shading the
variant's colour multiplies, or the colours themselves for a product whose variants have none),
thumbnail.png (the first variant on white) and product.json with the anchors and real width.

    .venv/bin/python assets/make_accessories.py
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from tryon.art.hats import draw_hat
from tryon.art.jewelry import draw_earring, draw_necklace
from tryon.catalog import check_products, write_product
from tryon.catalog.schema import parse_color
from tryon.render.sprite import Sprite

ROOT = Path(__file__).resolve().parent / "products"
SHOP = "https://shop.example.com"
METALS = [
    ("yellow-gold", "Yellow Gold", "#D9B15A"),
    ("silver", "Silver", "#CDD0D6"),
    ("rose-gold", "Rose Gold", "#D89C86"),
]

PRODUCTS: list[dict[str, Any]] = [
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


def thumbnail(sprite: Sprite, colour: str | None, size: int = 256) -> np.ndarray:
    """The sprite (tinted like the renderer does) centred on white."""
    rgba = sprite.rgba.astype(np.float32) / 255.0
    rgb, alpha = rgba[..., :3] ** 2.2, rgba[..., 3:]
    if colour is not None:
        rgb = rgb * (np.asarray(parse_color(colour), np.float32) / 255.0) ** 2.2
    canvas = (rgb * alpha + (1.0 - alpha)) ** (1 / 2.2)
    ys, xs = np.nonzero(alpha[..., 0] > 0.02)
    crop = canvas[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    h, w = crop.shape[:2]
    k = (size * 0.84) / max(h, w)
    small = cv2.resize(crop, (max(1, round(w * k)), max(1, round(h * k))), interpolation=cv2.INTER_AREA)
    out = np.ones((size, size, 3), np.float32)
    y0, x0 = (size - small.shape[0]) // 2, (size - small.shape[1]) // 2
    out[y0 : y0 + small.shape[0], x0 : x0 + small.shape[1]] = small
    return np.round(np.clip(out, 0, 1) * 255).astype(np.uint8)


def write(spec: dict[str, Any]) -> None:
    folder = ROOT / spec["id"]
    folder.mkdir(parents=True, exist_ok=True)
    sprite = draw(spec["draw"])
    cv2.imwrite(str(folder / "front.png"), cv2.cvtColor(sprite.rgba, cv2.COLOR_RGBA2BGRA))
    first = spec["variants"][0][2]
    cv2.imwrite(str(folder / "thumbnail.png"), cv2.cvtColor(thumbnail(sprite, first), cv2.COLOR_RGB2BGR))
    product = {
        "id": spec["id"],
        "name": spec["name"],
        "brand": spec["brand"],
        "kind": spec["kind"],
        "price": spec["price"],
        "currency": "EUR",
        "buy_url": f"{SHOP}/{spec['kind']}/{spec['id']}",
        "description": spec["description"],
        "tags": spec["tags"],
        "params": spec.get("params", {}),
        "variants": [
            {"id": vid, "name": name, **({"color": color} if color else {})}
            for vid, name, color in spec["variants"]
        ],
        "assets": {
            "front": {
                "file": "front.png",
                "anchors": {k: [round(x, 2), round(y, 2)] for k, (x, y) in sorted(sprite.anchors.items())},
                "size_mm": {"width": round(sprite.width_mm, 2)},
            },
            "thumbnail": {"file": "thumbnail.png", "anchors": {}},
        },
    }
    write_product(folder, product)


def main() -> None:
    for spec in PRODUCTS:
        write(spec)
    check_products(spec["id"] for spec in PRODUCTS)


if __name__ == "__main__":
    main()
