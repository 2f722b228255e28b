"""One Euro filtering of landmarks (MediaPipe's LandmarksSmoothing semantics) and visibility LPF.

Smoothers hold state: ``update()`` per frame, ``reset()`` when a track is lost. The derivative
is scaled by ``1 / object_scale`` so the same parameters work for near and far subjects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class OneEuroParams:
    min_cutoff: float
    beta: float
    derivate_cutoff: float = 1.0
    disable_value_scaling: bool = False
    min_allowed_object_scale: float = 1e-6


# MediaPipe's pose graph (PoseLandmarkFiltering), the starting points.
POSE_LANDMARKS = OneEuroParams(min_cutoff=0.05, beta=80.0)
POSE_AUXILIARY = OneEuroParams(min_cutoff=0.01, beta=10.0)
POSE_WORLD = OneEuroParams(min_cutoff=0.1, beta=40.0, disable_value_scaling=True)
# MediaPipe's FaceLandmarker task uses the pose parameters (0.05, 80, 1.0) for faces. Tuned on a
# moving and a noisy still sequence (tests/test_face.py): with a derivative cutoff of 3 Hz and
# beta 200 the filter still halves the still jitter, but lags 1.6% of the inter-ocular distance at
# most during head turns instead of 4.8%.
FACE_LANDMARKS = OneEuroParams(min_cutoff=0.05, beta=200.0, derivate_cutoff=3.0)
HAND_LANDMARKS = OneEuroParams(min_cutoff=0.05, beta=80.0)


def _alpha(cutoff: float, dt: float) -> float:
    tau = 1.0 / (2.0 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


class LandmarkSmoother:
    """One Euro filter over an ``(N, D)`` landmark array (each coordinate filtered separately)."""

    def __init__(self, params: OneEuroParams) -> None:
        self.params = params
        self._x: NDArray[np.float64] | None = None
        self._raw: NDArray[np.float64] | None = None
        self._dx: NDArray[np.float64] | None = None
        self._t: float | None = None

    def reset(self) -> None:
        self._x = self._raw = self._dx = None
        self._t = None

    def update(
        self, values: NDArray[np.floating], timestamp: float, object_scale: float
    ) -> NDArray[np.float32]:
        """Filter ``values`` observed at ``timestamp`` seconds; ``object_scale`` in the values' units."""
        v = np.asarray(values, dtype=np.float64)
        p = self.params
        if not p.disable_value_scaling and object_scale < p.min_allowed_object_scale:
            return v.astype(np.float32)
        scale = 1.0 if p.disable_value_scaling else 1.0 / object_scale
        if (
            self._x is None
            or self._t is None
            or self._raw is None
            or self._dx is None
            or self._x.shape != v.shape
        ):
            self._x, self._raw, self._dx, self._t = v.copy(), v.copy(), np.zeros_like(v), timestamp
            return v.astype(np.float32)
        dt = timestamp - self._t
        if dt <= 0:
            return v.astype(np.float32)
        dx = (v - self._raw) * scale / dt
        a_d = _alpha(p.derivate_cutoff, dt)
        self._dx = a_d * dx + (1 - a_d) * self._dx
        cutoff = p.min_cutoff + p.beta * np.abs(self._dx)
        tau = 1.0 / (2.0 * np.pi * cutoff)
        a = 1.0 / (1.0 + tau / dt)
        self._x = a * v + (1 - a) * self._x
        self._raw = v
        self._t = timestamp
        return self._x.astype(np.float32)


class VisibilitySmoother:
    """Low-pass filter on visibility with a fixed ``alpha`` (MediaPipe: 0.1)."""

    def __init__(self, alpha: float = 0.1) -> None:
        self.alpha = alpha
        self._v: NDArray[np.float64] | None = None

    def reset(self) -> None:
        self._v = None

    def update(self, visibility: NDArray[np.floating]) -> NDArray[np.float32]:
        v = np.asarray(visibility, dtype=np.float64)
        if self._v is None or self._v.shape != v.shape:
            self._v = v.copy()
        else:
            self._v = self.alpha * v + (1 - self.alpha) * self._v
        return self._v.astype(np.float32)


def object_scale(roi_width: float, roi_height: float) -> float:
    """MediaPipe's object scale: the mean side of the ROI, in pixels."""
    return (roi_width + roi_height) / 2.0


def points_scale(xy: NDArray[np.floating]) -> float:
    """Object scale from the extent of a set of points, when no ROI is at hand."""
    pts = np.asarray(xy, dtype=np.float64)
    return float((np.ptp(pts[:, 0]) + np.ptp(pts[:, 1])) / 2.0)
