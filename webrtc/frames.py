"""Pure frame helpers for the live path: a fixed output size whatever the camera sends."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray


def fit_to_size(image: NDArray[np.uint8], size: tuple[int, int]) -> NDArray[np.uint8]:
    """``image`` scaled to fit ``size`` (width, height), aspect kept, centred on black.

    Browsers change the camera's resolution under load (WebRTC's adaptation); the encoder and the
    page keep one size, and people are never stretched. Returned as is when it already fits.
    """
    w, h = size
    ih, iw = image.shape[:2]
    if (iw, ih) == (w, h):
        return image
    scale = min(w / iw, h / ih)
    nw, nh = max(1, round(iw * scale)), max(1, round(ih * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (nw, nh), interpolation=interp)
    if (nw, nh) == (w, h):
        return np.ascontiguousarray(resized)
    out = np.zeros((h, w, 3), np.uint8)
    x0, y0 = (w - nw) // 2, (h - nh) // 2
    out[y0 : y0 + nh, x0 : x0 + nw] = resized
    return out
