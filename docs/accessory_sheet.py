"""Contact sheet of the starter accessories: eyewear, earrings, hats and necklaces on
skimage.data.astronaut() (public domain), straight and turned (a 25° roll), and nail polish on
the cartoon hands of ``tryon.testing``. One row per product, one tile per colourway, each drawn
by the pipeline's own per-item renderer. Writes docs/accessories-contact-sheet.jpg.

    .venv/bin/python docs/accessory_sheet.py [--out docs/accessories-contact-sheet.jpg]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from contact_sheet import captioned, label
from numpy.typing import NDArray
from skimage.data import astronaut

from tryon.catalog import Catalog
from tryon.perception import Perception, PerceptionConfig
from tryon.pipeline import LookItem, item_layer
from tryon.results import FrameResult
from tryon.testing import TWO_HANDS, Transform, hands_image

TILE_W, TILE_H = 240, 180
KINDS = ("glasses", "sunglasses", "earrings", "hat", "necklace", "nails")
CROPS = {  # (x0, y0, x1, y1), 4:3 like a tile
    "glasses": (145, 55, 305, 175),
    "sunglasses": (145, 55, 305, 175),
    "earrings": (120, 50, 330, 207),
    "hat": (40, 0, 440, 300),
    "necklace": (100, 130, 340, 310),
    "nails": (80, 60, 560, 420),
}


TURN = Transform(angle=25)


def tile(image: NDArray[np.uint8], kind: str, caption: str, turned: bool = False) -> NDArray[np.uint8]:
    x0, y0, x1, y1 = CROPS[kind]
    if turned:  # follow the head: the crop's centre moved by the same transform
        h, w = image.shape[:2]
        cx, cy = TURN.points(np.array([[(x0 + x1) / 2, (y0 + y1) / 2]]), w, h)[0]
        dx, dy = round(cx - (x0 + x1) / 2), round(cy - (y0 + y1) / 2)
        dx, dy = int(np.clip(dx, -x0, w - x1)), int(np.clip(dy, -y0, h - y1))
        x0, x1, y0, y1 = x0 + dx, x1 + dx, y0 + dy, y1 + dy
    t = cv2.resize(image[y0:y1, x0:x1], (TILE_W, TILE_H), interpolation=cv2.INTER_AREA)
    return captioned(t, caption[:32])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "accessories-contact-sheet.jpg")
    args = parser.parse_args()
    perception = Perception(
        PerceptionConfig(
            static_image_mode=True, face_detector="full", poses=True, hands=True, segmentation=True
        )
    )
    portrait = np.ascontiguousarray(astronaut())
    turned = TURN.apply(portrait)
    hands = hands_image(TWO_HANDS)
    scenes: dict[str, tuple[NDArray[np.uint8], FrameResult]] = {
        name: (img, perception.process(img))
        for name, img in (("portrait", portrait), ("turned", turned), ("hands", hands))
    }
    catalog = Catalog.load()
    columns = 5
    rows = []
    for kind in KINDS:
        for product in catalog.by_kind(kind):
            tiles = [label([product.name, product.brand, kind, f"{product.price:.2f} {product.currency}"])]
            tiles[0] = cv2.resize(tiles[0], (tiles[0].shape[1], TILE_H))
            variants = list(product.variants[: columns - 1])
            shots = [("portrait", v) for v in variants]
            if kind != "nails":
                shots.append(("turned", variants[0]))
            for scene, variant in shots:
                image, result = scenes["hands" if kind == "nails" else scene]
                out = item_layer(LookItem(product, variant))(image, result)
                caption = variant.name + (" (turned)" if scene == "turned" else "")
                tiles.append(tile(out, kind, caption, scene == "turned"))
            while len(tiles) < columns + 1:
                tiles.append(np.full((TILE_H, TILE_W, 3), 250, np.uint8))
            rows.append(np.concatenate(tiles, axis=1))
    sheet = np.concatenate(rows, axis=0)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    sys.stdout.write(f"{args.out}: {sheet.shape[1]}x{sheet.shape[0]}\n")


if __name__ == "__main__":
    main()
