"""Writes the starter glasses and sunglasses (drawn procedurally by tryon.art.glasses, no outside
images): for each product a folder under assets/products/ with front.png (the frame, RGBA, its RGB
the shading the variant's colour multiplies), lenses.png (the lens area), thumbnail.png (the first
colourway on white) and product.json with the anchors.

    .venv/bin/python assets/make_glasses.py [--root DIR] [ID ...]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypedDict

from tryon.art import products as art
from tryon.art.glasses import PX_PER_MM, draw_glasses, glasses_thumbnail


class Lens(TypedDict):
    lens_color: str
    opacity: float


class Glasses(art.Listing):
    kind: str  # glasses | sunglasses
    style: tuple[str, dict[str, float]]  # draw_glasses(style, **sizes)
    variants: list[tuple[str, str, str] | tuple[str, str, str, Lens]]  # id, name, frame colour[, lens]


CLEAR: Lens = {"lens_color": "#E8EEF2", "opacity": 0.08}

PRODUCTS: list[Glasses] = [
    {
        "id": "harbor-round-optical",
        "name": "Harbor Round Optical",
        "brand": "Lumen & Line",
        "kind": "glasses",
        "price": 129.0,
        "description": "A round acetate frame with a keyhole-free bridge; light on the nose.",
        "tags": ["round", "acetate", "optical"],
        "style": ("round", {"lens_width_mm": 48, "lens_height_mm": 44, "bridge_mm": 20, "rim_mm": 3.2}),
        "variants": [
            ("jet-black", "Jet Black", "#1C1C1E"),
            ("havana", "Havana", "#6B3F22"),
            ("smoke", "Smoke", "#8A8F96"),
        ],
    },
    {
        "id": "metro-rectangle-optical",
        "name": "Metro Rectangle Optical",
        "brand": "Lumen & Line",
        "kind": "glasses",
        "price": 119.0,
        "description": "A slim rectangular frame for every day; fits narrow and average faces.",
        "tags": ["rectangle", "optical"],
        "style": ("rectangle", {"lens_width_mm": 52, "lens_height_mm": 34, "bridge_mm": 18, "rim_mm": 2.6}),
        "variants": [
            ("black", "Black", "#18181A"),
            ("navy", "Navy", "#1F2A44"),
            ("oxblood", "Oxblood", "#5E1A24"),
        ],
    },
    {
        "id": "muse-cat-eye-optical",
        "name": "Muse Cat-Eye Optical",
        "brand": "Verrine",
        "kind": "glasses",
        "price": 149.0,
        "description": "A lifted cat-eye in polished acetate; the outer corners swept up.",
        "tags": ["cat-eye", "acetate", "optical"],
        "style": ("cat-eye", {"lens_width_mm": 52, "lens_height_mm": 40, "bridge_mm": 17, "rim_mm": 3.6}),
        "variants": [("noir", "Noir", "#141414"), ("rose", "Rosé", "#B5656B"), ("ivory", "Ivory", "#D8CBB5")],
    },
    {
        "id": "atlas-wayfarer-optical",
        "name": "Atlas Wayfarer Optical",
        "brand": "Northbound",
        "kind": "glasses",
        "price": 109.0,
        "description": "The classic trapezoid in a bold rim, for a strong brow line.",
        "tags": ["wayfarer", "bold", "optical"],
        "style": ("wayfarer", {"lens_width_mm": 51, "lens_height_mm": 40, "bridge_mm": 19, "rim_mm": 4.2}),
        "variants": [("black", "Black", "#151515"), ("olive", "Olive", "#4B5320")],
    },
    {
        "id": "riviera-aviator-sunglasses",
        "name": "Riviera Aviator Sunglasses",
        "brand": "Northbound",
        "kind": "sunglasses",
        "price": 159.0,
        "description": "A thin metal aviator with a double bridge and category 3 lenses.",
        "tags": ["aviator", "metal", "uv400"],
        "style": ("aviator", {"lens_width_mm": 58, "lens_height_mm": 48, "bridge_mm": 16, "rim_mm": 1.6}),
        "variants": [
            ("gold-green", "Gold / Green", "#C8A45A", {"lens_color": "#3E4A3D", "opacity": 0.82}),
            ("silver-grey", "Silver / Grey", "#B9BEC4", {"lens_color": "#3A3D42", "opacity": 0.82}),
            ("gold-brown", "Gold / Brown", "#C8A45A", {"lens_color": "#5A3B24", "opacity": 0.75}),
        ],
    },
    {
        "id": "coast-wayfarer-sunglasses",
        "name": "Coast Wayfarer Sunglasses",
        "brand": "Verrine",
        "kind": "sunglasses",
        "price": 139.0,
        "description": "A bold acetate wayfarer with polarised lenses.",
        "tags": ["wayfarer", "acetate", "polarised"],
        "style": ("wayfarer", {"lens_width_mm": 52, "lens_height_mm": 42, "bridge_mm": 19, "rim_mm": 4.5}),
        "variants": [
            ("black-grey-green", "Black / Grey-Green", "#151515", {"lens_color": "#2F3B33", "opacity": 0.85}),
            ("havana-brown", "Havana / Brown", "#6B3F22", {"lens_color": "#4A3222", "opacity": 0.8}),
        ],
    },
]


def draw_product(spec: Glasses, folder: Path) -> dict[str, Any]:
    style, size = spec["style"]
    asset = draw_glasses(style, **size)
    variants = []
    for vid, name, color, *lens in spec["variants"]:
        variants.append({"id": vid, "name": name, "color": color, **(lens[0] if lens else CLEAR)})
    _, _, color, *lens = spec["variants"][0]
    tint = lens[0] if lens else CLEAR
    thumb = glasses_thumbnail(asset, color, tint["lens_color"], tint["opacity"])
    art.write_png(folder / "front.png", asset.front)
    art.write_png(folder / "lenses.png", asset.lenses)
    art.write_png(folder / "thumbnail.png", thumb)
    anchors = {
        "left_lens": asset.left_lens,
        "right_lens": asset.right_lens,
        "bridge": asset.bridge,
        "left_hinge": asset.left_hinge,
        "right_hinge": asset.right_hinge,
    }
    assets = {
        "front": art.image_asset("front.png", anchors, asset.front.shape[1] / PX_PER_MM, digits=1),
        "lenses": art.image_asset("lenses.png"),
        "thumbnail": art.image_asset("thumbnail.png"),
    }
    return art.product_document(spec, kind=spec["kind"], section="eyewear", variants=variants, assets=assets)


if __name__ == "__main__":
    raise SystemExit(art.main(PRODUCTS, draw_product, doc=__doc__))
