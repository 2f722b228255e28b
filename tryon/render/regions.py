"""Face regions from the 468 face-mesh landmarks: lips, lids, cheeks, brows, face oval.

Index lists follow MediaPipe's face mesh topology (the canonical face model). "Right" and "left"
are the subject's: the right eye is on the image's left in an unmirrored photo. Every function is
pure: landmarks ``(N >= 468, 2+)`` in pixels in, polygons ``(K, 2)`` float64 in pixels out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tryon.errors import InputError

Points = NDArray[np.float64]

# fmt: off
SILHOUETTE = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
              152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)
# fmt: on

# Lip contours, corner to corner; upper/lower outer and inner have 11 points each, paired by index.
LIPS_UPPER_OUTER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
LIPS_LOWER_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
LIPS_UPPER_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LIPS_LOWER_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)


@dataclass(frozen=True)
class EyeIndices:
    outer: int
    inner: int
    upper_lid: tuple[int, ...]  # lash line, outer → inner, corners excluded
    lower_lid: tuple[int, ...]  # outer → inner, corners excluded
    crease: tuple[int, ...]  # the lid crease / socket line above the lid, outer → inner
    brow_upper: tuple[int, ...]  # outer → inner
    brow_lower: tuple[int, ...]  # outer → inner
    cheek: tuple[int, ...]  # cheek-apple polygon below the eye


RIGHT_EYE = EyeIndices(
    outer=33,
    inner=133,
    upper_lid=(246, 161, 160, 159, 158, 157, 173),
    lower_lid=(7, 163, 144, 145, 153, 154, 155),
    crease=(113, 225, 224, 223, 222, 221, 189),
    brow_upper=(156, 70, 63, 105, 66, 107),
    brow_lower=(124, 46, 53, 52, 65, 55),
    cheek=(117, 118, 101, 36, 205, 187, 147, 123, 116),
)
LEFT_EYE = EyeIndices(
    outer=263,
    inner=362,
    upper_lid=(466, 388, 387, 386, 385, 384, 398),
    lower_lid=(249, 390, 373, 374, 380, 381, 382),
    crease=(342, 445, 444, 443, 442, 441, 413),
    brow_upper=(383, 300, 293, 334, 296, 336),
    brow_lower=(353, 276, 283, 282, 295, 285),
    cheek=(346, 347, 330, 266, 425, 411, 376, 352, 345),
)
EYES = (RIGHT_EYE, LEFT_EYE)


def check_landmarks(landmarks: NDArray[np.floating]) -> Points:
    arr = np.asarray(landmarks)
    if arr.ndim != 2 or arr.shape[0] < 468 or arr.shape[1] < 2:
        raise InputError(f"face landmarks: expected (468, 3) or (478, 3), got {arr.shape}")
    out: Points = arr[:, :2].astype(np.float64)
    return out


def interocular(lm: Points) -> float:
    """Outer-eye-corner distance, the scale every region's size and feathering is relative to."""
    return float(np.linalg.norm(lm[RIGHT_EYE.outer] - lm[LEFT_EYE.outer]))


def lips_outer(lm: Points) -> Points:
    return np.concatenate([lm[list(LIPS_UPPER_OUTER)], lm[list(LIPS_LOWER_OUTER[-2:0:-1])]])


def lips_inner(lm: Points) -> Points:
    return np.concatenate([lm[list(LIPS_UPPER_INNER)], lm[list(LIPS_LOWER_INNER[-2:0:-1])]])


def eye_opening(lm: Points, eye: EyeIndices) -> Points:
    return np.concatenate(
        [lm[[eye.outer]], lm[list(eye.upper_lid)], lm[[eye.inner]], lm[list(eye.lower_lid[::-1])]]
    )


def lash_line(lm: Points, eye: EyeIndices) -> Points:
    """Upper lash line, outer corner → inner corner."""
    return np.concatenate([lm[[eye.outer]], lm[list(eye.upper_lid)], lm[[eye.inner]]])


def up_vector(lm: Points, eye: EyeIndices) -> NDArray[np.float64]:
    """Unit vector perpendicular to the eye axis, pointing from the eye towards the brow."""
    axis = lm[eye.outer] - lm[eye.inner]
    n = np.array([axis[1], -axis[0]]) / max(float(np.linalg.norm(axis)), 1e-6)
    to_brow = lm[list(eye.brow_lower)].mean(axis=0) - (lm[eye.outer] + lm[eye.inner]) / 2
    return n if float(n @ to_brow) >= 0 else -n


def resample(polyline: Points, n: int) -> Points:
    """``n`` points evenly spaced along a polyline by arc length."""
    seg = np.linalg.norm(np.diff(polyline, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] <= 0:
        return np.repeat(polyline[:1], n, axis=0)
    t = np.linspace(0.0, s[-1], n)
    return np.stack([np.interp(t, s, polyline[:, 0]), np.interp(t, s, polyline[:, 1])], axis=1)


def lid(lm: Points, eye: EyeIndices, height: float = 1.0) -> tuple[Points, Points]:
    """The eyelid between the lash line and the crease (``height`` scales the crease's distance
    from the lash line): two polylines of equal length, lash line then crease, outer → inner."""
    lash = resample(lash_line(lm, eye), 15)
    crease_pts = np.concatenate([lm[[eye.outer]], lm[list(eye.crease)], lm[[eye.inner]]])
    crease = resample(crease_pts, 15)
    return lash, lash + (crease - lash) * height


def brow(lm: Points, eye: EyeIndices) -> Points:
    return np.concatenate([lm[list(eye.brow_upper)], lm[list(eye.brow_lower[::-1])]])


def cheek(lm: Points, eye: EyeIndices) -> Points:
    return lm[list(eye.cheek)]


def face_oval(lm: Points) -> Points:
    return lm[list(SILHOUETTE)]


def grow(poly: Points, amount: float) -> Points:
    """Move every vertex ``amount`` pixels away from the polygon's centroid (a cheap dilation
    for the convex-ish shapes used as holes)."""
    c = poly.mean(axis=0)
    d = poly - c
    norm = np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-6)
    out: Points = poly + d / norm * amount
    return out


def strip_quads(a: Points, b: Points) -> NDArray[np.float64]:
    """Quads ``(n-1, 4, 2)`` between two polylines of equal length: a[i], a[i+1], b[i+1], b[i]."""
    return np.stack([a[:-1], a[1:], b[1:], b[:-1]], axis=1)


def lip_quads(lm: Points) -> NDArray[np.float64]:
    """The lips as 20 quads between paired outer and inner contour points (upper then lower)."""
    upper = strip_quads(lm[list(LIPS_UPPER_OUTER)], lm[list(LIPS_UPPER_INNER)])
    lower = strip_quads(lm[list(LIPS_LOWER_OUTER)], lm[list(LIPS_LOWER_INNER)])
    return np.concatenate([upper, lower])
