"""The gate: which poses are plausible enough to be handed to a renderer.

A pose passes when (in this order; the first rule it breaks is its reason, see
:data:`tryon.results.REJECT_REASONS`):

``shoulders``
    both shoulders visible (visibility ≥ ``min_visibility``) and inside the frame;
``hips``
    both hips visible too, only when ``require_hips``;
``no_face`` / ``off_person``
    its head is a face's: its nose and eyes inside a face's box grown by ``face_margin`` of the
    face's height. A pose no face vouches for passes when the person mask (segmentation) has its
    head and its shoulders' midpoint on the person; without a mask it is refused (``no_face``) if
    faces were looked for in the frame, and passes unchecked if none were. With a mask that has
    the head on the person, the shoulders' midpoint must be on it too, whatever vouches for the
    head (``off_person``); a mask that misses a face's head (a small person) is not evidence;
``proportions``
    shoulder width over face height in ``shoulders_per_face`` (the face's when one vouches, else
    the head size read from the pose's own face points), and, when the hips are visible, the torso
    (shoulders' to hips' midpoint) over the shoulder width in ``torso_per_shoulders``;
``duplicate``
    not the same person as a kept pose: their heads, or both their shoulders, within
    ``duplicate_distance`` of the shoulder width (:func:`same_person`, :func:`one_per_person`);
    counted when a tracked pose is merged away (two tracks on one person), not when the search
    finds a new person twice;
``unconfirmed``
    in video, the person seen for ``confirm_frames`` frames in a row (as this plausible pose, or
    as the tracked face that vouches for it) before the pose is first dressed; then it stays
    dressed while tracked, and its person evidence (``no_face``, ``off_person``) may fail for
    a few frames in a row (a flickering mask). The first frame of a stream has nothing to be
    stable over: it is dressed like a photo.

Everything here is pure: :class:`tryon.track.bodies.BodyTracker` runs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tryon.detect.ssd import Detection
from tryon.errors import InputError
from tryon.results import Face, Pose

NOSE, LEFT_EYE, RIGHT_EYE, LEFT_EAR, RIGHT_EAR, MOUTH_LEFT, MOUTH_RIGHT = 0, 2, 5, 7, 8, 9, 10
SHOULDERS = (11, 12)
HIPS = (23, 24)
HEAD = (NOSE, LEFT_EYE, RIGHT_EYE)
FACE_PER_EYE_MOUTH = 2.4
"""Face height (forehead to chin) over the eyes'-to-mouth distance (2.3–2.5 on the test photos)."""
FACE_PER_EARS = 1.3
"""Face height over the ear-to-ear distance of a frontal face (1.24–1.36)."""
FACE_PER_DETECTION_BOX = 1.0
"""Face height over the side of a face detector's box (0.92–1.02)."""


@dataclass(frozen=True)
class GateConfig:
    min_visibility: float = 0.5
    """The renderers' own threshold for a visible joint."""
    require_hips: bool = False
    face_margin: float = 0.25
    shoulders_per_face: tuple[float, float] = (0.6, 3.5)
    """Frontal adults: 1.6–1.9 face heights between the shoulder joints; 0.6 is a body turned ~70°."""
    torso_per_shoulders: tuple[float, float] = (0.5, 3.5)
    """Frontal adults: 1.2–2.0."""
    duplicate_distance: float = 0.25
    mask_cover: float = 0.3
    """Least mean person probability around the shoulders' midpoint (a square half the shoulder
    width across) and, when no face vouches, around the nose (a quarter): 0.4–1 on the people of
    the test photos (dark suits segment poorly), ~0 off them."""
    confirm_frames: int = 3

    def __post_init__(self) -> None:
        if self.confirm_frames < 1:
            raise InputError(f"GateConfig.confirm_frames: expected ≥ 1, got {self.confirm_frames}")
        for name in ("shoulders_per_face", "torso_per_shoulders"):
            lo, hi = getattr(self, name)
            if not 0 <= lo < hi:
                raise InputError(f"GateConfig.{name}: expected 0 ≤ low < high, got {(lo, hi)}")


