"""Contact sheet of the starter makeup catalog on skimage.data.astronaut() (public domain).

One row per product, one tile per shade, cropped to the product's region and enlarged; the
last row shows full looks. Writes docs/makeup-contact-sheet.jpg.

    .venv/bin/python docs/contact_sheet.py [--out docs/makeup-contact-sheet.jpg]
"""

from __future__ import annotations

import argparse
import sys
import unicodedata
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray
from skimage.data import astronaut

from tryon.catalog import Catalog
from tryon.perception import Perception, PerceptionConfig
from tryon.pipeline import LookItem, makeup_params
from tryon.render.makeup import MAKEUP_KINDS, render_look

TILE_W, TILE_H = 240, 150
LABEL_W = 230
# crops (x0, y0, x1, y1) of the astronaut per region, same aspect as a tile
CROPS = {
    "lips": (188, 124, 260, 169),
    "eyes": (176, 80, 272, 140),
    "face": (152, 70, 296, 160),
}
REGION = {
    "lipstick": "lips",
    "lip_gloss": "lips",
    "eyeshadow": "eyes",
    "eyeliner": "eyes",
    "brow": "eyes",
    "blush": "face",
    "foundation": "face",
}
LOOKS = [
    (
        "Natural day",
        ["skin-veil-foundation", "soft-focus-matte-blush", "everyday-matte-eyeshadow", "satin-kiss-lipstick"],
    ),
    (
        "Evening",
        [
            "soft-blur-matte-foundation",
            "midnight-shimmer-eyeshadow",
            "precision-liquid-eyeliner",
            "velvet-matte-lipstick",
        ],
    ),
    ("Glow", ["lit-glow-blush", "starlight-metallic-lipstick", "prism-shimmer-lip-gloss"]),
]


def ascii_text(s: str) -> str:
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()


def tile(image: NDArray[np.uint8], region: str, caption: str) -> NDArray[np.uint8]:
    x0, y0, x1, y1 = CROPS[region]
    t = cv2.resize(image[y0:y1, x0:x1], (TILE_W, TILE_H), interpolation=cv2.INTER_CUBIC)
    return captioned(t, ascii_text(caption)[:30])


def captioned(t: NDArray[np.uint8], text: str) -> NDArray[np.uint8]:
    """``t`` with ``text`` in white on a black band along its bottom (drawn in place)."""
    h, w = t.shape[:2]
    cv2.rectangle(t, (0, h - 18), (w, h), (0, 0, 0), -1)
    cv2.putText(t, text, (4, h - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 255, 255), 1, cv2.LINE_AA)
    return t


def label(lines: list[str]) -> NDArray[np.uint8]:
    t = np.full((TILE_H, LABEL_W, 3), 250, np.uint8)
    for i, line in enumerate(lines):
        cv2.putText(
            t,
            ascii_text(line)[:32],
            (6, 24 + 22 * i),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.45,
            (30, 30, 30),
            1,
            cv2.LINE_AA,
        )
    return t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "makeup-contact-sheet.jpg")
    args = parser.parse_args()
    image = np.ascontiguousarray(astronaut())
    face = Perception(PerceptionConfig(static_image_mode=True)).process(image).faces[0]
    catalog = Catalog.load()
    rows = []
    columns = 6
    products = sorted(
        (p for p in catalog.products.values() if p.kind in MAKEUP_KINDS),
        key=lambda p: (MAKEUP_KINDS.index(p.kind), p.id),
    )
    for product in products:
        tiles = [
            label([product.name, product.brand, f"{product.kind}", f"{product.price:.2f} {product.currency}"])
        ]
        tiles.append(tile(image, REGION[product.kind], "bare"))
        for variant in product.variants[: columns - 1]:
            params = makeup_params(LookItem(product, variant))
            out = render_look(image, [face], [params])
            tiles.append(tile(out, REGION[product.kind], f"{variant.name} ({variant.finish})"))
        while len(tiles) < columns + 1:
            tiles.append(np.full((TILE_H, TILE_W, 3), 250, np.uint8))
        rows.append(np.hstack(tiles))
    looks = [label(["Full looks"])]
    looks.append(tile(image, "face", "bare"))
    for name, ids in LOOKS:
        items = [makeup_params(LookItem(*catalog.resolve(i))) for i in ids]
        looks.append(tile(render_look(image, [face], items), "face", name))
    while len(looks) < columns + 1:
        looks.append(np.full((TILE_H, TILE_W, 3), 250, np.uint8))
    rows.append(np.hstack(looks))
    sheet = np.vstack(rows)
    cv2.imwrite(str(args.out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88])
    sys.stdout.write(f"{args.out}: {sheet.shape[1]}x{sheet.shape[0]}\n")


if __name__ == "__main__":
    main()
