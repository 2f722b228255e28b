"""Hand landmarks (21 points, world points, presence, handedness) on ``hand_landmark_full``.

The model stage is :class:`HandLandmarkModel` with one typed per-frame method, :meth:`run`; the
pre/post-processing and the ROI conversions of MediaPipe's hand graphs (palm detection → hand
ROI, landmarks → next-frame ROI) are pure numpy functions beside it. Numbers follow
``docs/mediapipe-params.md`` §4 and §6.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.detect.ssd import Detection
from tryon.errors import InputError, ModelError
from tryon.frame import Frame
from tryon.geometry import (
    Roi,
    apply_affine,
    crop,
    letterbox,
    normalize_angle,
    roi_from_box,
    rotation_between,
    tensor_to_image,
    to_tensor,
)
from tryon.results import HAND_LANDMARKS
from tryon.runtime.preprocess_graph import crop_feeds, is_fused
from tryon.runtime.session import OnnxModel
from tryon.timing import step

INPUT_SIZE = 224
NORMALIZE_Z = 0.4
TARGET_ANGLE = math.pi / 2
PALM_SCALE = 2.6
PALM_SHIFT_Y = -0.5
NEXT_ROI_SCALE = 2.0
NEXT_ROI_SHIFT_Y = -0.1
ROI_SUBSET = (0, 1, 2, 3, 5, 6, 9, 10, 13, 14, 17, 18)
"""The landmarks HandLandmarksToRect uses: wrist, thumb base, and the base joints of each finger."""
_FLT_MIN = float(np.finfo(np.float32).tiny)


@dataclass(frozen=True)
class HandLandmarkOutput:
    """One hand-landmark inference on one ROI, in image pixels."""

    landmarks: NDArray[np.float32]
    """``(21, 3)``: x, y in pixels; z in pixels (relative to the wrist, smaller is nearer)."""
    world: NDArray[np.float32]
    """``(21, 3)`` metres, origin near the hand centre, rotated by the ROI rotation."""
    presence: float
    """Probability that a hand is in the ROI (the model outputs a probability)."""
    left_score: float
    """The model's probability of MediaPipe's label "Left". MediaPipe assumes a mirrored (selfie)
    image, so in a non-mirrored frame this is the probability of the person's *right* hand."""
    roi: Roi
    """The ROI the model ran on (before letterboxing)."""

    @property
    def handedness(self) -> tuple[str, float]:
        """The person's own hand in a non-mirrored frame and its probability: MediaPipe's "Left"
        is our "Right" and vice versa."""
        if self.left_score >= 0.5:
            return "Right", self.left_score
        return "Left", 1.0 - self.left_score


def palm_to_roi(detection: Detection) -> Roi:
    """Palm detection → hand ROI: box centre and size, rotation wrist (kp 0) → middle-finger base
    (kp 2) turned to 90°, shifted by −0.5 of the height along the ROI's y, square, ×2.6."""
    kp = detection.keypoints
    rotation = rotation_between(kp[0], kp[2], TARGET_ANGLE)
    roi = roi_from_box(*detection.box, rotation=rotation)
    return roi.transformed(scale=PALM_SCALE, shift_y=PALM_SHIFT_Y, square_long=True)


def landmarks_rotation(xy: NDArray[np.floating]) -> float:
    """Rotation from the wrist to the palm centre ((lm5 + lm13)/2 + lm9)/2, target 90°."""
    pts = np.asarray(xy, dtype=np.float64)
    palm = ((pts[5] + pts[13]) / 2 + pts[9]) / 2
    return rotation_between(pts[0], palm, TARGET_ANGLE)


def landmarks_to_rect(xy: NDArray[np.floating]) -> Roi:
    """MediaPipe's HandLandmarksToRect (before the ×2 transform): the bounding box of the 12-point
    subset in the hand's own rotated frame, centred and rotated back into the image."""
    pts = np.asarray(xy, dtype=np.float64)[list(ROI_SUBSET), :2]
    rotation = landmarks_rotation(np.asarray(xy, dtype=np.float64)[:, :2])
    # Axis-aligned centre; MediaPipe's max accumulators start at FLT_MIN, not −∞.
    lo = pts.min(axis=0)
    hi = np.maximum(pts.max(axis=0), _FLT_MIN)
    centre = (lo + hi) / 2
    back = normalize_angle(-rotation)
    c, s = math.cos(back), math.sin(back)
    rel = pts - centre
    proj = np.stack([rel[:, 0] * c - rel[:, 1] * s, rel[:, 0] * s + rel[:, 1] * c], axis=1)
    plo = proj.min(axis=0)
    phi = np.maximum(proj.max(axis=0), _FLT_MIN)
    pc = (plo + phi) / 2
    cr, sr = math.cos(rotation), math.sin(rotation)
    cx = pc[0] * cr - pc[1] * sr + centre[0]
    cy = pc[0] * sr + pc[1] * cr + centre[1]
    return Roi(float(cx), float(cy), float(phi[0] - plo[0]), float(phi[1] - plo[1]), rotation)