@dataclass(frozen=True)
class FaceBox:
    """A face as the body finder and the gate see it: an axis-aligned box, its centre, the unit
    vector from chin to forehead, its height in pixels and its track id (a face mesh's)."""

    box: tuple[float, float, float, float]
    center: NDArray[np.float64]
    up: NDArray[np.float64]
    size: float
    id: int | None = None

    @staticmethod
    def from_face(face: Face) -> FaceBox:
        xy = face.landmarks[:, :2].astype(np.float64)
        top, chin = xy[10], xy[152]
        size = float(np.linalg.norm(top - chin))
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        box = (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))
        return FaceBox(box, (top + chin) / 2, (top - chin) / max(size, 1e-6), size, face.id)

    @staticmethod
    def from_detection(d: Detection) -> FaceBox:
        kp = d.keypoints.astype(np.float64)
        up = (kp[0] + kp[1]) / 2 - kp[3]  # eyes' midpoint minus the mouth
        norm = float(np.linalg.norm(up))
        up = up / norm if norm > 1e-6 else np.array([0.0, -1.0])
        center = np.array([(d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2])
        size = FACE_PER_DETECTION_BOX * (d.width + d.height) / 2
        return FaceBox(d.box, center, up, size)

    def contains(self, xy: NDArray[np.floating], margin: float) -> bool:
        """Whether all points ``(N, 2)`` are inside the box grown by ``margin`` face heights."""
        m = margin * self.size
        x0, y0, x1, y1 = self.box
        pts = np.asarray(xy, np.float64).reshape(-1, 2)
        return bool(
            np.all(
                (pts[:, 0] >= x0 - m) & (pts[:, 0] <= x1 + m) & (pts[:, 1] >= y0 - m) & (pts[:, 1] <= y1 + m)
            )
        )


def head_size(pose: Pose) -> float:
    """The face height a pose's own face points imply (eyes to mouth, ear to ear)."""
    xy = pose.xy.astype(np.float64)
    eyes_mouth = np.linalg.norm((xy[LEFT_EYE] + xy[RIGHT_EYE]) / 2 - (xy[MOUTH_LEFT] + xy[MOUTH_RIGHT]) / 2)
    ears = np.linalg.norm(xy[LEFT_EAR] - xy[RIGHT_EAR])
    return float(max(FACE_PER_EYE_MOUTH * eyes_mouth, FACE_PER_EARS * ears))


def shoulder_width(pose: Pose) -> float:
    return float(np.linalg.norm(pose.xy[SHOULDERS[0]] - pose.xy[SHOULDERS[1]]))


def face_of(pose: Pose, faces: Sequence[FaceBox], margin: float) -> FaceBox | None:
    """The face whose box (grown by ``margin`` face heights) holds the pose's nose and eyes; the
    nearest one when several do."""
    head = pose.xy[list(HEAD)]
    inside = [f for f in faces if f.contains(head, margin)]
    if not inside:
        return None
    return min(inside, key=lambda f: float(np.linalg.norm(f.center - head.mean(axis=0))))


def same_person(a: NDArray[np.floating], b: NDArray[np.floating], distance: float) -> bool:
    """Whether two poses' landmarks ``(33, ≥2)`` (``Pose.xy`` or raw) are one person: their heads
    (the mean of nose and eyes), or both their shoulders, within ``distance`` × their mean
    shoulder width of each other."""
    pa, pb = np.asarray(a, np.float64)[:, :2], np.asarray(b, np.float64)[:, :2]
    widths = [float(np.linalg.norm(p[SHOULDERS[0]] - p[SHOULDERS[1]])) for p in (pa, pb)]
    limit = distance * max(sum(widths) / 2, 1.0)
    heads = float(np.linalg.norm(pa[list(HEAD)].mean(axis=0) - pb[list(HEAD)].mean(axis=0)))
    shoulders = np.linalg.norm(pa[list(SHOULDERS)] - pb[list(SHOULDERS)], axis=1)
    return heads <= limit or bool(np.all(shoulders <= limit))


def one_per_person(points: Sequence[NDArray[np.floating]], distance: float) -> list[int]:
    """Indices of the poses to keep, one per person: each pose, in the given order (the caller's
    priority), is kept unless it is :func:`same_person` as one kept before it."""
    kept: list[int] = []
    for i, xy in enumerate(points):
        if not any(same_person(xy, points[k], distance) for k in kept):
            kept.append(i)
    return kept


def on_person(mask: NDArray[np.float32], center: NDArray[np.floating], side: float) -> float:
    """Mean person probability over the square of ``side`` pixels around ``center`` (0 outside
    the frame): robust to the holes segmentation leaves in dark clothes."""
    h, w = mask.shape
    half = max(side / 2, 1.0)
    x, y = float(center[0]), float(center[1])
    x0, x1 = round(x - half), round(x + half) + 1
    y0, y1 = round(y - half), round(y + half) + 1
    total = (x1 - x0) * (y1 - y0)
    window = mask[max(y0, 0) : max(min(y1, h), 0), max(x0, 0) : max(min(x1, w), 0)]
    return float(window.sum()) / total if total > 0 else 0.0


def _visible(pose: Pose, idx: Sequence[int], size: tuple[int, int], threshold: float) -> bool:
    w, h = size
    xy = pose.xy[list(idx)]
    inside = (xy[:, 0] >= 0) & (xy[:, 0] < w) & (xy[:, 1] >= 0) & (xy[:, 1] < h)
    return bool(np.all(inside) and np.all(pose.visibility[list(idx)] >= threshold))


@dataclass(frozen=True)
class Verdict:
    """The gate on one pose in one frame: ``reason`` is ``None`` when it passes; ``face`` is the
    face that vouches for it, if any."""

    reason: str | None
    face: FaceBox | None = None


def check(
    pose: Pose,
    size: tuple[int, int],
    faces: Sequence[FaceBox],
    mask: NDArray[np.float32] | None,
    faces_searched: bool,
    config: GateConfig,
) -> Verdict:
    """The frame-level rules (all but ``duplicate`` and ``unconfirmed``) on one pose in a frame of
    ``size`` = ``(width, height)``."""
    c = config
    if not _visible(pose, SHOULDERS, size, c.min_visibility):
        return Verdict("shoulders")
    hips_seen = _visible(pose, HIPS, size, c.min_visibility)
    if c.require_hips and not hips_seen:
        return Verdict("hips")
    face = face_of(pose, faces, c.face_margin)
    mid_shoulders = pose.xy[list(SHOULDERS)].mean(axis=0)
    width = shoulder_width(pose)
    if mask is not None:
        head_on = on_person(mask, pose.xy[NOSE], width / 4) >= c.mask_cover
        # A mask that misses a face's head (a small or far person) says nothing about them.
        if (face is None or head_on) and not (
            head_on and on_person(mask, mid_shoulders, width / 2) >= c.mask_cover
        ):
            return Verdict("off_person", face)
    elif face is None and faces_searched:
        return Verdict("no_face")
    lo, hi = c.shoulders_per_face
    if not lo <= width / max(face.size if face is not None else head_size(pose), 1e-6) <= hi:
        return Verdict("proportions", face)
    if hips_seen:
        torso = float(np.linalg.norm(mid_shoulders - pose.xy[list(HIPS)].mean(axis=0)))
        lo, hi = c.torso_per_shoulders
        if not lo <= torso / max(width, 1e-6) <= hi:
            return Verdict("proportions", face)
    return Verdict(None, face)


__all__ = [
    "FaceBox",
    "GateConfig",
    "Verdict",
    "check",
    "face_of",
    "head_size",
    "on_person",
    "one_per_person",
    "same_person",
    "shoulder_width",
]
