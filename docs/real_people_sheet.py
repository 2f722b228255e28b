"""Before/after sheet of every starter garment on the two photos of real people that the
``ultralytics`` wheel ships (``zidane.jpg``, ``bus.jpg``; fetched into a cache by
``tests/photos.py``). One row per photo: the photo, then each garment on it, in static (photo)
mode with the full-range face detector, as ``tryon apply`` and photo mode run.

The sheet is made from photos whose licence we cannot name for our repository, so it is written
to ``docs/real-people-sheet.jpg``, which git ignores: make it and look at it, never commit it.

    .venv/bin/python docs/real_people_sheet.py [--out docs/real-people-sheet.jpg] [--width 300]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from contact_sheet import captioned
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from photos import fetch_photos

from tryon.catalog import Catalog
from tryon.media import read_image
from tryon.pipeline import GARMENT_KINDS, PipelineConfig, TryOnPipeline


def tile(image: NDArray[np.uint8], width: int, caption: str) -> NDArray[np.uint8]:
    h, w = image.shape[:2]
    small = cv2.resize(image, (width, round(h * width / w)), interpolation=cv2.INTER_AREA)
    return captioned(np.ascontiguousarray(small), caption[:40])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "real-people-sheet.jpg")
    parser.add_argument("--width", type=int, default=300, help="width of each tile in pixels")
    args = parser.parse_args()
    catalog = Catalog.load()
    garments = sorted(p.id for p in catalog.products.values() if p.kind in GARMENT_KINDS)
    config = PipelineConfig(max_faces=6, static_image_mode=True, face_detector="full")
    rows = []
    for name, path in fetch_photos().items():
        image = read_image(path)
        tiles = [tile(image, args.width, name)]
        for pid in garments:
            pipeline = TryOnPipeline([pid], catalog=catalog, config=config)
            out = pipeline.process(image)
            people = len(pipeline.last_result.poses) if pipeline.last_result is not None else 0
            tiles.append(tile(out, args.width, f"{pid} ({people} dressed)"))
        height = max(t.shape[0] for t in tiles)
        rows.append(np.hstack([np.pad(t, ((0, height - t.shape[0]), (0, 0), (0, 0))) for t in tiles]))
    width = max(r.shape[1] for r in rows)
    sheet = np.vstack([np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in rows])
    cv2.imwrite(str(args.out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88])
    sys.stdout.write(f"wrote {args.out} ({sheet.shape[1]}x{sheet.shape[0]})\n")


if __name__ == "__main__":
    main()