def landmarks_to_roi(xy: NDArray[np.floating]) -> Roi:
    """Hand landmarks (pixels) → next-frame ROI: :func:`landmarks_to_rect`, shifted by −0.1 of the
    height along the ROI's y, square, ×2.0."""
    rect = landmarks_to_rect(xy)
    return rect.transformed(scale=NEXT_ROI_SCALE, shift_y=NEXT_ROI_SHIFT_Y, square_long=True)


def preprocess(
    frame: Frame, roi: Roi, size: int = INPUT_SIZE, exact: bool = False
) -> tuple[NDArray[np.float32], Roi]:
    """Letterboxed crop of ``roi`` (border replicated) as a ``(1, size, size, 3)`` tensor in [0, 1],
    and the padded ROI that the tensor covers. ``exact`` reproduces MediaPipe's sampling bit for
    bit (:func:`tryon.geometry.crop_exact`); otherwise modern OpenCV's bilinear warp is used."""
    padded, _ = letterbox(roi, size, size)
    image = crop(frame, padded, size, size, border=cv2.BORDER_REPLICATE, exact=exact)
    return to_tensor(image, (0.0, 1.0)), padded


def decode_landmarks(
    raw: NDArray[np.float32], padded_roi: Roi, size: int = INPUT_SIZE
) -> NDArray[np.float32]:
    """Raw ``(63,)`` tensor-pixel landmarks → ``(21, 3)`` image pixels.

    x, y go through the tensor → image map of the padded ROI (letterbox removal and projection in
    one step); z = raw_z / 0.4 · padded_roi_width / size.
    """
    pts = np.asarray(raw, dtype=np.float32).reshape(HAND_LANDMARKS, 3)
    out = np.empty((HAND_LANDMARKS, 3), dtype=np.float32)
    out[:, :2] = apply_affine(tensor_to_image(padded_roi, size, size), pts[:, :2])
    out[:, 2] = pts[:, 2] / NORMALIZE_Z * (padded_roi.width / size)
    return out


def decode_world(raw: NDArray[np.float32], rotation: float) -> NDArray[np.float32]:
    """Raw ``(63,)`` world landmarks (metres) → ``(21, 3)``, x and y rotated by the ROI rotation."""
    pts = np.asarray(raw, dtype=np.float32).reshape(HAND_LANDMARKS, 3)
    c, s = math.cos(rotation), math.sin(rotation)
    out = pts.copy()
    out[:, 0] = c * pts[:, 0] - s * pts[:, 1]
    out[:, 1] = s * pts[:, 0] + c * pts[:, 1]
    return out


class HandLandmarkModel:
    """Runs ``hand_landmark_full`` on one rotated ROI of a frame."""

    def __init__(self, model: OnnxModel, exact_sampling: bool = False) -> None:
        self.model = model
        self.exact_sampling = exact_sampling
        self.input_name = next(iter(model.inputs))
        self.fused = is_fused(model)
        """The model crops itself (``RuntimeConfig.gpu_preprocess``; never MediaPipe-exact)."""
        shape = tuple(model.inputs[self.input_name][0])
        if not self.fused and shape != (1, INPUT_SIZE, INPUT_SIZE, 3):
            raise ModelError(f"{model.name}: expected input (1, {INPUT_SIZE}, {INPUT_SIZE}, 3), got {shape}")
        if len(model.output_names) != 4:
            raise ModelError(
                f"{model.name}: expected 4 outputs (landmarks, presence, handedness, world), "
                f"got {len(model.output_names)}"
            )

    def run(self, frame: Frame, roi: Roi) -> HandLandmarkOutput:
        """Landmarks of the hand in ``roi`` (pixels of ``frame``)."""
        if not roi.valid:
            raise InputError(f"hand ROI: expected a finite, non-empty rectangle, got {roi}")
        with step("crop"):
            if self.fused:
                padded, _ = letterbox(roi, INPUT_SIZE, INPUT_SIZE)
                feeds = crop_feeds(frame, [padded], INPUT_SIZE, INPUT_SIZE)
            else:
                tensor, padded = preprocess(frame, roi, exact=self.exact_sampling)
                feeds = {self.input_name: tensor}
        out = self.model.run(feeds)
        raw, flag, handed, world = (out[n] for n in self.model.output_names)
        with step("decode"):
            return HandLandmarkOutput(
                landmarks=decode_landmarks(raw.reshape(-1), padded),
                world=decode_world(world.reshape(-1), roi.rotation),
                presence=float(flag.reshape(-1)[0]),
                left_score=float(handed.reshape(-1)[0]),
                roi=roi,
            )
