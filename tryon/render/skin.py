"""The skin's colour on a face, and how far pixels are from it: what tells hair (or a sleeve, or a
background) from skin for the renderers that draw near the face (earrings behind hair, hair over
a collar)."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.results import Face

SKIN_PATCHES = (50, 280, 205, 425, 101, 330)
"""Cheek vertices whose surroundings sample the skin colour."""

SkinModel = tuple[NDArray[np.float32], NDArray[np.float32]]
"""Median Lab colour of the face's skin and its spread."""


def _lab(rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
    out: NDArray[np.float32] = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    return out


def skin_model(frame: NDArray[np.uint8], face: Face) -> SkinModel:
    """Mean and spread of the face's skin in Lab (8-bit scale) from patches on the cheeks."""
    h, w = frame.shape[:2]
    r = max(2, round(0.04 * face.interocular))
    samples = []
    for i in SKIN_PATCHES:
        x, y = np.round(face.landmarks[i, :2]).astype(int)
        patch = frame[max(y - r, 0) : min(y + r + 1, h), max(x - r, 0) : min(x + r + 1, w)]
        if patch.size:
            samples.append(patch.reshape(-1, 3))
    lab = _lab(np.concatenate(samples)[None])[0]
    mean = np.median(lab, axis=0).astype(np.float32)
    spread = np.maximum(np.percentile(np.abs(lab - mean), 90, axis=0), [30.0, 10.0, 10.0]).astype(np.float32)
    return mean, spread


def not_skin(region: NDArray[np.uint8], skin: SkinModel) -> NDArray[np.float32]:
    """How far each pixel is from the skin colour, 0 (skin) to 1 (clearly not skin)."""
    mean, spread = skin
    d = (_lab(region) - mean) / spread
    dist = np.sqrt((d**2).sum(axis=2))
    out: NDArray[np.float32] = np.clip((dist - 2.5) / 1.5, 0.0, 1.0).astype(np.float32)
    return out
