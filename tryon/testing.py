"""Synthetic test material for developers: moving sequences made from a still image with known
per-frame transforms (rotation, scale, shift, brightness), and noisy still sequences."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class Transform:
    angle: float = 0.0
    """Degrees, counter-clockwise on screen (OpenCV's convention)."""
    scale: float = 1.0
    dx: float = 0.0
    dy: float = 0.0
    brightness: float = 1.0

    def matrix(self, w: int, h: int) -> NDArray[np.float64]:
        m = np.asarray(cv2.getRotationMatrix2D((w / 2, h / 2), self.angle, self.scale), dtype=np.float64)
        m[:, 2] += np.array([self.dx, self.dy])
        return m

    def apply(self, img: NDArray[np.uint8], border: int = cv2.BORDER_REFLECT) -> NDArray[np.uint8]:
        h, w = img.shape[:2]
        out = cv2.warpAffine(img, self.matrix(w, h), (w, h), flags=cv2.INTER_LINEAR, borderMode=border)
        if self.brightness != 1.0:
            out = np.clip(out.astype(np.float32) * self.brightness, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(out, dtype=np.uint8)

    def points(self, xy: NDArray[np.floating], w: int, h: int) -> NDArray[np.float64]:
        m = self.matrix(w, h)
        return np.asarray(xy, np.float64) @ m[:, :2].T + m[:, 2]


STILL_TRANSFORMS = {
    "original": Transform(),
    "rot+45": Transform(angle=45),
    "rot-45": Transform(angle=-45),
    "rot+20-scale0.7": Transform(angle=20, scale=0.7),
    "scale0.5": Transform(scale=0.5),
    "scale1.5": Transform(scale=1.5, dy=60),
    "shift": Transform(dx=-70, dy=40),
    "dark": Transform(brightness=0.45),
    "bright": Transform(brightness=1.5),
}


def moving(n: int = 24) -> list[Transform]:
    """A smooth head-and-camera motion: rotation ±15°, zoom 0.85–1.1, drift of ~60 px."""
    out = []
    for i in range(n):
        t = i / max(1, n - 1)
        out.append(
            Transform(
                angle=15 * np.sin(2 * np.pi * t),
                scale=0.975 + 0.125 * np.sin(np.pi * t),
                dx=60 * t - 30,
                dy=20 * np.sin(2 * np.pi * t),
            )
        )
    return out


def noisy_still(img: NDArray[np.uint8], n: int, sigma: float, seed: int = 0) -> Iterator[NDArray[np.uint8]]:
    """The same frame with independent Gaussian sensor noise each time."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        noise = rng.normal(0, sigma, img.shape)
        yield np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)
