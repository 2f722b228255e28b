"""Single-shot detectors (BlazeFace, BlazePose detector, palm detector) on ONNX Runtime.

The model stage is :class:`SsdDetector` with one typed per-frame method, :meth:`detect`; box
decoding and weighted non-maximum suppression are pure numpy functions beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.detect.anchors import AnchorOptions, generate_anchors
from tryon.frame import Frame
from tryon.geometry import Roi, crop, letterbox, remove_letterbox, to_tensor
from tryon.runtime.session import OnnxModel
from tryon.timing import step


@dataclass(frozen=True)
class Detection:
    """A detection in image pixels: box ``(xmin, ymin, xmax, ymax)``, keypoints ``(K, 2)``, score."""

    box: tuple[float, float, float, float]
    keypoints: NDArray[np.float32]
    score: float

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]


@dataclass(frozen=True)
class DetectorSpec:
    model: str
    anchors: AnchorOptions
    num_keypoints: int
    scale: float
    """x/y/w/h scale of the raw regressors (the tensor size)."""
    value_range: tuple[float, float]
    min_score: float = 0.5
    nms_iou: float = 0.3


FACE_SHORT_RANGE = DetectorSpec(
    "face_detection_short_range",
    AnchorOptions(128, 128, (8, 16, 16, 16)),
    num_keypoints=6,
    scale=128.0,
    value_range=(-1.0, 1.0),
    min_score=0.5,
)
FACE_FULL_RANGE = DetectorSpec(
    "face_detection_full_range_sparse",
    AnchorOptions(192, 192, (4,), interpolated_scale_aspect_ratio=0.0),
    num_keypoints=6,
    scale=192.0,
    value_range=(-1.0, 1.0),
    min_score=0.6,
)
PALM = DetectorSpec(
    "palm_detection_full",
    AnchorOptions(192, 192, (8, 16, 16, 16)),
    num_keypoints=7,
    scale=192.0,
    value_range=(0.0, 1.0),
)
POSE = DetectorSpec(
    "pose_detection",
    AnchorOptions(224, 224, (8, 16, 32, 32, 32)),
    num_keypoints=4,
    scale=224.0,
    value_range=(-1.0, 1.0),
)


def decode_boxes(
    raw: NDArray[np.float32], anchors: NDArray[np.float32], scale: float, num_keypoints: int
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Raw regressors ``(N, 4 + 2K)`` → boxes ``(N, 4)`` ``xmin, ymin, xmax, ymax`` and keypoints
    ``(N, K, 2)``, all normalised to the detector tensor (MediaPipe layout: x, y, w, h first)."""
    cx = raw[:, 0] / scale + anchors[:, 0]
    cy = raw[:, 1] / scale + anchors[:, 1]
    w = raw[:, 2] / scale
    h = raw[:, 3] / scale
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    kp = raw[:, 4 : 4 + 2 * num_keypoints].reshape(-1, num_keypoints, 2) / scale + anchors[:, None, :]
    return boxes.astype(np.float32), kp.astype(np.float32)


def sigmoid_scores(logits: NDArray[np.float32], clip: float = 100.0) -> NDArray[np.float32]:
    x = np.clip(logits.reshape(-1).astype(np.float64), -clip, clip)
    return (1.0 / (1.0 + np.exp(-x))).astype(np.float32)


def _iou_one_to_many(box: NDArray[np.float32], boxes: NDArray[np.float32]) -> NDArray[np.float32]:
    ix = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    iy = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = ix * iy
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0).astype(np.float32)


def weighted_nms(
    boxes: NDArray[np.float32],
    keypoints: NDArray[np.float32],
    scores: NDArray[np.float32],
    iou_threshold: float,
) -> list[tuple[NDArray[np.float32], NDArray[np.float32], float]]:
    """MediaPipe's WEIGHTED non-maximum suppression.

    In descending score order, the top detection absorbs every remaining one whose IoU with it
    is above ``iou_threshold``; the box and keypoints become the score-weighted mean of the group,
    the score stays the top detection's.
    """
    order = np.argsort(-scores, kind="stable")
    remaining = order
    out = []
    while remaining.size:
        top = remaining[0]
        ious = _iou_one_to_many(boxes[top], boxes[remaining])
        group = remaining[ious > iou_threshold]
        if group.size == 0:  # degenerate (zero-area) top box: keep it alone
            group = remaining[:1]
        w = scores[group][:, None]
        total = float(w.sum())
        box = (boxes[group] * w).sum(axis=0) / total
        kp = (keypoints[group] * w[:, :, None]).sum(axis=0) / total
        out.append((box.astype(np.float32), kp.astype(np.float32), float(scores[top])))
        remaining = remaining[~np.isin(remaining, group)]
    return out


class SsdDetector:
    """Runs one SSD detector on a whole frame (letterboxed) and returns detections in pixels."""

    def __init__(self, model: OnnxModel, spec: DetectorSpec, exact_sampling: bool = False) -> None:
        self.model = model
        self.spec = spec
        self.exact_sampling = exact_sampling
        """Sample the input exactly as MediaPipe does (:func:`tryon.geometry.crop_exact`)."""
        self.anchors = generate_anchors(spec.anchors)
        self.input_name = next(iter(model.inputs))
        shape = model.inputs[self.input_name][0]
        self.tensor_h, self.tensor_w = int(shape[1]), int(shape[2])
        expected = (self.anchors.shape[0], 4 + 2 * spec.num_keypoints)
        out_shapes = [tuple(o.shape[1:]) for o in model.session.get_outputs()]
        if out_shapes[0] != expected:
            raise ValueError(f"{spec.model}: expected regressors of shape {expected}, got {out_shapes[0]}")

    def detect(self, frame: Frame, min_score: float | None = None) -> list[Detection]:
        """Detections in image pixels, best first (after weighted NMS)."""
        h, w = frame.shape[:2]
        with step("crop"):
            roi, padding = letterbox(Roi(w / 2, h / 2, w, h), self.tensor_w, self.tensor_h)
            size = (self.tensor_w, self.tensor_h)
            image = crop(frame, roi, *size, border=cv2.BORDER_CONSTANT, exact=self.exact_sampling)
            tensor = to_tensor(image, self.spec.value_range)
        out = self.model.run({self.input_name: tensor})
        with step("decode"):
            return self._decode(out, min_score, padding, w, h)

    def _decode(
        self,
        out: dict[str, NDArray[np.float32]],
        min_score: float | None,
        padding: tuple[float, float, float, float],
        w: int,
        h: int,
    ) -> list[Detection]:
        raw, logits = (out[n] for n in self.model.output_names)
        scores = sigmoid_scores(logits)
        keep = scores >= (self.spec.min_score if min_score is None else min_score)
        if not np.any(keep):
            return []
        boxes, kps = decode_boxes(raw[0][keep], self.anchors[keep], self.spec.scale, self.spec.num_keypoints)
        valid = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        results = []
        for box, kp, score in weighted_nms(boxes[valid], kps[valid], scores[keep][valid], self.spec.nms_iou):
            corners = remove_letterbox(box.reshape(2, 2), padding) * (w, h)
            points = remove_letterbox(kp, padding) * (w, h)
            if not (np.all(np.isfinite(corners)) and np.all(np.isfinite(points))):
                continue
            xmin, ymin, xmax, ymax = (float(v) for v in corners.reshape(-1))
            results.append(Detection((xmin, ymin, xmax, ymax), points.astype(np.float32), score))
        return results
