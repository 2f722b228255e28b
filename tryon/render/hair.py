"""Hair that falls in front of what is worn: a mask of the person's own hair hanging from the head,
for the renderers to draw behind (garment collars, the tops of straps).

The hair's colour is sampled on the top of the head (a band above the forehead, inside the person
mask); the hair mask is the person's pixels nearer that colour than the face skin's that hang
together with the hair on the head (one connected region grown down from it), so a shirt of the
hair's colour below the neck is not taken for hair unless hair touches it.

The head is a :class:`Head`: the forehead's top, the chin, the eye span and the skin's colour,
from a face mesh (:func:`head_of_face`) or, where no mesh was found, from a body pose's face
keypoints (:mod:`tryon.render.garment_occluders` builds one).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.render.masks import Box
from tryon.render.skin import SkinModel, skin_model
from tryon.results import Face

FOREHEAD_TOP = 10
HAIR_BAND = (0.15, 0.45)
"""The band above the forehead's top sampled for the hair colour, in eye spans."""
MIN_SAMPLES = 30
SCALE = 3
"""The hair is found at a third of the frame's resolution (locks of hair, not strands)."""


@dataclass(frozen=True)
class Head:
    top: NDArray[np.float64]
    """The forehead's top (the face mesh's landmark 10), frame pixels."""
    chin: NDArray[np.float64]
    span: float
    """The outer eye corners' distance, pixels."""
    skin: SkinModel


def head_of_face(frame: NDArray[np.uint8], face: Face) -> Head:
    lm = face.landmarks[:, :2].astype(np.float64)
    return Head(lm[FOREHEAD_TOP], lm[152], face.interocular, skin_model(frame, face))


def skin_at(frame: NDArray[np.uint8], points: NDArray[np.float64], radius: int) -> SkinModel:
    """The skin model (as :func:`tryon.render.skin.skin_model`) from patches around ``points``."""
    h, w = frame.shape[:2]
    samples = []
    for x, y in np.round(points).astype(int):
        patch = frame[
            max(y - radius, 0) : min(y + radius + 1, h), max(x - radius, 0) : min(x + radius + 1, w)
        ]
        if patch.size:
            samples.append(patch.reshape(-1, 3))
    if not samples:
        samples.append(np.zeros((1, 3), np.uint8))
    lab = cv2.cvtColor(np.concatenate(samples)[None], cv2.COLOR_RGB2LAB)[0].astype(np.float32)
    mean = np.median(lab, axis=0).astype(np.float32)
    spread = np.maximum(np.percentile(np.abs(lab - mean), 90, axis=0), [30.0, 10.0, 10.0]).astype(np.float32)
    return mean, spread


def hair_mask(
    frame: NDArray[np.uint8], head: Face | Head, person: NDArray[np.float32], box: Box
) -> NDArray[np.float32] | None:
    """``(y1-y0, x1-x0)`` in [0, 1]: the hair hanging from the head (a face mesh's or a
    :class:`Head`) inside ``box``; ``None`` when the top of the head shows no hair (bald,
    covered, out of the frame). Worked out at a third of the resolution (hair is drawn back, not
    segmented strand by strand)."""
    if isinstance(head, Face):
        head = head_of_face(frame, head)
    w = frame.shape[1]
    iod = head.span
    top = head.top
    up = top - head.chin
    up = up / max(float(np.linalg.norm(up)), 1e-6)
    # The region: the whole head and everything below it in the box, at a third of the resolution.
    x0 = min(box[0], max(int(top[0] - 2 * iod), 0)) // SCALE * SCALE
    y0 = min(box[1], max(int(top[1] - 0.6 * iod), 0)) // SCALE * SCALE
    x1, y1 = max(box[2], min(int(top[0] + 2 * iod), w)), box[3]
    size = (max(1, (x1 - x0) // SCALE), max(1, (y1 - y0) // SCALE))
    lab = cv2.cvtColor(cv2.resize(frame[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2LAB)
    lab = lab.astype(np.float32)
    people = cv2.resize(person[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA) > 0.5

    def pixels(t: NDArray[np.float64], s: NDArray[np.float64]) -> NDArray[np.int64]:
        """The (x, y) pixels at ``t`` eye spans up and ``s`` across from the forehead's top,
        at the working resolution, only those inside it."""
        xy = (top + np.outer(t, up) * iod + np.outer(s, [-up[1], up[0]]) * iod - [x0, y0]) / SCALE
        ij: NDArray[np.int64] = np.round(xy).astype(np.int64)
        inside = (ij[:, 0] >= 0) & (ij[:, 0] < size[0]) & (ij[:, 1] >= 0) & (ij[:, 1] < size[1])
        out: NDArray[np.int64] = ij[inside]
        return out

    ts, ss = np.meshgrid(np.linspace(*HAIR_BAND, 6), np.linspace(-0.5, 0.5, 7), indexing="ij")
    band = pixels(ts.ravel(), ss.ravel())
    band = band[people[band[:, 1], band[:, 0]]]
    if len(band) < MIN_SAMPLES:
        return None
    ref = lab[band[:, 1], band[:, 0]]
    mean = np.median(ref, axis=0).astype(np.float32)
    spread = np.maximum(np.percentile(np.abs(ref - mean), 80, axis=0), [14.0, 5.0, 5.0]).astype(np.float32)
    skin_mean, skin_spread = head.skin
    d_hair = (((lab - mean) * (1.0 / spread)) ** 2).sum(axis=2)
    d_skin = (((lab - skin_mean) * (1.0 / skin_spread)) ** 2).sum(axis=2)
    like = (d_hair < 9.0) & (d_hair < d_skin) & people  # near the hair's colour, nearer it than the skin's
    count, labels = cv2.connectedComponents(like.view(np.uint8), connectivity=8)
    centre = pixels(np.linspace(*HAIR_BAND, 6), np.zeros(6))
    seeds = set(labels[centre[:, 1], centre[:, 0]].tolist())
    seeds.discard(0)
    if not seeds or count < 2:
        return None
    hair = np.isin(labels, list(seeds)).astype(np.uint8)
    hair = np.asarray(
        cv2.morphologyEx(hair, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8)), np.uint8
    )  # strand gaps
    full = cv2.resize(hair.astype(np.float32), (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    bx0, by0, bx1, by1 = box
    out: NDArray[np.float32] = np.ascontiguousarray(
        full[by0 - y0 : by1 - y0, bx0 - x0 : bx1 - x0], np.float32
    )
    return out
