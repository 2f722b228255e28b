"""Hair that falls in front of what is worn: a mask of the person's own hair hanging from the head,
for the renderers to draw behind (garment collars, the tops of straps).

The hair's colour is sampled on the top of the head (a band above the forehead, inside the person
mask); the hair mask is the person's pixels nearer that colour than the face skin's that hang
together with the hair on the head (one connected region grown down from it), so a shirt of the
hair's colour below the neck is not taken for hair unless hair touches it.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.render.earrings import skin_model
from tryon.results import Face

FOREHEAD_TOP = 10
HAIR_BAND = (0.15, 0.45)
"""The band above the forehead's top sampled for the hair colour, in eye spans."""
MIN_SAMPLES = 30


def hair_mask(
    frame: NDArray[np.uint8], face: Face, person: NDArray[np.float32], box: tuple[int, int, int, int]
) -> NDArray[np.float32] | None:
    """``(y1-y0, x1-x0)`` in [0, 1]: the hair hanging from ``face``'s head inside ``box``;
    ``None`` when the top of the head shows no hair (bald, covered, out of the frame)."""
    h, w = frame.shape[:2]
    iod = face.interocular
    top = face.landmarks[FOREHEAD_TOP, :2]
    up = face.landmarks[FOREHEAD_TOP, :2] - face.landmarks[152, :2]
    up = up / max(float(np.linalg.norm(up)), 1e-6)
    lab = cv2.cvtColor(frame, cv2.COLOR_RGB2LAB).astype(np.float32)
    samples = []
    for t in np.linspace(*HAIR_BAND, 6):
        for s in np.linspace(-0.5, 0.5, 7):
            x, y = np.round(top + up * t * iod + np.array([-up[1], up[0]]) * s * iod).astype(int)
            if 0 <= x < w and 0 <= y < h and person[y, x] > 0.5:
                samples.append(lab[y, x])
    if len(samples) < MIN_SAMPLES:
        return None
    ref = np.asarray(samples, np.float32)
    mean = np.median(ref, axis=0)
    spread = np.maximum(np.percentile(np.abs(ref - mean), 80, axis=0), [14.0, 5.0, 5.0])
    skin_mean, skin_spread = skin_model(frame, face)
    # The whole head and everything below it in the box: grow the hair region from the head.
    x0 = min(box[0], max(int(top[0] - 2 * iod), 0))
    y0 = min(box[1], max(int(top[1] - 0.5 * iod), 0))
    x1, y1 = max(box[2], min(int(top[0] + 2 * iod), w)), box[3]
    sub = np.s_[y0:y1, x0:x1]
    d = np.sqrt((((lab[sub] - mean) / spread) ** 2).sum(axis=2))
    d_skin = np.sqrt((((lab[sub] - skin_mean) / skin_spread) ** 2).sum(axis=2))
    like = (d < 3.0) & (d < d_skin) & (person[sub] > 0.5)  # nearer the hair's colour than the skin's
    count, labels = cv2.connectedComponents(like.astype(np.uint8), connectivity=8)
    seeds = set()
    for t in np.linspace(*HAIR_BAND, 6):
        x, y = np.round(top + up * t * iod).astype(int) - [x0, y0]
        if 0 <= y < labels.shape[0] and 0 <= x < labels.shape[1] and labels[y, x] > 0:
            seeds.add(int(labels[y, x]))
    if not seeds or count < 2:
        return None
    hair = np.isin(labels, list(seeds)).astype(np.uint8)
    hair = cv2.morphologyEx(hair, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8)).astype(
        np.float32
    )  # strands' gaps
    hair = np.asarray(cv2.GaussianBlur(hair, (0, 0), 0.8), np.float32)
    bx0, by0, bx1, by1 = box
    out: NDArray[np.float32] = np.ascontiguousarray(hair[by0 - y0 : by1 - y0, bx0 - x0 : bx1 - x0])
    return out
