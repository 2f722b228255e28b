"""Synthetic test material for developers: moving sequences made from a still image with known
per-frame transforms (rotation, scale, shift, brightness), noisy still sequences, and cartoon
hands."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.geometry import Roi
from tryon.results import Pose


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


# -- cartoon hands (the hand tests' and benchmarks' subjects: no licensed hand photos here) --

Scene = Sequence[tuple[float, float, float, float, bool]]
"""Cartoon hands: (cx, cy, scale, angle in radians, mirrored)."""

TWO_HANDS: Scene = [(190, 270, 0.85, -0.25, False), (460, 260, 0.8, 0.3, True)]
ONE_HAND_ROTATED: Scene = [(320, 250, 0.9, 0.9, False)]

_PALM = ((-55, 60), (-62, -10), (-50, -55), (50, -60), (58, -10), (50, 60), (20, 85), (-25, 85))
_FINGERS = (
    ((-40, -45), (-75, -160), 12),
    ((-14, -55), (-24, -195), 13),
    ((14, -55), (24, -190), 13),
    ((40, -45), (72, -150), 11),
)
_THUMB = (((50, 40), (95, -10), 18), ((95, -10), (120, -60), 15))


def _placer(cx: float, cy: float, s: float, angle: float, mirrored: bool) -> Callable[..., tuple[int, int]]:
    c, si = math.cos(angle), math.sin(angle)

    def pt(x: float, y: float) -> tuple[int, int]:
        x = -x if mirrored else x
        return round(cx + s * (c * x - si * y)), round(cy + s * (si * x + c * y))

    return pt


def hands_image(scene: Scene, size: tuple[int, int] = (480, 640)) -> NDArray[np.uint8]:
    """Flat-shaded open hands with forearms on a blue-grey gradient (fingers up at angle 0)."""
    h, w = size
    ramp = np.linspace(0.8, 1.2, w, dtype=np.float32)[None, :, None]
    out = np.broadcast_to(np.array((60, 80, 100), np.float32) * ramp, (h, w, 3)).copy()
    skin = np.array((224, 172, 140), np.float32)
    creases = []
    for cx, cy, s, angle, mirrored in scene:
        pt = _placer(cx, cy, s, angle, mirrored)
        mask = np.zeros((h, w), np.uint8)
        cv2.fillPoly(mask, [np.array([pt(*p) for p in _PALM], np.int32)], 255)
        for a, b, r in _FINGERS + _THUMB:
            cv2.line(mask, pt(*a), pt(*b), 255, int(2 * r * s))
            cv2.circle(mask, pt(*b), int(r * s), 255, -1)
        cv2.line(mask, pt(0, 70), pt(0, 260), 255, int(100 * s))
        shade = 0.75 + 0.25 * cv2.GaussianBlur(mask, (0, 0), 6 * s)[..., None].astype(np.float32) / 255
        alpha = cv2.GaussianBlur(mask, (0, 0), 1.0)[..., None].astype(np.float32) / 255
        out = out * (1 - alpha) + skin * shade * alpha
        for a, b, r in _FINGERS:
            for t in (0.45, 0.72):
                px, py = a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])
                creases.append((pt(px - 0.7 * r, py), pt(px + 0.7 * r, py), max(1, int(2 * s))))
    img = out.clip(0, 255).astype(np.uint8)
    for p0, p1, thickness in creases:
        cv2.line(img, p0, p1, (170, 120, 100), thickness)
    return np.ascontiguousarray(img)


def synthetic_pose(points: dict[int, tuple[float, float]], visibility: float = 1.0) -> Pose:
    """A pose with the given landmarks (index → pixel x, y), the others at the origin, all with
    ``visibility``: a body of known geometry for the renderers' tests."""
    lm = np.zeros((33, 4), np.float32)
    lm[:, 3] = visibility
    for i, (x, y) in points.items():
        lm[i, :2] = (x, y)
    return Pose(
        0, 1.0, lm, np.ones(33, np.float32), np.zeros((33, 3), np.float32), Roi(320, 240, 300, 300, 0.0)
    )
