"""Head pose of one face: the similarity transform (scale, rotation, translation) that best maps
the canonical face onto its landmarks, and the rotation as yaw, pitch and roll.

Landmarks are MediaPipe's: x, y in pixels, z a depth in the same scale (weak perspective, as the
face mesh model predicts it). Angles, in degrees, in the image frame (x right, y down, z away from
the camera), ``R = Rz(roll) · Ry(yaw) · Rx(pitch)``:

- yaw > 0: the nose turns towards the left of the image (the subject's right);
- pitch > 0: the face looks down;
- roll > 0: the head tilts clockwise on screen.

The lower face (mouth, jaw) moves with expressions; it weighs less in the fit than the rigid
upper face (forehead, eyes, nose).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tryon.errors import InputError
from tryon.headpose.canonical import N_LANDMARKS, load_canonical

LOWER_FACE_WEIGHT = 0.2
NOSE_BASE = 2


@dataclass(frozen=True)
class HeadPose:
    rotation: NDArray[np.float64]
    """``(3, 3)``: canonical head frame → image frame."""
    translation: NDArray[np.float64]
    """``(3,)``: where the canonical origin lands (x, y in pixels; z in the landmarks' depth)."""
    scale: float
    """Pixels per canonical unit: the outer-eye-corner distance of the face seen frontally."""
    rms: float
    """Root mean square residual of the fit, in pixels (how rigid-looking the landmarks are)."""

    def __post_init__(self) -> None:
        if self.rotation.shape != (3, 3):
            raise InputError(f"HeadPose.rotation: expected (3, 3), got {self.rotation.shape}")
        if self.translation.shape != (3,):
            raise InputError(f"HeadPose.translation: expected (3,), got {self.translation.shape}")

    @property
    def euler(self) -> tuple[float, float, float]:
        """``(yaw, pitch, roll)`` in degrees."""
        return euler_from_matrix(self.rotation)

    @property
    def yaw(self) -> float:
        return self.euler[0]

    @property
    def pitch(self) -> float:
        return self.euler[1]

    @property
    def roll(self) -> float:
        return self.euler[2]

    def project(self, points: NDArray[np.floating]) -> NDArray[np.float64]:
        """Canonical-frame points ``(N, 3)`` to image ``(N, 3)`` (x, y pixels, z depth)."""
        p = np.asarray(points, np.float64)
        out: NDArray[np.float64] = self.scale * p @ self.rotation.T + self.translation
        return out


def matrix_from_euler(yaw: float, pitch: float, roll: float) -> NDArray[np.float64]:
    """``Rz(roll) · Ry(yaw) · Rx(pitch)``, angles in degrees."""
    y, p, r = (math.radians(a) for a in (yaw, pitch, roll))
    rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    rz = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    m: NDArray[np.float64] = rz @ ry @ rx
    return m


def euler_from_matrix(m: NDArray[np.floating]) -> tuple[float, float, float]:
    """``(yaw, pitch, roll)`` in degrees of a rotation ``Rz(roll) · Ry(yaw) · Rx(pitch)``."""
    yaw = math.asin(max(-1.0, min(1.0, -float(m[2, 0]))))
    pitch = math.atan2(float(m[2, 1]), float(m[2, 2]))
    roll = math.atan2(float(m[1, 0]), float(m[0, 0]))
    return math.degrees(yaw), math.degrees(pitch), math.degrees(roll)


def fit_similarity(
    src: NDArray[np.float64], dst: NDArray[np.float64], weights: NDArray[np.float64]
) -> tuple[float, NDArray[np.float64], NDArray[np.float64]]:
    """Weighted Umeyama: ``s, R, t`` minimising ``Σ w |s R src + t - dst|²`` with ``R`` a rotation."""
    w = weights / weights.sum()
    mu_s, mu_d = w @ src, w @ dst
    a, b = src - mu_s, dst - mu_d
    u, sv, vt = np.linalg.svd(b.T @ (w[:, None] * a))
    d = np.ones(3)
    if np.linalg.det(u @ vt) < 0:
        d[2] = -1.0
    r: NDArray[np.float64] = u @ np.diag(d) @ vt
    s = float((sv * d).sum() / (w @ (a * a).sum(1)))
    t: NDArray[np.float64] = mu_d - s * r @ mu_s
    return s, r, t


@functools.cache
def _weights() -> NDArray[np.float64]:
    shape = load_canonical().shape
    w = np.ones(N_LANDMARKS)
    w[shape[:, 1] > shape[NOSE_BASE, 1]] = LOWER_FACE_WEIGHT
    w.setflags(write=False)  # cached and shared by every fit
    return w


def estimate_head_pose(landmarks: NDArray[np.floating]) -> HeadPose:
    """The head pose of a face from its ``(468, 3)`` (or 478, iris included) landmarks."""
    lm = np.asarray(landmarks, np.float64)
    if lm.ndim != 2 or lm.shape[0] not in (N_LANDMARKS, N_LANDMARKS + 10) or lm.shape[1] != 3:
        raise InputError(f"face landmarks: expected (468, 3), got {lm.shape}")
    if not np.isfinite(lm).all():
        raise InputError("face landmarks: expected finite values, got NaN or infinity")
    lm = lm[:N_LANDMARKS]
    shape = load_canonical().shape
    w = _weights()
    s, r, t = fit_similarity(shape, lm, w)
    residual = s * shape @ r.T + t - lm
    rms = float(np.sqrt((w * (residual**2).sum(1)).sum() / w.sum()))
    return HeadPose(r, t, s, rms)
