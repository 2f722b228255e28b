"""Contact sheet of the starter garments on skimage.data.astronaut() (public domain): one row per
product, its colourways, then the first one on the portrait tilted 15°; the last row is the
family case, two people in one frame, the parent in the adult pyjama top and the child's in the
child top. Writes docs/garments-contact-sheet.jpg.

    .venv/bin/python docs/garment_sheet.py [--out docs/garments-contact-sheet.jpg]
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
from tryon.pipeline import GARMENT_KINDS, LookItem, PipelineConfig, TryOnPipeline, item_layer
from tryon.testing import Transform

TILE = 240
TILT = Transform(angle=15)


def tile(image: NDArray[np.uint8], caption: str) -> NDArray[np.uint8]:
    return captioned(cv2.resize(image, (TILE, TILE), interpolation=cv2.INTER_AREA), caption[:34])


def family(catalog: Catalog) -> NDArray[np.uint8]:
    small = cv2.resize(np.ascontiguousarray(astronaut()), (256, 256), interpolation=cv2.INTER_AREA)
    frame = np.full((360, 552, 3), 200, np.uint8)
    frame[104:, :256] = small
    frame[104:, 296:] = small
    pipeline = TryOnPipeline(
        ["holiday-fair-isle-pyjama-top-adult:red"], catalog=catalog, config=PipelineConfig(max_faces=2)
    )
    pipeline.process(frame, 0.0)
    assert pipeline.last_result is not None
    right = max(pipeline.last_result.poses, key=lambda p: float(p.xy[0, 0]))
    pipeline.dress_person(right.id, "holiday-fair-isle-pyjama-top-child:green")
    out = frame
    for i in range(1, 4):
        out = pipeline.process(frame, i / 30)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "garments-contact-sheet.jpg")
    args = parser.parse_args()
    perception = Perception(
        PerceptionConfig(
            static_image_mode=True, face_detector="full", poses=True, segmentation=True, hands=True
        )
    )
    portrait = np.ascontiguousarray(astronaut())
    tilted = TILT.apply(portrait)
    scenes = {
        "portrait": (portrait, perception.process(portrait)),
        "tilted": (tilted, perception.process(tilted)),
    }
    catalog = Catalog.load()
    columns = 4
    rows = []
    for kind in GARMENT_KINDS:
        for product in catalog.by_kind(kind):
            tiles = [
                cv2.resize(
                    label([product.name, product.brand, kind, f"{product.price:.2f} {product.currency}"]),
                    (230, TILE),
                )
            ]
            shots = [("portrait", v) for v in product.variants[: columns - 1]] + [
                ("tilted", product.variants[0])
            ]
            for scene, variant in shots:
                image, result = scenes[scene]
                out = item_layer(LookItem(product, variant))(image, result)
                tiles.append(tile(out, variant.name + (" (tilted)" if scene == "tilted" else "")))
            while len(tiles) < columns + 1:
                tiles.append(np.full((TILE, TILE, 3), 250, np.uint8))
            rows.append(np.concatenate(tiles, axis=1))
    fam = family(catalog)
    h = TILE
    w = round(fam.shape[1] * h / fam.shape[0])
    last = [
        cv2.resize(
            label(["Matching pyjamas", "adult (red) and", "child (green) tops", "one frame"]), (230, TILE)
        )
    ]
    last.append(cv2.resize(fam, (w, h), interpolation=cv2.INTER_AREA))
    width = rows[0].shape[1]
    strip = np.concatenate(last, axis=1)
    strip = np.pad(strip, ((0, 0), (0, width - strip.shape[1]), (0, 0)), constant_values=250)
    rows.append(strip)
    sheet = np.concatenate(rows, axis=0)
    cv2.imwrite(str(args.out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    sys.stdout.write(f"{args.out}: {sheet.shape[1]}x{sheet.shape[0]}\n")


if __name__ == "__main__":
    main()
