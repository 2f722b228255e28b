"""The canonical face: a left-right symmetric 468-point shape in a head frame, and the mirror map
of the face mesh (which vertex is which vertex's mirror partner).

Derived by us (no outside data) from our own face landmark model on skimage.data.astronaut()
(public domain) and on its mirror image: the mesh run on the flipped image, flipped back, puts
every vertex at its anatomical partner's place; the best reflection of the 3D landmarks onto
themselves with a one-to-one matching gives the mirror map, and averaging each vertex with its
reflected partner gives a symmetric shape. Head frame: x from the subject's right eye to their
left (image right on a frontal face), y from the forehead down to the chin, z away from the
camera, as the image and MediaPipe's depth. Units: the distance between the outer eye corners
(33 and 263) is 1; the origin is the centroid.

``python -m tryon.headpose.build`` rebuilds ``canonical_face.npz`` (needs the test extras).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from tryon.errors import ModelError

DATA = Path(__file__).with_name("canonical_face.npz")
RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 33, 263
FOREHEAD, CHIN = 10, 152
N_LANDMARKS = 468


@dataclass(frozen=True)
class CanonicalFace:
    shape: NDArray[np.float64]
    """``(468, 3)``, symmetric about x = 0."""
    mirror: NDArray[np.int64]
    """``(468,)``: ``mirror[i]`` is the vertex opposite ``i`` (``i`` itself on the midline)."""


@functools.cache
def load_canonical() -> CanonicalFace:
    try:
        with np.load(DATA) as d:
            shape, mirror = d["shape"].astype(np.float64), d["mirror"].astype(np.int64)
    except (OSError, KeyError) as exc:
        raise ModelError(f"{DATA}: cannot read the canonical face ({exc})") from exc
    if shape.shape != (N_LANDMARKS, 3) or mirror.shape != (N_LANDMARKS,):
        raise ModelError(
            f"{DATA}: expected shape (468, 3) and mirror (468,), got {shape.shape}, {mirror.shape}"
        )
    return CanonicalFace(shape, mirror)


def _reflection(x: NDArray[np.float64], mirror: NDArray[np.int64]) -> NDArray[np.float64]:
    """The orthogonal matrix with determinant -1 that best maps ``x`` onto ``x[mirror]`` (rows)."""
    u, _, vt = np.linalg.svd(x.T @ x[mirror])
    d = np.eye(3)
    if np.linalg.det(u @ vt) > 0:
        d[2, 2] = -1.0
    q: NDArray[np.float64] = u @ d @ vt
    return q


def build_canonical(
    landmarks: NDArray[np.floating], flipped_back: NDArray[np.floating], iterations: int = 5
) -> CanonicalFace:
    """The canonical face from a face's landmarks and those of its mirror image flipped back
    (x → width - 1 - x), both ``(468, 3)`` in pixels."""
    from scipy.optimize import linear_sum_assignment

    lm = np.asarray(landmarks, np.float64)
    x = lm - lm.mean(0)
    fb = np.asarray(flipped_back, np.float64) - lm.mean(0)
    mirror = np.linalg.norm(fb[:, None] - x[None], axis=2).argmin(1)
    for _ in range(iterations):
        reflected = x @ _reflection(x, mirror)
        rows, cols = linear_sum_assignment(np.linalg.norm(reflected[:, None] - x[None], axis=2))
        mirror = cols[np.argsort(rows)]
    if not np.array_equal(mirror[mirror], np.arange(len(mirror))):
        raise ModelError("canonical face: the mirror matching is not an involution")
    q = _reflection(x, mirror)
    symmetric = 0.5 * (x + (x @ q)[mirror])
    # The head frame: x along the reflection's normal, y down the symmetry plane, z = x × y.
    w, v = np.linalg.eigh(0.5 * (q + q.T))
    normal = v[:, np.argmin(w)]
    if normal @ (symmetric[LEFT_EYE_OUTER] - symmetric[RIGHT_EYE_OUTER]) < 0:
        normal = -normal
    down = symmetric[CHIN] - symmetric[FOREHEAD]
    down -= (down @ normal) * normal
    down /= np.linalg.norm(down)
    axes = np.stack([normal, down, np.cross(normal, down)], axis=1)
    shape = symmetric @ axes
    shape -= shape.mean(0)
    shape /= np.linalg.norm(shape[LEFT_EYE_OUTER] - shape[RIGHT_EYE_OUTER])
    return CanonicalFace(shape, mirror.astype(np.int64))
