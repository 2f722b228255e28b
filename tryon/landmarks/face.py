"""Face mesh: 468 landmarks (x, y, z) and a face-presence score from a face ROI.

Geometry follows MediaPipe's FaceLandmarkCpu: a 192×192 stretched crop of the rotated ROI (edge
pixels replicated), values in [0, 1]; the next frame's ROI is the landmarks' bounding box turned
by the eye corners 33 → 263, made square and scaled by 1.5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tryon.detect.ssd import Detection
from tryon.frame import Frame
from tryon.geometry import Roi, apply_affine, crop, roi_from_box, rotation_between, tensor_to_image, to_tensor
from tryon.runtime.preprocess_graph import crop_feeds, is_fused
from tryon.runtime.session import OnnxModel
from tryon.timing import step

INPUT_SIZE = 192
ROI_SCALE = 1.5
RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 33, 263
"""The subject's right and left outer eye corners (image left and right in a non-mirrored frame)."""


@dataclass(frozen=True)
class FaceMeshOutput:
    landmarks: NDArray[np.float32]
    """``(468, 3)`` x, y, z in image pixels."""
    score: float
    """Face presence probability."""


def roi_from_detection(det: Detection) -> Roi:
    """Face detector box, turned so the eyes (keypoints 0 → 1) are level; square, ×1.5."""
    rotation = rotation_between(det.keypoints[0], det.keypoints[1], 0.0)
    return roi_from_box(*det.box, rotation=rotation).transformed(scale=ROI_SCALE, square_long=True)


def roi_from_landmarks(landmarks: NDArray[np.float32]) -> Roi:
    """Next-frame ROI: landmarks' box, rotation from the eye corners 33 → 263, square, ×1.5."""
    xy = landmarks[:, :2]
    rotation = rotation_between(xy[RIGHT_EYE_OUTER], xy[LEFT_EYE_OUTER], 0.0)
    x0, y0 = xy.min(axis=0)
    x1, y1 = xy.max(axis=0)
    return roi_from_box(float(x0), float(y0), float(x1), float(y1), rotation).transformed(
        scale=ROI_SCALE, square_long=True
    )


def decode(raw: NDArray[np.float32], flag: NDArray[np.float32], roi: Roi) -> FaceMeshOutput:
    """Model outputs (1404 values in 192-px units, presence logit) → landmarks in image pixels."""
    pts = raw.reshape(-1, 3)
    xy = apply_affine(tensor_to_image(roi, INPUT_SIZE, INPUT_SIZE), pts[:, :2])
    z = pts[:, 2:3] * (roi.width / INPUT_SIZE)
    logit = float(np.clip(flag.reshape(-1)[0], -80.0, 80.0))
    score = 1.0 / (1.0 + math.exp(-logit))
    return FaceMeshOutput(np.concatenate([xy, z], axis=1).astype(np.float32), score)


class FaceLandmarkModel:
    """Runs face_landmark on one ROI of a frame."""

    def __init__(self, model: OnnxModel) -> None:
        self.model = model
        self.fused = is_fused(model)
        """The model crops itself (``RuntimeConfig.gpu_preprocess``): the whole frame goes in."""
        self.input_name = next(iter(model.inputs))
        self.mesh_name, self.flag_name = model.output_names

    def run(self, frame: Frame, roi: Roi) -> FaceMeshOutput:
        with step("crop"):
            if self.fused:
                feeds = crop_feeds(frame, [roi], INPUT_SIZE, INPUT_SIZE)
            else:
                feeds = {self.input_name: to_tensor(crop(frame, roi, INPUT_SIZE, INPUT_SIZE), (0.0, 1.0))}
        out = self.model.run(feeds)
        with step("decode"):
            return decode(out[self.mesh_name], out[self.flag_name], roi)
