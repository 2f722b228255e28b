"""Validated per-frame results, in pixel coordinates of the input frame.

Landmark arrays are float32; ``x`` and ``y`` are pixels, ``z`` is depth in the same pixel units
(smaller is nearer the camera, relative to the face centre / hips / wrist as the model defines).
A shape error names the expected and the received shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tryon.errors import InputError
from tryon.geometry import Roi
from tryon.headpose.estimate import HeadPose

FACE_LANDMARKS = 468
FACE_LANDMARKS_WITH_IRIS = 478
POSE_LANDMARKS = 33
HAND_LANDMARKS = 21
REJECT_REASONS = ("shoulders", "hips", "no_face", "off_person", "proportions", "duplicate", "unconfirmed")
"""Why the pose stage's gate kept a pose from :attr:`FrameResult.poses` (``tryon.track.gate``):
shoulders hidden or out of the frame; hips hidden (when required); the head far from every face
found (no person mask to vouch for it); the head or shoulders off the person mask; proportions
outside the human range; the same person as a better pose; in video, not yet seen for enough frames."""


def _check(name: str, arr: NDArray[Any], shapes: tuple[tuple[int, ...], ...]) -> None:
    if not isinstance(arr, np.ndarray) or arr.dtype != np.float32:
        got = arr.dtype if isinstance(arr, np.ndarray) else type(arr).__name__
        raise InputError(f"{name}: expected a float32 array, got {got}")
    if tuple(arr.shape) not in shapes:
        want = " or ".join(str(s) for s in shapes)
        raise InputError(f"{name}: expected {want}, got {tuple(arr.shape)}")


@dataclass(frozen=True)
class Face:
    id: int
    score: float
    landmarks: NDArray[np.float32]
    """``(468, 3)``, or ``(478, 3)`` with iris refinement: x, y, z in pixels."""
    roi: Roi
    head_pose: HeadPose | None = None
    """Rotation, translation and scale of the head (smoothed per track in video mode)."""

    def __post_init__(self) -> None:
        _check("Face.landmarks", self.landmarks, ((FACE_LANDMARKS, 3), (FACE_LANDMARKS_WITH_IRIS, 3)))

    @property
    def xy(self) -> NDArray[np.float32]:
        return self.landmarks[:, :2]

    @property
    def interocular(self) -> float:
        """Distance between the outer eye corners (landmarks 33 and 263), in pixels."""
        return float(np.linalg.norm(self.landmarks[33, :2] - self.landmarks[263, :2]))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "score": round(self.score, 4)}
        if self.head_pose is not None:
            yaw, pitch, roll = self.head_pose.euler
            out["head_pose"] = {
                "yaw": round(yaw, 2),
                "pitch": round(pitch, 2),
                "roll": round(roll, 2),
                "scale": round(self.head_pose.scale, 2),
            }
        out["landmarks"] = _rows(self.landmarks)
        return out


@dataclass(frozen=True)
class Pose:
    id: int
    score: float
    landmarks: NDArray[np.float32]
    """``(33, 4)``: x, y, z in pixels and visibility in [0, 1]."""
    presence: NDArray[np.float32]
    """``(33,)`` probability that each landmark is inside the frame."""
    world: NDArray[np.float32]
    """``(33, 3)`` metres, origin between the hips."""
    roi: Roi
    mask: NDArray[np.float32] | None = None
    """Person mask from the pose model, ``(H, W)`` in [0, 1], when requested."""

    def __post_init__(self) -> None:
        _check("Pose.landmarks", self.landmarks, ((POSE_LANDMARKS, 4),))
        _check("Pose.presence", self.presence, ((POSE_LANDMARKS,),))
        _check("Pose.world", self.world, ((POSE_LANDMARKS, 3),))

    @property
    def xy(self) -> NDArray[np.float32]:
        return self.landmarks[:, :2]

    @property
    def visibility(self) -> NDArray[np.float32]:
        return self.landmarks[:, 3]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "score": round(self.score, 4), "landmarks": _rows(self.landmarks)}


@dataclass(frozen=True)
class Hand:
    id: int
    score: float
    handedness: str
    """``"Left"`` or ``"Right"``: the person's own hand (the frame is not assumed to be mirrored)."""
    handedness_score: float
    landmarks: NDArray[np.float32]
    """``(21, 3)``: x, y, z in pixels."""
    world: NDArray[np.float32]
    roi: Roi

    def __post_init__(self) -> None:
        _check("Hand.landmarks", self.landmarks, ((HAND_LANDMARKS, 3),))
        _check("Hand.world", self.world, ((HAND_LANDMARKS, 3),))
        if self.handedness not in ("Left", "Right"):
            raise InputError(f"Hand.handedness: expected 'Left' or 'Right', got {self.handedness!r}")

    @property
    def xy(self) -> NDArray[np.float32]:
        return self.landmarks[:, :2]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "handedness": self.handedness,
            "score": round(self.score, 4),
            "landmarks": _rows(self.landmarks),
        }


