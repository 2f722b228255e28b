"""Multi-scale, tiled detection for photos: an SSD detector sees the whole image, then
overlapping square tiles of ``tile`` pixels, so that small people and faces reach the detector's
input at a size it finds. The full-range face detector finds faces of ~14 px in its 192-px input
(0.9 scores on the astronaut's face, 0.5 at 10 px): a 40-px face in a 1080-px photo is 7 px when
the photo is seen whole, 15 px in a 512-px tile. Faces up to the overlap (128 px) lie whole in
some tile; larger ones are found in the whole image.

Cost: one detector run for the whole image and one per tile: 1 + 6 on a 1280×720 or 810×1080
photo, 1 + 15 on 1920×1080; never more than ``max_tiles`` tiles (larger tiles on large photos).
The detections of all runs are merged by MediaPipe's weighted NMS in image pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tryon.detect.ssd import Detection, SsdDetector, weighted_nms
from tryon.errors import InputError
from tryon.frame import Frame

Tile = tuple[int, int, int]
"""``(x0, y0, side)`` in pixels: a square tile (clipped to the image where the image is smaller)."""


@dataclass(frozen=True)
class TileConfig:
    tile: int = 512
    """Side of the tiles in pixels (the smallest face found is ~1/13 of it)."""
    overlap: float = 0.25
    """Neighbouring tiles share at least this share of their side."""
    max_tiles: int = 24
    """At most this many tiles (besides the whole image): a large photo gets larger tiles."""

    def __post_init__(self) -> None:
        if self.tile < 16 or not 0.0 <= self.overlap < 0.9 or self.max_tiles < 1:
            raise InputError(
                f"TileConfig: expected tile ≥ 16, 0 ≤ overlap < 0.9 and max_tiles ≥ 1, got {self}"
            )


def _starts(length: int, side: int, overlap: float) -> list[int]:
    if side >= length:
        return [0]
    n = math.ceil((length - side) / (side * (1.0 - overlap))) + 1
    return [round(i * (length - side) / (n - 1)) for i in range(n)]


def tiles(width: int, height: int, config: TileConfig | None = None) -> list[Tile]:
    """The whole image, then the tiles (none when the image is not much larger than a tile)."""
    c = config or TileConfig()
    out: list[Tile] = [(0, 0, max(width, height))]
    if max(width, height) <= 1.25 * c.tile:
        return out
    side = c.tile
    while True:
        xs, ys = _starts(width, side, c.overlap), _starts(height, side, c.overlap)
        if len(xs) * len(ys) <= c.max_tiles:
            return out + [(x, y, side) for y in ys for x in xs]
        side = math.ceil(side * 1.1)


def detect_tiled(
    detector: SsdDetector, frame: Frame, min_score: float | None = None, config: TileConfig | None = None
) -> list[Detection]:
    """Detections over the whole image and its tiles, merged (weighted NMS), best first."""
    h, w = frame.shape[:2]
    found: list[Detection] = []
    for x0, y0, side in tiles(w, h, config):
        if (x0, y0) == (0, 0) and side >= max(w, h):
            found += detector.detect(frame, min_score)
            continue
        view = np.ascontiguousarray(frame[y0 : y0 + side, x0 : x0 + side])
        for d in detector.detect(view, min_score):
            box = (d.box[0] + x0, d.box[1] + y0, d.box[2] + x0, d.box[3] + y0)
            found.append(
                Detection(box, (d.keypoints + np.array([x0, y0], np.float32)).astype(np.float32), d.score)
            )
    if not found:
        return []
    boxes = np.array([d.box for d in found], np.float32)
    keypoints = np.stack([d.keypoints for d in found]).astype(np.float32)
    scores = np.array([d.score for d in found], np.float32)
    merged = weighted_nms(boxes, keypoints, scores, detector.spec.nms_iou)
    return [Detection((float(b[0]), float(b[1]), float(b[2]), float(b[3])), k, s) for b, k, s in merged]
