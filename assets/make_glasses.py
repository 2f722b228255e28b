"""Writes the starter glasses and sunglasses (drawn procedurally, no outside images): for each
product a folder under assets/products/ with front.png (the frame, RGBA, its RGB the shading the
variant's colour multiplies), lenses.png (the lens area), thumbnail.png (the first colourway on
white) and product.json with the anchors.

    .venv/bin/python assets/make_glasses.py
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from tryon.art.glasses import PX_PER_MM, draw_glasses
from tryon.catalog import check_products, write_product

ROOT = Path(__file__).resolve().parent / "products"
CLEAR = {"lens_color": "#E8EEF2", "opacity": 0.08}

PRODUCTS: list[dict[str, Any]] = [
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


def thumbnail(front: np.ndarray, lenses: np.ndarray, frame: str, lens: str, opacity: float) -> np.ndarray:
    """The first colourway on white, 320 pixels wide (sRGB blending: a picture, not a render)."""
    rgb = np.array([int(frame[i : i + 2], 16) for i in (1, 3, 5)], np.float32)
    tint = np.array([int(lens[i : i + 2], 16) for i in (1, 3, 5)], np.float32)
    out = np.full((*front.shape[:2], 3), 255.0, np.float32)
    la = (lenses.astype(np.float32) / 255.0 * opacity)[..., None]
    out = out * (1 - la) + tint * la
    fa = front[..., 3:4].astype(np.float32) / 255.0
    shade = front[..., :3].astype(np.float32) / 255.0
    out = out * (1 - fa) + rgb * shade * fa
    h, w = out.shape[:2]
    small = cv2.resize(out, (320, round(320 * h / w)), interpolation=cv2.INTER_AREA)
    return np.clip(small, 0, 255).astype(np.uint8)


def main() -> int:
    for spec in PRODUCTS:
        folder = ROOT / spec["id"]
        folder.mkdir(parents=True, exist_ok=True)
        style, size = spec["style"]
        asset = draw_glasses(style, **size)
        cv2.imwrite(str(folder / "front.png"), cv2.cvtColor(asset.front, cv2.COLOR_RGBA2BGRA))
        cv2.imwrite(str(folder / "lenses.png"), asset.lenses)
        variants = []
        for v in spec["variants"]:
            vid, name, color = v[:3]
            extra = v[3] if len(v) > 3 else CLEAR
            variants.append({"id": vid, "name": name, "color": color, **extra})
        first = variants[0]
        thumb = thumbnail(asset.front, asset.lenses, first["color"], first["lens_color"], first["opacity"])
        cv2.imwrite(str(folder / "thumbnail.png"), cv2.cvtColor(thumb, cv2.COLOR_RGB2BGR))
        width_mm = asset.front.shape[1] / PX_PER_MM
        anchors = {
            name: [round(x, 1), round(y, 1)]
            for name, (x, y) in (
                ("left_lens", asset.left_lens),
                ("right_lens", asset.right_lens),
                ("bridge", asset.bridge),
                ("left_hinge", asset.left_hinge),
                ("right_hinge", asset.right_hinge),
            )
        }
        doc = {
            "id": spec["id"],
            "name": spec["name"],
            "brand": spec["brand"],
            "kind": spec["kind"],
            "price": spec["price"],
            "currency": "EUR",
            "buy_url": f"https://shop.example.com/eyewear/{spec['id']}",
            "description": spec["description"],
            "tags": spec["tags"],
            "variants": variants,
            "assets": {
                "front": {"file": "front.png", "anchors": anchors, "size_mm": {"width": round(width_mm, 1)}},
                "lenses": {"file": "lenses.png", "anchors": {}},
                "thumbnail": {"file": "thumbnail.png", "anchors": {}},
            },
        }
        write_product(folder, doc)
    check_products(spec["id"] for spec in PRODUCTS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