@dataclass(frozen=True)
class Segmentation:
    mask: NDArray[np.float32]
    """``(H, W)`` person probability in [0, 1] at frame size."""

    def __post_init__(self) -> None:
        if not isinstance(self.mask, np.ndarray) or self.mask.dtype != np.float32 or self.mask.ndim != 2:
            got = self.mask.shape if isinstance(self.mask, np.ndarray) else type(self.mask).__name__
            raise InputError(f"Segmentation.mask: expected a float32 (H, W) array, got {got}")


@dataclass
class FrameResult:
    width: int
    height: int
    faces: list[Face] = field(default_factory=list)
    poses: list[Pose] = field(default_factory=list)
    hands: list[Hand] = field(default_factory=list)
    segmentation: Segmentation | None = None
    timings: dict[str, float] = field(default_factory=dict)
    """Milliseconds per stage for this frame."""
    errors: list[str] = field(default_factory=list)
    """Stages that failed on this frame (their results are empty)."""
    face_boxes: list[tuple[float, float, float, float]] = field(default_factory=list)
    """Faces the detector found that the face mesh did not confirm (a profile, a wide-open mouth),
    as boxes ``(x0, y0, x1, y1)``: no landmarks, but renderers still keep them clear."""
    rejected: dict[str, int] = field(default_factory=dict)
    """Poses the pose stage found but kept from :attr:`poses` on this frame, by reason
    (:data:`REJECT_REASONS`); only reasons that occurred."""

    def __post_init__(self) -> None:
        for reason, n in self.rejected.items():
            _check_rejection(reason, n)

    def reject(self, reason: str, n: int = 1) -> None:
        """Count ``n`` poses kept out of :attr:`poses` for ``reason``."""
        _check_rejection(reason, n)
        self.rejected[reason] = self.rejected.get(reason, 0) + n

    def to_json(self) -> dict[str, Any]:
        """The results; ``rejected`` (poses refused by reason) only when some pose was."""
        out: dict[str, Any] = {
            "width": self.width,
            "height": self.height,
            "faces": [f.to_json() for f in self.faces],
            "poses": [p.to_json() for p in self.poses],
            "hands": [h.to_json() for h in self.hands],
        }
        if self.rejected:
            out["rejected"] = dict(sorted(self.rejected.items()))
        return out


def _check_rejection(reason: object, n: object) -> None:
    if reason not in REJECT_REASONS:
        raise InputError(
            f"FrameResult.rejected: expected a reason in {', '.join(REJECT_REASONS)}, got {reason!r}"
        )
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise InputError(f"FrameResult.rejected[{reason!r}]: expected a count ≥ 0, got {n!r}")


def _rows(arr: NDArray[np.float32]) -> list[list[float]]:
    return [[round(float(v), 3) for v in row] for row in arr]
