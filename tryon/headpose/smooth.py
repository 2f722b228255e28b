"""Temporal smoothing of a head pose: One Euro on the rotation (as a quaternion's vector part,
sign-aligned), the translation and the scale, with the face landmarks' parameters."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from tryon.headpose.estimate import HeadPose
from tryon.smooth.one_euro import LandmarkSmoother, OneEuroParams

HEAD_POSE = OneEuroParams(min_cutoff=0.05, beta=50.0, derivate_cutoff=3.0)
"""Tuned on synthetic poses with 1.5 px landmark noise at 80 px between the eyes
(tests/test_headpose.py): still jitter down to a quarter, under 1° of lag while the head turns
at 60°/s. The landmarks' own parameters (beta 200) only halve the jitter; accessories drawn from
the pose show it more than makeup drawn from the landmarks."""


def quaternion_from_matrix(m: NDArray[np.float64]) -> NDArray[np.float64]:
    """``(w, x, y, z)`` with ``w >= 0``."""
    w = np.sqrt(max(0.0, 1.0 + m[0, 0] + m[1, 1] + m[2, 2])) / 2
    x = np.sqrt(max(0.0, 1.0 + m[0, 0] - m[1, 1] - m[2, 2])) / 2
    y = np.sqrt(max(0.0, 1.0 - m[0, 0] + m[1, 1] - m[2, 2])) / 2
    z = np.sqrt(max(0.0, 1.0 - m[0, 0] - m[1, 1] + m[2, 2])) / 2
    x = np.copysign(x, m[2, 1] - m[1, 2])
    y = np.copysign(y, m[0, 2] - m[2, 0])
    z = np.copysign(z, m[1, 0] - m[0, 1])
    q = np.array([w, x, y, z])
    out: NDArray[np.float64] = q / np.linalg.norm(q)
    return out


def matrix_from_quaternion(q: NDArray[np.float64]) -> NDArray[np.float64]:
    w, x, y, z = q / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


class HeadPoseSmoother:
    """``update(pose, timestamp) -> pose`` per frame; ``reset()`` when the face's track is lost."""

    def __init__(self, params: OneEuroParams = HEAD_POSE) -> None:
        self._filter = LandmarkSmoother(params)
        self._last_q: NDArray[np.float64] | None = None

    def reset(self) -> None:
        self._filter.reset()
        self._last_q = None

    def update(self, pose: HeadPose, timestamp: float) -> HeadPose:
        q = quaternion_from_matrix(pose.rotation)
        if self._last_q is not None and q @ self._last_q < 0:
            q = -q  # the same rotation, on the side of the previous one
        # Rotation in units of the face's size (radians x scale ~ pixels), so the filter's
        # velocity-dependent cutoff sees the same numbers as for landmarks.
        state = np.concatenate([q * pose.scale, pose.translation, [pose.scale]])[None, :]
        out = self._filter.update(state, timestamp, object_scale=pose.scale).astype(np.float64)[0]
        self._last_q = out[:4] / np.linalg.norm(out[:4])
        return HeadPose(matrix_from_quaternion(out[:4]), out[4:7], float(out[7]), pose.rms)
